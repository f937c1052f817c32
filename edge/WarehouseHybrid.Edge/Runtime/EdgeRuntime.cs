using Microsoft.Extensions.Logging;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Edge.Metrics;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Runtime;

/// <summary>
/// One robot's edge runtime: board link, sensor snapshot, dead reckoning, plan executor, rule policy, safety shield,
/// control loop and cloud link, composed from <see cref="EdgeOptions"/>. Holds no static state, so a process can
/// host many (the demo runs 20 robots in-process); the daemon hosts one.
/// With <see cref="EdgeOptions.ModelPackagePath"/> set, the driving policy is <see cref="RuntimeAssurancePolicy"/>
/// (the learned model through a <see cref="ModelManager"/>, the rule policy as fallback); the package is installed
/// at start, and a refused package leaves the rule policy driving (the reason is logged and in the status).
/// With trusted model keys and a model store (<see cref="EdgeOptions.ResolveModelStore"/>), packages can also arrive at run
/// time (<see cref="ModelInstaller"/>, the store's drop directory). With an audit directory
/// (<see cref="AuditOptions.ResolveDirectory"/>) every mode change, fallback, model swap and escalation is audited.
/// </summary>
public sealed partial class EdgeRuntime : IAsyncDisposable
{
    private readonly EdgeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BoardLink _board;
    private readonly ControlLoop _loop;
    private readonly CloudLink? _cloud;
    private readonly ModelManager? _models;
    private readonly RuntimeAssurancePolicy? _assurance;
    private readonly SensorSnapshotStore _sensors = new();
    private readonly AuditLog? _audit;
    private readonly EdgeMetrics _metrics = new();
    private ModelRolloutService? _rollout;
    private ModelDeploymentHandler? _deployments;
    private readonly IRobotEventSink _auditedEvents;
    private readonly Lock _lifecycle = new();
    private int _state; // 0 created, 1 started, 2 stopped

    /// <summary>Creates a runtime over a serial stream the caller already has (the in-process demo, tests).</summary>
    public EdgeRuntime(EdgeOptions options, Stream serial, TimeProvider time, ILoggerFactory loggerFactory)
        : this(options, new ExistingStreamTransport(serial), time, loggerFactory)
    {
    }

    /// <summary>Creates a runtime; throws <see cref="ArgumentException"/> listing every invalid option.</summary>
    public EdgeRuntime(EdgeOptions options, IBoardTransportFactory transport, TimeProvider time, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid edge options: " + string.Join("; ", errors), nameof(options));
        }

        _options = options.Clone();
        _time = time;
        _logger = loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Runtime.{_options.RobotId}");
        var map = OpenMap(_options.MapWidth, _options.MapHeight);
        var limits = new KinematicLimits(
            _options.MaxLinearMps, _options.MaxAngularRadps, _options.LinearAccel, _options.AngularAccel, _options.BrakeDecel,
            _options.SafetyMarginMetres, _options.RobotHalfWidthMetres, _options.ObstacleSlowdownMetres, _options.RestLinearMps);
        var tolerances = new CompletionTolerances(_options.PositionTolerance, _options.AngleTolerance, _options.RestLinearMps, _options.RestAngularRadps);
        var plan = new PlanExecutor(map, _options.Geometry, tolerances);
        var shield = new SafetyShield(limits, (ushort)_options.BoardCommandTimeoutMs, _options.SiteStaleSpeedLimitMps);
        RobotPose? start = _options.StartCell is { } cell ? new RobotPose(cell, _options.StartHeading!.Value) : null;
        var settings = new ControlLoopSettings(_options.ControlPeriod, _options.SensorStaleAfter, map, _options.Geometry, limits, start);

