using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Hil.Board;
using WarehouseHybrid.Hil.Demo;
using WarehouseHybrid.Hil.Fleet;
using WarehouseHybrid.Hil.Time;
using WarehouseHybrid.Hil.World;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>How a <see cref="DaemonRig"/> is built.</summary>
public sealed record DaemonRigOptions
{
    /// <summary>The map.</summary>
    public required GridMap Map { get; init; }

    /// <summary>Robots, each an edge daemon process.</summary>
    public int Robots { get; init; } = 3;

    /// <summary>Seed for start cells, tasks and faults.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Explicit start cells, or null for seeded random ones.</summary>
    public IReadOnlyList<int>? StartCells { get; init; }

    /// <summary>Changes to each robot's edge options (model packages, slow inference).</summary>
    public Action<int, EdgeOptions>? ConfigureEdge { get; init; }

    /// <summary>Changes to the world's options.</summary>
    public Func<SimWorldOptions, SimWorldOptions>? ConfigureWorld { get; init; }

    /// <summary>Whether tasks are fed to the site.</summary>
    public bool Tasks { get; init; } = true;

    /// <summary>The edge daemon program (WarehouseHybrid.Edge.dll); null finds it beside the rig.</summary>
    public string? EdgeDll { get; init; }

    /// <summary>
    /// Whether a broker restart holds the robots' proxies until the rig's observer is subscribed again. Insurance
    /// only: the observer's persistent session on the persistent broker keeps what robots publish first (the
    /// guarantee does not depend on the hold; scenario --no-broker-hold runs without it).
    /// </summary>
    public bool HoldRobotsOnBrokerRestart { get; init; } = true;
}

/// <summary>
/// Real edge daemons on one machine: a real Mosquitto (child process), the Orleans silo with the optimizer (in the
/// rig's process, so it can be killed and restarted), and per robot a socat pseudo-terminal pair, a
/// <see cref="VirtualBoard"/> on its board end, a <see cref="TcpProxy"/> between the daemon and the broker, and an
/// unmodified <c>WarehouseHybrid.Edge</c> daemon process started with command-line options and stopped by its pid.
/// The world runs in real time (<see cref="WorldDriver"/>). Every fault has a method here.
/// </summary>
public sealed class DaemonRig : IAsyncDisposable
{
    /// <summary>The site id the daemons use.</summary>
    public const string SiteId = "hil";

    private readonly DaemonRigOptions _options;
    private readonly string _dir;
    private readonly ILoggerFactory _loggers;
    private readonly List<Robot> _robots = [];
    private readonly SkewedTimeProvider _cloudClock = new(TimeProvider.System, TimeSpan.Zero);
    private readonly TaskFeeder _feeder;
    private IHost? _silo;
    private int _siloGeneration;

    private DaemonRig(DaemonRigOptions options, string dir, ILoggerFactory loggers)
    {
        _options = options;
        _dir = dir;
        _loggers = loggers;
        _feeder = new TaskFeeder(options.Map, 2, options.Seed);
        var worldOptions = new SimWorldOptions
        {
            MaxLinearSpeedMps = 2.5, MaxAngularSpeedRadps = 5, MaxLinearAccelerationMps2 = 4, MaxAngularAccelerationRadps2 = 20,
            BrakeDecelerationMps2 = 5, BrakeAngularDecelerationRadps2 = 40, NoiseSeed = options.Seed,
            ShieldBrakeDecelerationMps2 = LockstepFleet.EdgeBrakeDecel,
        };
        World = new SimWorld(options.Map, options.ConfigureWorld?.Invoke(worldOptions) ?? worldOptions);
    }

    /// <summary>The world.</summary>
    public SimWorld World { get; }

    /// <summary>The real-time world driver.</summary>
    public WorldDriver? Driver { get; private set; }

    /// <summary>The broker.</summary>
    public MosquittoBroker Broker { get; private set; } = null!;

