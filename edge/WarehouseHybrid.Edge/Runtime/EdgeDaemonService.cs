using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Metrics;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Runtime;

/// <summary>
/// Hosts one <see cref="EdgeRuntime"/> in the daemon: its serial side is the raw tty at
/// <see cref="EdgeOptions.SerialDevicePath"/> (reopened after an unplug), and a <see cref="DaemonSupervisor"/> reports
/// to systemd (READY=1, STATUS=, WATCHDOG=1 while the control loop progresses, STOPPING=1) and writes the health file.
/// </summary>
public sealed class EdgeDaemonService : IHostedService, IDaemonHealthSource, IAsyncDisposable
{
    private readonly IOptions<EdgeOptions> _options;
    private readonly IOptions<DaemonOptions> _daemon;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private EdgeRuntime? _runtime;
    private DaemonSupervisor? _supervisor;
    private SystemdNotifier? _notifier;
    private SiteSensorSubscriber? _site;
    private PrometheusEndpoint? _metrics;
    private int _disposed;

    /// <summary>Creates the service.</summary>
    public EdgeDaemonService(IOptions<EdgeOptions> options, IOptions<DaemonOptions> daemon, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _daemon = daemon ?? throw new ArgumentNullException(nameof(daemon));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
    }

    /// <summary>The hosted runtime once started.</summary>
    public EdgeRuntime? Runtime => _runtime;

    /// <summary>The supervisor once started.</summary>
    public DaemonSupervisor? Supervisor => _supervisor;

    /// <summary>The metrics endpoint when enabled.</summary>
    public PrometheusEndpoint? MetricsEndpoint => _metrics;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = _options.Value;
        var d = _daemon.Value;
        if (d.Metrics.Enabled)
        {
            _metrics = new PrometheusEndpoint(d.Metrics);
        }

        var tty = new TtyOptions(o.SerialDevicePath, d.SerialBaudRate, d.SerialWriteTimeout, TimeSpan.FromMilliseconds(50));
        _runtime = new EdgeRuntime(o, new TtyTransport(tty, _time), _time, _loggerFactory);
        if (d.SiteSensorsEnabled && !o.CloudLinkEnabled)
        {
            // Site sensors ride on the link's connection: with the link off they can never arrive, so the robot
            // treats them as missing (stale from the start: speed cap, as for a lost site connection).
            _runtime.Sensors.AttachSiteLink(static () => false);
        }
        else if (d.SiteSensorsEnabled)
        {
            // Site sensors ride on the link's one MQTT connection (one reconnect loop, one TLS identity).
            var runtime = _runtime;
            _site = new SiteSensorSubscriber(
                new SiteSensorSettings(o.SiteId, d.ParseZones(), d.SiteZoneResolveInterval),
                runtime.Sensors, () => RobotCell(runtime, o.MapWidth), _time, _loggerFactory.CreateLogger("WarehouseHybrid.Edge.Sensing.Site"));
            runtime.AddLinkSubscription(_site);

            // From here the control loop knows whether the site facts are current (stale or missing: speed cap):
            // they arrive on the link's connection, so they are current while it is up.
            runtime.Sensors.AttachSiteLink(() => runtime.LinkConnected);
        }

        await _runtime.StartAsync(cancellationToken).ConfigureAwait(false);
        _site?.Start();

        _notifier = SystemdNotifier.FromEnvironment();
        _supervisor = new DaemonSupervisor(
            this, _notifier, SystemdNotifier.WatchdogInterval(), d.HealthCheckInterval, d.ResolveHealthFile(), _time,
            _loggerFactory.CreateLogger("WarehouseHybrid.Edge.Hosting.Supervisor"));
        _supervisor.Start();
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _supervisor?.Stopping();
        _site?.Dispose();
        if (_runtime is not null)
        {
            await _runtime.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static (int X, int Y)? RobotCell(EdgeRuntime runtime, int mapWidth) =>
        runtime.GetStatus().DiscretePose is { } p ? (p.Cell % mapWidth, p.Cell / mapWidth) : null;

    /// <inheritdoc />
    public DaemonHealthSample? Sample()
    {
        var runtime = _runtime;
        if (runtime is null)
        {
            return null;
        }

        var s = runtime.GetStatus();
        runtime.Sensors.Read(out var snapshot);
        double? siteAgeMs = snapshot.Site.HasData ? _time.GetElapsedTime(snapshot.Site.ReceivedTimestamp).TotalMilliseconds : null;
        return new DaemonHealthSample(
            s.Running, s.Loop.Ticks, s.Loop.Overruns, s.Loop.Lateness.P99Us, s.Loop.Work.P99Us, s.Mode.ToString(), s.Reason.ToText(),
            s.Board, runtime.BoardSilent, s.Serial, _options.Value.CloudLinkEnabled, s.CloudConnected, siteAgeMs)
        {
            ModelVersion = s.ModelVersion,
            ExecutionProvider = s.ExecutionProvider?.ToString() ?? string.Empty,
            ModelRefusal = s.ModelInstall is { Installed: false } refused ? $"{refused.Refusal}: {refused.Detail}" : string.Empty,
            LearnedTicks = s.Decisions?.LearnedTicks ?? 0,
            ModelOnProbation = s.ModelOnProbation,
            ModelRollbacks = s.ModelRollbacks,
            ImmediateTicks = s.ImmediateTicks,
            AllocatedBytes = s.AllocatedBytes,
            SiteStale = s.SiteStale,
            Audit = runtime.AuditLog is { } audit && s.Audit is { } c ? new DaemonAuditHealth(c.HeadSeq, audit.Head.Hash, c.Written, c.Dropped, c.Lost) : null,
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // The container disposes this twice (it is both a singleton and the hosted service's factory result).
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _site?.Dispose();
        _supervisor?.Dispose();
        _notifier?.Dispose();
        if (_runtime is not null)
        {
            await _runtime.DisposeAsync().ConfigureAwait(false);
        }

        _metrics?.Dispose();
    }
}

/// <summary>Startup validation of <see cref="EdgeOptions"/> (the same rules <see cref="EdgeRuntime"/> applies).</summary>
public sealed class EdgeOptionsValidator : IValidateOptions<EdgeOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EdgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