        _board = new BoardLink(transport, _sensors, time, loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Serial.{_options.RobotId}"),
            new BoardLinkSettings(_options.ReconnectDelay, _options.MaxReconnectDelay, _options.SensorStaleAfter, _options.ShutdownTimeout));
        var loopLogger = loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Control.{_options.RobotId}");
        if (!string.IsNullOrEmpty(_options.ModelPackagePath) || _options.TrustedModelKeys.Count > 0)
        {
            _models = CreateModelManager(_options, time, loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Models.{_options.RobotId}"));
        }

        if (_options.Audit.ResolveDirectory() is { } auditDirectory)
        {
            _audit = new AuditLog(auditDirectory, _options.Audit, _options.RobotId, time, loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Audit.{_options.RobotId}"));
        }

        IAuditSink audit = (IAuditSink?)_audit ?? NullAuditSink.Instance;
        var extras = new ControlLoopExtras
        {
            Audit = audit,
            Metrics = _metrics,
            SiteStaleAfter = _options.SiteStaleAfter,
            DecisionAuditEveryTicks = _options.Audit.DecisionSampleInterval <= TimeSpan.Zero ? 0 : Math.Max(1, (int)(_options.Audit.DecisionSampleInterval / _options.ControlPeriod)),
        };

        if (_options.CloudLinkEnabled)
        {
            var inbox = new DeferredInbox();
            _cloud = new CloudLink(
                new CloudLinkSettings(_options.RobotId, _options.SiteId, _options.MqttHost, _options.MqttPort,
                    TimeSpan.FromSeconds(1.0 / _options.TelemetryRateHz), _options.ReconnectDelay, _options.MaxReconnectDelay, _options.MapWidth)
                { Link = _options.Link },
                inbox, time, loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Link.{_options.RobotId}"));
            _auditedEvents = new AuditingEventSink(_cloud, audit, ModelVersionNow);
            _assurance = CreateAssurance(_models, limits, _auditedEvents, _cloud.Escalation, time, loggerFactory);
            _loop = new ControlLoop(settings, _sensors, plan, (IDrivingPolicy?)_assurance ?? new RulePolicy(limits), shield, _board, _cloud, _cloud, time, loopLogger, extras);
            inbox.Target = _loop;
        }
        else
        {
            _auditedEvents = new AuditingEventSink(NullSinks.Instance, audit, ModelVersionNow);
            _assurance = CreateAssurance(_models, limits, _auditedEvents, NullEscalationClient.Instance, time, loggerFactory);
            _loop = new ControlLoop(settings, _sensors, plan, (IDrivingPolicy?)_assurance ?? new RulePolicy(limits), shield, _board, NullSinks.Instance, NullSinks.Instance, time, loopLogger, extras);
        }

        WireExtras(shield, loggerFactory);
    }

    /// <summary>The robot id.</summary>
    public string RobotId => _options.RobotId;

    /// <summary>The sensor snapshot store (a second source, the site sensor subscriber, publishes into it).</summary>
    public SensorSnapshotStore Sensors => _sensors;

    /// <summary>Whether the board sent no sensor frame within <see cref="EdgeOptions.SensorStaleAfter"/> (health reporting).</summary>
    public bool BoardSilent => _board.IsSilent;

    /// <summary>The robot's MQTT link (null when <see cref="EdgeOptions.CloudLinkEnabled"/> is off).</summary>
    public CloudLink? Link => _cloud;

    /// <summary>Whether the link's MQTT connection is up now (false when the link is off).</summary>
    public bool LinkConnected => _cloud?.IsConnected ?? false;

    /// <summary>Adds a subscriber on the link's one MQTT connection (site sensors); before <see cref="StartAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">The cloud link is off.</exception>
    public void AddLinkSubscription(ILinkSubscription subscription) =>
        (_cloud ?? throw new InvalidOperationException($"robot '{RobotId}': Edge:CloudLinkEnabled is false, so there is no MQTT connection to subscribe on"))
            .AddSubscription(subscription);

    /// <summary>The control loop (for plan messages posted in-process and for tests).</summary>
    public IPlanInbox PlanInbox => _loop;

    /// <summary>Installs model packages at run time (the cloud link's rollout seam); null without trusted keys or a model store.</summary>
    public IModelInstaller? ModelInstaller => _rollout;

    /// <summary>The cloud rollout's deployment handler (<c>cmd/model</c>); null when the cloud link is off.</summary>
    public ModelDeploymentHandler? ModelDeployments => _deployments;

    /// <summary>The run-time rollout with its drop directory (null without trusted keys or a model store).</summary>
    public ModelRolloutService? ModelRollout => _rollout;

    /// <summary>Audit records as they are committed (for the cloud link); null when auditing is off.</summary>
    public IAuditFeed? AuditFeed => _audit;

    /// <summary>The audit log (null when auditing is off).</summary>
    public AuditLog? AuditLog => _audit;

    /// <summary>The runtime's instruments (meter <see cref="EdgeMetrics.MeterName"/>).</summary>
    public EdgeMetrics Metrics => _metrics;

    /// <summary>Starts the board link, the control loop thread and the cloud link (which connects in the background).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycle)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException($"edge runtime '{RobotId}' can be started once; it is {(_state == 1 ? "running" : "stopped")}");
            }

            _state = 1;
        }

        _audit?.Start();
        _rollout?.Start();
        InstallModel();
        _deployments?.Start();
        _board.Start();
        _loop.Start();
        if (_cloud is not null)
        {
            await _cloud.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        LogStarted(_logger, RobotId, _options.ControlRateHz, _options.CloudLinkEnabled ? $"{_options.MqttHost}:{_options.MqttPort}" : "off");
    }

