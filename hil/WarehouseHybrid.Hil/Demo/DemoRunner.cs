using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Hil.Board;
using WarehouseHybrid.Hil.Broker;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Hil.Daemons;
using WarehouseHybrid.Hil.Faults;
using WarehouseHybrid.Hil.Scenarios;
using WarehouseHybrid.Hil.World;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Demo;

/// <summary>
/// The walking skeleton in one process: an in-process MQTT broker, one Orleans silo (localhost
/// clustering, in-memory storage) with the site and robot grains and the optimizer, a simulated world,
/// and one virtual controller board plus one real edge runtime per robot, joined by an in-memory serial
/// line that carries the real board protocol. Prints live progress; stops on cancellation or after the
/// configured duration and shuts every component down.
/// </summary>
public static class DemoRunner
{
    /// <summary>Site id used by the demo.</summary>
    public const string SiteId = "demo";

    /// <summary>Runs the demo until <paramref name="cancellationToken"/> or <see cref="DemoOptions.Duration"/>.</summary>
    public static async Task<DemoResult> RunAsync(DemoOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var (map, mapSource) = DemoMap.Resolve(options.MapFile);
        var starts = PickStartCells(map, options.Robots, options.Seed);
        var robotIds = Enumerable.Range(0, options.Robots).Select(i => $"robot-{i:D3}").ToArray();
        using var loggerFactory = LoggerFactory.Create(b => b
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .AddFilter("Orleans", LogLevel.Error)
            .AddFilter("Microsoft", LogLevel.Error));
        var log = loggerFactory.CreateLogger("Demo");

        output.WriteLine($"WarehouseHybrid demo: {options.Robots} robots on {mapSource} ({map.Width}x{map.Height}, {map.PassableCount} free cells)");
        var faults = new List<FaultSpec>();
        foreach (var text in options.Faults)
        {
            var fault = DemoFaults.Parse(text, options.Robots, map, out var error);
            if (fault is not null && fault.Kind.StartsWith("serial.", StringComparison.Ordinal) && fault.Kind != "serial.silent" && fault.Robots[0] >= options.Daemons)
            {
                error = $"--fault '{text}': {fault.Kind} needs a daemon robot (robots 0..{options.Daemons - 1} run as daemons; use --daemons)";
            }

            if (error is not null)
            {
                output.WriteLine(error);
                return new DemoResult { ExitCode = 1, Robots = options.Robots };
            }

            faults.Add(fault!);
        }

        if (options.Daemons > 0 && !PtyPair.Available)
        {
            output.WriteLine("--daemons needs socat (Debian package socat)");
            return new DemoResult { ExitCode = 1, Robots = options.Robots };
        }

        // 1. Broker.
        var broker = await EmbeddedBroker.StartAsync();
        output.WriteLine($"  MQTT broker (in-process) on 127.0.0.1:{broker.Port}");

        // 2. Cloud silo with the optimizer.
        var seats = robotIds.Select((id, i) => new RobotSeat(id, starts[i], Heading.East)).ToArray();
        var builder = CloudHost.CreateEmbeddedBuilder("WarehouseHybrid.Demo");
        // The demo owns Ctrl+C / SIGTERM (Program.cs): the silo must not install a console lifetime of its own.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .AddFilter("Orleans", LogLevel.Error)
            .AddFilter("Microsoft", LogLevel.Error);
        builder.AddWarehouseCloud(
            (m, poses) => new PibtFleetPlanner(m, poses.Count, new PlannerOptions { Seed = options.Seed }),
            o =>
            {
                o.SiteId = SiteId;
                o.Silo.SiloPort = EmbeddedBroker.FreeLoopbackPort();
                o.Silo.GatewayPort = EmbeddedBroker.FreeLoopbackPort();
                o.Silo.ClusterId = "demo-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
                o.Mqtt.Host = "127.0.0.1";
                o.Mqtt.Port = broker.Port;
                o.Cycle.PlanBudget = options.PlanBudget;
                o.Http.Port = 0;
                o.Http.Auth.AnonymousRead = true;
            });
        var cloud = builder.BuildWarehouseCloud();
        await cloud.StartAsync(CancellationToken.None); // a stop request during start-up is honoured once everything is up, so it all shuts down
        var site = cloud.GetSite(SiteId);
        await site.InitializeAsync(SiteDefinition.Create(map, seats));
        output.WriteLine($"  Orleans silo up (localhost clustering, in-memory storage), site '{SiteId}' initialized");
        output.WriteLine($"  HTTP on {cloud.GetHttpAddress()} (read-only without a key: {cloud.GetHttpAddress()}api/sites/{SiteId})");
        output.WriteLine($"  Dashboard: {cloud.GetHttpAddress()}?site={SiteId}   metrics: {cloud.GetHttpAddress()}metrics");

        // 3. World, boards and edge runtimes.
        var world = new SimWorld(map, new SimWorldOptions
        {
            MaxLinearSpeedMps = options.MaxLinearMps * 1.25,
            MaxAngularSpeedRadps = options.MaxAngularRadps * 1.25,
            MaxLinearAccelerationMps2 = 15,
            MaxAngularAccelerationRadps2 = 60,
            BrakeDecelerationMps2 = 15,
            BrakeAngularDecelerationRadps2 = 80,
        });
        var pairs = new List<InMemorySerialPair>();
        var boards = new List<VirtualBoard>();
        var edges = new List<EdgeRuntime>();
        var lines = new List<BoardLine>();
        var ptys = new List<PtyPair>();
        var daemons = new List<ChildProcess>();
        var rigDir = options.Daemons > 0 ? Directory.CreateTempSubdirectory("wh-demo-").FullName : null;
        for (var i = 0; i < options.Robots; i++)
        {
            world.AddRobot(robotIds[i], starts[i], Heading.East);
            if (i < options.Daemons)
            {
                // A real daemon process over a socat pty pair (started once the world runs).
                var pty = await PtyPair.StartAsync(Path.Combine(rigDir!, "pty"), robotIds[i]);
                ptys.Add(pty);
                var line = new BoardLine(pty, StreamSeeds.Derive(options.Seed, i));
                lines.Add(line);
                var daemonBoard = new VirtualBoard(line, world, i);
                line.Attach(daemonBoard);
                boards.Add(daemonBoard);
                continue;
            }

            var pair = InMemorySerialPair.Create();
            pairs.Add(pair);
            var board = new VirtualBoard(pair.BoardEnd, world, i);
            boards.Add(board);
            board.StartReceiving();
            edges.Add(new EdgeRuntime(EdgeOptionsFor(options, robotIds[i], starts[i], map, broker.Port), pair.DaemonEnd, TimeProvider.System, loggerFactory));
        }

        var driver = new WorldDriver(world, boards, new WorldDriverOptions { StepPeriod = TimeSpan.FromMilliseconds(10) }, TimeProvider.System, loggerFactory.CreateLogger("World"));
        driver.Start();
        foreach (var edge in edges)
        {
            await edge.StartAsync(CancellationToken.None);
        }

        for (var i = 0; i < options.Daemons; i++)
        {
            var edge = EdgeOptionsFor(options, robotIds[i], starts[i], map, broker.Port);
            edge.SerialDevicePath = ptys[i].DaemonPath;
            daemons.Add(ChildProcess.Start("edge " + robotIds[i], "dotnet",
                [DaemonRig.FindEdgeDll(), .. DaemonRig.Arguments(edge, Path.Combine(rigDir!, robotIds[i] + ".health.json"))]));
        }

        output.WriteLine($"  {edges.Count} edge runtimes up in-process ({options.ControlRateHz} Hz control loops, serial over in-memory lines)" +
            (daemons.Count > 0 ? $"; {daemons.Count} edge daemon processes over socat ptys (pids {string.Join(", ", daemons.Select(d => d.Pid))})" : string.Empty));
        var pendingFaults = faults.SelectMany(f => f.Until is { } u ? new[] { (f.At, f, true), (u, f, false) } : [(f.At, f, true)]).OrderBy(e => e.Item1).ToList();

        // 4. Tasks and progress.
        var feeder = new TaskFeeder(map, options.ErrandsPerTask, options.Seed);
        var target = (int)Math.Ceiling(options.TasksRevealed * options.Robots);
        await site.SubmitTasksAsync(feeder.Next(target));

        var clock = Stopwatch.StartNew();
        using var durationCts = options.Duration is { } d ? new CancellationTokenSource(d) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, durationCts.Token);
        output.WriteLine(options.Duration is { } dd
            ? $"Running for {dd.TotalSeconds:F0} s (Ctrl+C stops early)."
            : "Running until Ctrl+C.");
        output.WriteLine("   time  step  finished  tasks/step  open  plan p50/p99 ms  moving  violations");
        SiteStats stats = await site.GetStatsAsync();
        var violationShown = false;
        try
        {
            using var timer = new PeriodicTimer(options.ProgressEvery);
            while (await timer.WaitForNextTickAsync(linked.Token))
            {
                while (pendingFaults.Count > 0 && pendingFaults[0].Item1 <= clock.Elapsed)
                {
                    var (_, fault, begin) = pendingFaults[0];
                    pendingFaults.RemoveAt(0);
                    await ApplyFaultAsync(fault, begin, world, boards, lines);
                    output.WriteLine($"  fault {(begin ? "on" : "off")}: {fault.Id}");
                }

                stats = await site.GetStatsAsync();
                if (stats.OpenTasks < target)
                {
                    await site.SubmitTasksAsync(feeder.Next(target - stats.OpenTasks));
                }

                var moving = edges.Count(e => e.GetStatus().Activity.ToString() == "Executing");
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed.TotalSeconds,6:F1}s {stats.Step,5} {stats.TasksFinished,9} {stats.ThroughputPerStep,11:F3} {stats.OpenTasks,5} {stats.PlanTimeP50Ms,8:F2}/{stats.PlanTimeP99Ms,-7:F2} {moving,7} {world.ViolationCount,11}"));
                if (world.FirstViolation is { } v && !violationShown)
                {
                    violationShown = true;
                    output.WriteLine($"  first violation: {v}");
                }

                if (options.StopAfterTasks is { } goal && stats.TasksFinished >= goal)
                {
                    output.WriteLine($"  {stats.TasksFinished} tasks finished (goal {goal}): stopping");
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Duration reached or Ctrl+C: shut down below.
        }

        var elapsed = clock.Elapsed;
        try
        {
            stats = await site.GetStatsAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.LogWarning(ex, "could not read the final site statistics");
        }

        var bridge = cloud.GetBridge()?.Stats;
        var segments = edges.Sum(e => e.GetStatus().Cloud.CommandsReceived);

        // 5. Shutdown, outside-in: robots first (they brake), then the world, the cloud and the broker.
        output.WriteLine("Stopping...");
        var edgesStopped = true;
        foreach (var edge in edges)
        {
            try
            {
                using var stopCts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await edge.StopAsync(stopCts.Token);
                await edge.DisposeAsync();
                edgesStopped &= !edge.GetStatus().Running;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                edgesStopped = false;
                log.LogError(ex, "edge runtime {Robot} did not stop cleanly", edge.RobotId);
            }
        }

        foreach (var daemon in daemons)
        {
            await daemon.DisposeAsync(); // SIGTERM to its pid: the daemon brakes and exits
            edgesStopped &= !daemon.IsRunning;
        }

        await driver.StopAsync();
        var worldStopped = !driver.IsRunning;
        foreach (var line in lines)
        {
            line.Dispose();
        }

        foreach (var pty in ptys)
        {
            await pty.DisposeAsync();
        }

        if (rigDir is not null)
        {
            Directory.Delete(rigDir, recursive: true);
        }

        foreach (var board in boards)
        {
            await board.DisposeAsync();
        }

        foreach (var pair in pairs)
        {
            pair.Dispose();
        }

        var cloudStopped = true;
        try
        {
            using var stopCts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await cloud.StopAsync(stopCts.Token);
            await cloud.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            cloudStopped = false;
            log.LogError(ex, "the silo did not stop cleanly");
        }

        var brokerStopped = true;
        try
        {
            await broker.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            brokerStopped = false;
            log.LogError(ex, "the broker did not stop cleanly");
        }

        var result = new DemoResult
        {
            ExitCode = world.ViolationCount > 0 ? 2 : 0,
            Robots = options.Robots,
            Elapsed = elapsed,
            Steps = stats.Step,
            TasksFinished = stats.TasksFinished,
            ThroughputPerStep = stats.ThroughputPerStep,
            PlanP50Ms = stats.PlanTimeP50Ms,
            PlanP99Ms = stats.PlanTimeP99Ms,
            Violations = world.ViolationCount,
            FirstViolation = world.FirstViolation?.ToString(),
            TelemetryAccepted = bridge?.TelemetryRouted ?? 0,
            SegmentsReceived = segments,
            EdgesStopped = edgesStopped,
            WorldStopped = worldStopped,
            CloudStopped = cloudStopped,
            BrokerStopped = brokerStopped,
        };
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Done in {elapsed.TotalSeconds:F1} s: {result.Steps} steps, {result.TasksFinished} tasks finished ({result.ThroughputPerStep:F3}/step), " +
            $"plan p50 {result.PlanP50Ms:F2} ms p99 {result.PlanP99Ms:F2} ms, {result.TelemetryAccepted} telemetry records, " +
            $"{result.Violations} invariant violations, shutdown {(result.CleanShutdown ? "clean" : "NOT clean")}."));
        if (result.FirstViolation is not null)
        {
            output.WriteLine($"First violation: {result.FirstViolation}");
        }

        return result;
    }

    private static async Task ApplyFaultAsync(FaultSpec fault, bool begin, SimWorld world, List<VirtualBoard> boards, List<BoardLine> lines)
    {
        if (FaultActions.TryApplyWorld(fault, begin, world))
        {
            return;
        }

        foreach (var r in fault.Robots)
        {
            if (FaultActions.TryApplyBoard(fault, begin, boards[r]) || (r < lines.Count && FaultActions.TryApplyNoise(fault, begin, lines[r].ToDaemon, lines[r].ToBoard)))
            {
                continue;
            }

            if (fault.Kind == "serial.unplug" && r < lines.Count)
            {
                await (begin ? lines[r].UnplugAsync() : lines[r].ReplugAsync());
            }
        }
    }

    /// <summary>Edge settings of one demo robot.</summary>
    public static EdgeOptions EdgeOptionsFor(DemoOptions options, string robotId, int startCell, GridMap map, int brokerPort) => new()
    {
        RobotId = robotId,
        SiteId = SiteId,
        MqttHost = "127.0.0.1",
        MqttPort = brokerPort,
        ControlRateHz = options.ControlRateHz,
        MapWidth = map.Width,
        MapHeight = map.Height,
        StartCell = startCell,
        StartHeading = Heading.East,
        MaxLinearMps = options.MaxLinearMps,
        MaxAngularRadps = options.MaxAngularRadps,
        LinearAccel = 10,
        AngularAccel = 40,
        BrakeDecel = 10,
        // Demo robots confirm a step once slow near the cell centre instead of fully at rest, so the
        // lock-step skeleton does not spend most of each step creeping the last centimetres.
        RestLinearMps = 0.12,
        RestAngularRadps = 0.25,
        TelemetryRateHz = 2,
    };

    /// <summary>Distinct random free cells (seeded), preferring plain floor over service and emitter cells.</summary>
    public static int[] PickStartCells(GridMap map, int count, int seed)
    {
        var floor = new List<int>();
        var other = new List<int>();
        for (var c = 0; c < map.CellCount; c++)
        {
            if (!map.IsPassable(c))
            {
                continue;
            }

            (map.KindOf(c) == CellKind.Free ? floor : other).Add(c);
        }

        if (floor.Count + other.Count < count)
        {
            throw new ArgumentException($"map '{map.Name}' has {floor.Count + other.Count} free cells, fewer than {count} robots");
        }

        var random = new Random(seed);
        var shuffled = floor.OrderBy(_ => random.Next()).Concat(other.OrderBy(_ => random.Next())).ToArray();
        return shuffled[..count];
    }
}