    /// <summary>The rig's telemetry observer on the broker.</summary>
    public TelemetryObserver Observer { get; private set; } = null!;

    /// <summary>Robots.</summary>
    public int Count => _robots.Count;

    /// <summary>Whether the silo runs.</summary>
    public bool SiloRunning => _silo is not null;

    /// <summary>Telemetry records the silos' bridges routed (summed over restarts).</summary>
    public long CloudTelemetry => _routedBefore + (_silo?.GetBridge()?.Stats.TelemetryRouted ?? 0);

    private long _routedBefore;

    /// <summary>Tasks finished (summed over silo restarts).</summary>
    public long TasksFinished { get; private set; }

    /// <summary>Site steps (summed over silo restarts).</summary>
    public long SiteSteps { get; private set; }

    private long _finishedBefore;
    private long _stepsBefore;

    /// <summary>Robot id by index.</summary>
    public string IdOf(int robot) => _robots[robot].Id;

    /// <summary>The edge options a robot's daemon was started with.</summary>
    public EdgeOptions EdgeOptionsOf(int robot) => _robots[robot].Edge.Clone();

    /// <summary>The robot's daemon process.</summary>
    public ChildProcess DaemonOf(int robot) => _robots[robot].Daemon;

    /// <summary>Finds the edge daemon program beside the rig (the rig's build copies it).</summary>
    public static string FindEdgeDll() =>
        new[] { Path.Combine(AppContext.BaseDirectory, "WarehouseHybrid.Edge.dll") }.FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"WarehouseHybrid.Edge.dll not found beside the rig in {AppContext.BaseDirectory}");

    /// <summary>Starts everything; returns when every daemon's control loop reports health.</summary>
    public static async Task<DaemonRig> StartAsync(DaemonRigOptions options, ILoggerFactory loggers, TextWriter? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dir = Directory.CreateTempSubdirectory("wh-hil-rig-").FullName;
        var rig = new DaemonRig(options, dir, loggers);
        try
        {
            await rig.StartPartsAsync(progress, cancellationToken).ConfigureAwait(false);
            return rig;
        }
        catch
        {
            await rig.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Keeps the site's task pool topped up and refreshes the site counters; call about once a second.</summary>
    public async Task TickAsync()
    {
        if (_silo is null || !_options.Tasks)
        {
            return;
        }

        try
        {
            var site = _silo.GetSite(SiteId);
            var stats = await site.GetStatsAsync().ConfigureAwait(false);
            var target = (int)Math.Ceiling(1.5 * Count);
            if (stats.OpenTasks < target)
            {
                await site.SubmitTasksAsync(_feeder.Next(target - stats.OpenTasks)).ConfigureAwait(false);
            }

            TasksFinished = _finishedBefore + stats.TasksFinished;
            SiteSteps = _stepsBefore + stats.Step;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // the silo is going down or coming up
        }
    }

    /// <summary>The decision mode and reason from a daemon's health file ("?" before the first).</summary>
    public (string Mode, string Reason) Health(int robot)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(_robots[robot].HealthFile));
            var loop = doc.RootElement.GetProperty("loop");
            return (loop.GetProperty("mode").GetString() ?? "?", loop.GetProperty("reason").GetString() ?? "?");
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return ("?", "?");
        }
    }

    /// <summary>A robot's serial line (noise, unplug).</summary>
    public BoardLine LineOf(int robot) => _robots[robot].Line;

    /// <summary>A robot's board (silence, faults, e-stop).</summary>
    public VirtualBoard BoardOf(int robot) => _robots[robot].Board;

    /// <summary>A robot's proxy to the broker (latency, partition).</summary>
    public TcpProxy ProxyOf(int robot) => _robots[robot].Proxy;

    /// <summary>
    /// The broker outage: robots' proxies hold new connections back (unless
    /// <see cref="DaemonRigOptions.HoldRobotsOnBrokerRestart"/> is off) and the broker stops gracefully (SIGTERM: it
    /// saves its sessions and queued messages). Ended by <see cref="RestartBrokerAsync"/>.
    /// </summary>
    public async Task StopBrokerAsync()
    {
        foreach (var r in _robots)
        {
            r.Proxy.Held = _options.HoldRobotsOnBrokerRestart;
        }

        await Broker.StopAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the broker outage: starts the broker on the same port, directory and configuration (its saved database
    /// brings back the observer's and the bridge's sessions with what was queued or in flight for them), waits until
    /// the rig's observer is subscribed again, then lets the robots reconnect. The wait is insurance: a record a robot
    /// has acknowledged before the observer is back is queued in the observer's session.
    /// </summary>
    public async Task RestartBrokerAsync()
    {
        try
        {
            await Broker.StartAsync().ConfigureAwait(false);
            if (_options.HoldRobotsOnBrokerRestart)
            {
                await Observer.WhenSubscribedAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            }
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"the rig's telemetry observer did not resubscribe on 127.0.0.1:{Broker.Port} within 20 s of the broker's restart", ex);
        }
        finally
        {
            foreach (var r in _robots)
            {
                r.Proxy.Held = false;
            }
        }
    }

    /// <summary>Skews the cloud's wall clock against the robots'.</summary>
    public void SetCloudSkew(TimeSpan offset) => _cloudClock.Offset = offset;

    /// <summary>Kills the silo abruptly (in-memory state lost, as with a crashed process without durable storage).</summary>
    public async Task KillSiloAsync()
    {
        if (_silo is not { } silo)
        {
            return;
        }

        await TickAsync().ConfigureAwait(false);
        _routedBefore += silo.GetBridge()?.Stats.TelemetryRouted ?? 0;
        _finishedBefore = TasksFinished;
        _stepsBefore = SiteSteps;
        _silo = null;
        using var now = new CancellationTokenSource();
        await now.CancelAsync().ConfigureAwait(false);
        try
        {
            await silo.StopAsync(now.Token).ConfigureAwait(false); // no grace: the process is "killed"
        }
        catch (Exception ex) when (ex is OperationCanceledException or AggregateException or InvalidOperationException)
        {
        }

        silo.Dispose();
    }

    /// <summary>Starts a new silo whose site begins from the robots' present poses.</summary>
    public Task StartSiloAsync() => StartSiloCoreAsync(World.GetRobots().Select(r => (r.Id, r.Cell, r.DiscretePose.Heading)).ToArray());

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var r in _robots)
        {
            await r.Daemon.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        if (Driver is not null)
        {
            await Driver.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var r in _robots)
        {
            await r.Board.DisposeAsync().ConfigureAwait(false);
            await r.Line.DisposeAsync().ConfigureAwait(false);
            await r.Proxy.DisposeAsync().ConfigureAwait(false);
            await r.Pair.DisposeAsync().ConfigureAwait(false);
            await r.Daemon.DisposeAsync().ConfigureAwait(false);
        }

        if (Observer is not null)
        {
            await Observer.DisposeAsync().ConfigureAwait(false);
        }

        await KillSiloAsync().ConfigureAwait(false);
        if (Broker is not null)
        {
            await Broker.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartPartsAsync(TextWriter? progress, CancellationToken cancellationToken)
    {
        var map = _options.Map;
        var starts = _options.StartCells?.ToArray() ?? DemoRunner.PickStartCells(map, _options.Robots, _options.Seed);
        Broker = await MosquittoBroker.StartNewAsync(Path.Combine(_dir, "mosquitto"), cancellationToken).ConfigureAwait(false);
        progress?.WriteLine($"  Mosquitto (pid child) on 127.0.0.1:{Broker.Port}");
        Observer = new TelemetryObserver(Broker.Port);
        await StartSiloCoreAsync([.. Enumerable.Range(0, _options.Robots).Select(i => ($"robot-{i:D3}", starts[i], Heading.East))]).ConfigureAwait(false);
        progress?.WriteLine("  Orleans silo up (in the rig's process), site 'hil' initialized");
        var edgeDll = _options.EdgeDll ?? FindEdgeDll();
        var boards = new List<VirtualBoard>();
        for (var i = 0; i < _options.Robots; i++)
        {
            var id = $"robot-{i:D3}";
            World.AddRobot(id, starts[i], Heading.East);
            var pair = await PtyPair.StartAsync(Path.Combine(_dir, "pty"), id, cancellationToken).ConfigureAwait(false);
            var line = new BoardLine(pair, StreamSeeds.Derive(_options.Seed, i));
            var board = new VirtualBoard(line, World, i, new VirtualBoardOptions(), _loggers.CreateLogger("Board"));
            line.Attach(board);
            boards.Add(board);
            var proxy = new TcpProxy(Broker.Port, StreamSeeds.Derive(_options.Seed, i, 7));
            var edge = LockstepFleet.EdgeOptionsFor(new FleetOptions(), id, starts[i], map);
            edge.SiteId = SiteId;
            edge.CloudLinkEnabled = true;
            edge.MqttHost = "127.0.0.1";
            edge.MqttPort = proxy.Port;
            edge.SerialDevicePath = pair.DaemonPath;
            edge.TelemetryRateHz = 5;
            _options.ConfigureEdge?.Invoke(i, edge);
            var health = Path.Combine(_dir, id + ".health.json");
            var daemon = ChildProcess.Start("edge " + id, "dotnet", [edgeDll, .. Arguments(edge, health)],
                environment: new Dictionary<string, string> { ["DOTNET_gcServer"] = "0", ["DOTNET_TieredPGO"] = "0" });
            _robots.Add(new Robot(id, pair, line, board, proxy, daemon, health, edge));
        }

        Driver = new WorldDriver(World, boards, new WorldDriverOptions(), TimeProvider.System, _loggers.CreateLogger("World"));
        Driver.Start();
        var started = TimeProvider.System.GetTimestamp();
        for (var i = 0; i < _robots.Count; i++)
        {
            while (Health(i).Mode == "?")
            {
                if (!_robots[i].Daemon.IsRunning)
                {
                    throw new InvalidOperationException($"edge daemon {_robots[i].Id} exited with {_robots[i].Daemon.ExitCode}: {_robots[i].Daemon.Output}");
                }

                if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException($"edge daemon {_robots[i].Id} wrote no health file within 60 s: {_robots[i].Daemon.Output}");
                }

                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        progress?.WriteLine($"  {_robots.Count} edge daemon processes up (pids {string.Join(", ", _robots.Select(r => r.Daemon.Pid))}), serial over socat ptys, MQTT through per-robot proxies");
    }

    private async Task StartSiloCoreAsync(IReadOnlyList<(string Id, int Cell, Heading Heading)> seats)
    {
        var generation = ++_siloGeneration;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "WarehouseHybrid.Hil.Silo", EnvironmentName = Environments.Production });
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.AddSingleton<TimeProvider>(_cloudClock); // before AddWarehouseCloud, which only adds the system clock when none is registered
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.AddWarehouseCloud((m, poses) => new PibtFleetPlanner(m, poses.Count, new PlannerOptions { Seed = _options.Seed }), o =>
        {
            o.SiteId = SiteId;
            o.Silo.SiloPort = Hil.Broker.EmbeddedBroker.FreeLoopbackPort();
            o.Silo.GatewayPort = Hil.Broker.EmbeddedBroker.FreeLoopbackPort();
            o.Silo.ClusterId = $"hil-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{generation}";
            o.Mqtt.Host = "127.0.0.1";
            o.Mqtt.Port = Broker.Port;
            // One id for every generation of the silo: a restarted silo resumes the killed one's session, with the
            // messages the broker queued for it meanwhile (Mosquitto keeps a shared subscription's share for an
            // offline member; a new id would leave them in the dead session until it expires).
            o.Mqtt.ClientId = "hil-silo-bridge";
            o.Mqtt.SessionExpiry = TimeSpan.FromMinutes(10); // longer than any silo kill or broker outage of a run
            // One silo at a time: a plain subscription, which Mosquitto 2.0.11 restores from its database after a
            // restart (a $share one it does not, so records published before the bridge resubscribed would miss it).
            o.Mqtt.SharedGroup = string.Empty;
            o.Cycle.PlanBudget = TimeSpan.FromMilliseconds(200);
            o.Http.Enabled = false; // a generic host (killed and restarted by faults): the rig judges through MQTT and the grains
        });
        var host = builder.Build();
        await host.StartAsync(CancellationToken.None).ConfigureAwait(false);
        await host.GetSite(SiteId).InitializeAsync(SiteDefinition.Create(_options.Map, seats.Select(s => new RobotSeat(s.Id, s.Cell, s.Heading)))).ConfigureAwait(false);
        _silo = host;
    }

    /// <summary>The command line that gives an edge daemon these options (and a fast health file).</summary>
    internal static IEnumerable<string> Arguments(EdgeOptions e, string healthFile)
    {
        var c = CultureInfo.InvariantCulture;
        yield return $"--Edge:RobotId={e.RobotId}";
        yield return $"--Edge:SiteId={e.SiteId}";
        yield return $"--Edge:MqttHost={e.MqttHost}";
        yield return $"--Edge:MqttPort={e.MqttPort.ToString(c)}";
        yield return $"--Edge:SerialDevicePath={e.SerialDevicePath}";
        yield return $"--Edge:ControlRateHz={e.ControlRateHz.ToString(c)}";
        yield return $"--Edge:MapWidth={e.MapWidth.ToString(c)}";
        yield return $"--Edge:MapHeight={e.MapHeight.ToString(c)}";
        if (e.StartCell is { } cell)
        {
            yield return $"--Edge:StartCell={cell.ToString(c)}";
            yield return $"--Edge:StartHeading={e.StartHeading}";
        }

        yield return $"--Edge:MaxLinearMps={e.MaxLinearMps.ToString(c)}";
        yield return $"--Edge:MaxAngularRadps={e.MaxAngularRadps.ToString(c)}";
        yield return $"--Edge:LinearAccel={e.LinearAccel.ToString(c)}";
        yield return $"--Edge:AngularAccel={e.AngularAccel.ToString(c)}";
        yield return $"--Edge:BrakeDecel={e.BrakeDecel.ToString(c)}";
        yield return $"--Edge:SafetyMarginMetres={e.SafetyMarginMetres.ToString(c)}";
        yield return $"--Edge:RestLinearMps={e.RestLinearMps.ToString(c)}";
        yield return $"--Edge:RestAngularRadps={e.RestAngularRadps.ToString(c)}";
        yield return $"--Edge:BoardCommandTimeoutMs={e.BoardCommandTimeoutMs.ToString(c)}";
        yield return $"--Edge:TelemetryRateHz={e.TelemetryRateHz.ToString(c)}";
        yield return $"--Edge:InferenceDeadline={e.InferenceDeadline.ToString("c", c)}";
        if (e.ModelPackagePath is { Length: > 0 } model)
        {
            yield return $"--Edge:ModelPackagePath={model}";
        }

        for (var i = 0; i < e.TrustedModelKeys.Count; i++)
        {
            yield return $"--Edge:TrustedModelKeys:{i.ToString(c)}={e.TrustedModelKeys[i]}";
        }

        yield return $"--Daemon:HealthFile={healthFile}";
        yield return "--Daemon:HealthCheckInterval=00:00:00.100";
        yield return "--Daemon:SiteSensorsEnabled=false";
        yield return "--Logging:LogLevel:Default=Warning";
    }

    private sealed record Robot(string Id, PtyPair Pair, BoardLine Line, VirtualBoard Board, TcpProxy Proxy, ChildProcess Daemon, string HealthFile, EdgeOptions Edge);
}