    /// <summary>
    /// Clean shutdown: stop the loop (a brake command is sent), flush it to the board, publish a last telemetry
    /// and disconnect, join every thread within <see cref="EdgeOptions.ShutdownTimeout"/> each.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycle)
        {
            if (_state != 1)
            {
                _state = 2;
                return;
            }

            _state = 2;
        }

        var timeout = _options.ShutdownTimeout;
        var loopJoined = _loop.Stop(timeout);
        var boardJoined = _board.Stop(timeout);
        if (_cloud is not null)
        {
            await _cloud.StopAsync(timeout).ConfigureAwait(false);
        }

        if (_deployments is not null)
        {
            // After the link: no deployment arrives any more; an install in progress finishes or is cancelled.
            await _deployments.DisposeAsync().ConfigureAwait(false);
        }

        if (!loopJoined || !boardJoined)
        {
            LogStopIncomplete(_logger, RobotId, loopJoined, boardJoined);
        }

        if (loopJoined)
        {
            // The control thread owns the session while it runs; once it has ended the ONNX session can go.
            _rollout?.Dispose();
            _models?.Dispose();
        }

        // Last: the loop's final brake and mode change are in the queue; the writer drains it and closes the chain.
        _audit?.Stop(timeout);
        LogStopped(_logger, RobotId);
    }

    /// <summary>A read-only status picture (allocates; call at display rate, not per tick).</summary>
    public EdgeStatus GetStatus()
    {
        var s = _loop.Latest;
        var active = _models?.Current;
        return new EdgeStatus(
            RobotId,
            Volatile.Read(ref _state) == 1,
            s.Localized,
            s.Pose,
            s.HasDiscretePose ? s.DiscretePose : null,
            s.LastCompletedStep,
            s.GrantedThroughStep,
            s.Mode,
            s.Reason,
            s.Activity,
            s.Command,
            s.SensorsStale,
            _board.State,
            _cloud?.IsConnected ?? false,
            _loop.Counters,
            _board.Counters,
            _cloud?.Counters ?? default)
        {
            ModelVersion = active?.Manifest.Version ?? string.Empty,
            ExecutionProvider = active?.Provider,
            ProviderAttempts = active?.ProviderAttempts ?? [],
            ModelInstall = _models?.LastInstall,
            Decisions = _assurance?.Counters,
            SiteStale = s.SiteStale,
            Audit = _audit?.Counters,
            ImmediateTicks = _loop.ImmediateTicks,
            AllocatedBytes = _loop.AllocatedBytes,
            AllocatingTicks = _loop.AllocatingTicks,
            ModelOnProbation = _models?.OnProbation ?? false,
            ModelRollbacks = _models?.Rollbacks ?? 0,
            ModelDeployments = _deployments?.Counters ?? default,
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (_cloud is not null)
        {
            await _cloud.DisposeAsync().ConfigureAwait(false);
        }

        if (_deployments is not null)
        {
            await _deployments.DisposeAsync().ConfigureAwait(false);
        }

        _loop.Dispose();
        _board.Dispose();
        _rollout?.Dispose();
        _models?.Dispose();
        _audit?.Dispose();
        _metrics.Dispose();
    }

    private static ModelManager CreateModelManager(EdgeOptions options, TimeProvider time, ILogger logger)
    {
        ModelPackageLoader loader;
        try
        {
            loader = new ModelPackageLoader(options.ResolveTrustedModelKeys());
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"invalid edge options: Edge:TrustedModelKeys: {ex.Message}", nameof(options), ex);
        }

        var inference = new InferenceOptions { ExecutionProviders = [.. options.ParsedExecutionProviders()], Deadline = options.InferenceDeadline };
        return new ModelManager(loader, inference, options.ModelRollout, time, logger);
    }

    private string ModelVersionNow() => _models?.Current?.Manifest.Version ?? string.Empty;

    /// <summary>For the danger-to-brake measurement only: "off" (brakes wait for the tick schedule), "tick" (immediate tick, no urgent write), "full".</summary>
    internal void SetBrakeTriggerForMeasurement(string mode, SafetyShield shield) => _board.FrameWatcher = mode switch
    {
        "off" => null,
        "tick" => new BrakeTrigger(shield, null, _loop),
        _ => new BrakeTrigger(shield, _board, _loop),
    };

    /// <summary>The brake trigger, the run-time rollout and the observable metrics (after the loop exists).</summary>
    private void WireExtras(SafetyShield shield, ILoggerFactory loggerFactory)
    {
        _board.FrameWatcher = new BrakeTrigger(shield, _board, _loop);
        if (_assurance is not null)
        {
            _assurance.Metrics = _metrics;
        }

        if (_models is not null && _options.TrustedModelKeys.Count > 0 && _options.ResolveModelStore() is { } store)
        {
            _rollout = new ModelRolloutService(_models, new ModelStoreSettings(store, _options.ModelStorePollInterval), _auditedEvents, _time,
                loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Models.Rollout.{_options.RobotId}"));
        }

        WireCloudRollout(loggerFactory);
        _metrics.Observe(new EdgeMetricSources(_loop, _board, _assurance, _models, _audit, _options.RobotId, _options.SiteId, _deployments));
    }

    /// <summary>The cloud rollout's side of the link: <c>cmd/model</c> to the installer, and model health in telemetry.</summary>
    private void WireCloudRollout(ILoggerFactory loggerFactory)
    {
        if (_cloud is null)
        {
            return;
        }

        // Without an installer the handler still answers every deployment (rejected, saying why): the rollout learns it.
        _deployments = new ModelDeploymentHandler(_options.RobotId, _rollout, () => _models?.Current, _rollout is null ? null : _options.ResolveModelStore(),
            _auditedEvents, _time, loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Models.Deployment.{_options.RobotId}"),
            new ModelDeploymentLimits(MaxPayloadBytes: _options.Link.MaxModelDeploymentBytes));
        _cloud.ModelDeployments = _deployments;
        if (_models is not null)
        {
            _models.Lifecycle += _deployments.OnLifecycle;
        }

        if (_assurance is not null)
        {
            _cloud.ModelHealthSource = new ModelHealthReporter(_assurance).Build;
        }
    }

    private RuntimeAssurancePolicy? CreateAssurance(ModelManager? models, KinematicLimits limits, IRobotEventSink events, IEscalationClient escalation, TimeProvider time, ILoggerFactory loggerFactory) =>
        models is null
            ? null
            : new RuntimeAssurancePolicy(_options.RuntimeAssurance, limits, models, escalation, events, time,
                loggerFactory.CreateLogger($"WarehouseHybrid.Edge.Decision.{_options.RobotId}"), _options.RobotId);

    private void InstallModel()
    {
        if (_models is null)
        {
            return;
        }

        // The last model that passed probation at run time comes first; the configured package is the fallback.
        // Verification, session start and self-test throw nothing the robot cannot drive without: any refusal
        // leaves the rule policy in charge.
        foreach (var path in new[] { _rollout?.LastGoodPackage(), _options.ModelPackagePath })
        {
            if (string.IsNullOrEmpty(path))
            {
                continue;
            }

            var result = _models.TryInstall(path);
            if (result.Installed)
            {
                LogModelInstalled(_logger, RobotId, result.Detail);
                _auditedEvents.Offer(new RobotEventRecord("model-staged", $"{result.Detail}; from {path} at start", _time.GetUtcNow(), string.Empty));
                return;
            }

            LogModelRefused(_logger, RobotId, path, result.Refusal, result.Detail);
            _auditedEvents.Offer(new RobotEventRecord("model-refused", $"{result.Refusal}: {result.Detail} (from {path} at start)", _time.GetUtcNow(), string.Empty));
        }
    }

    private static GridMap OpenMap(int width, int height)
    {
        // The executor only needs coordinates; obstacles are the cloud's and the range sensors' business.
        var kinds = new CellKind[width * height];
        return new GridMap(width, height, kinds, "edge");
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Edge runtime {RobotId} started: control {RateHz} Hz, broker {Broker}")]
    private static partial void LogStarted(ILogger logger, string robotId, int rateHz, string broker);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Edge runtime {RobotId} stopped")]
    private static partial void LogStopped(ILogger logger, string robotId);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Edge runtime {RobotId}: threads did not end in time (control {LoopJoined}, serial {BoardJoined})")]
    private static partial void LogStopIncomplete(ILogger logger, string robotId, bool loopJoined, bool boardJoined);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Edge runtime {RobotId}: learned policy installed: {Detail}")]
    private static partial void LogModelInstalled(ILogger logger, string robotId, string detail);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Edge runtime {RobotId}: model package {Path} refused ({Refusal}): {Detail}; the rule policy drives")]
    private static partial void LogModelRefused(ILogger logger, string robotId, string path, ModelRefusal refusal, string detail);

    /// <summary>Breaks the construction cycle loop to link to loop.</summary>
    private sealed class DeferredInbox : IPlanInbox
    {
        public IPlanInbox? Target { get; set; }

        public void Post(Contracts.Fleet.PlanSegment segment) => Target?.Post(segment);

        public void Post(Contracts.Fleet.GrantUpdate grant) => Target?.Post(grant);

        public void Post(Contracts.Fleet.TaskAssignment task) => Target?.Post(task);
    }
}
