using System.Diagnostics;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Hil.Faults;
using WarehouseHybrid.Hil.Recording;
using WarehouseHybrid.Hil.Reports;
using WarehouseHybrid.Hil.Scenarios;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>
/// Runs a scenario with real edge daemon processes (<see cref="DaemonRig"/>), in real time: faults are applied at
/// their wall-clock times since the start, decision modes are read from the daemons' health files, telemetry loss
/// is judged at the broker, and invariants are checked on every world step.
/// </summary>
public static class DaemonScenarioRunner
{
    /// <summary>Runs the scenario and returns its report.</summary>
    public static async Task<ScenarioReport> RunAsync(Scenario scenario, ScenarioRunOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        if (!PtyPair.Available || !MosquittoBroker.Available)
        {
            throw new InvalidOperationException("daemon scenarios need socat and mosquitto (Debian packages socat, mosquitto)");
        }

        var map = GridMapReader.Load(scenario.MapFile);
        var duration = options.Duration ?? (options.Short ? scenario.ShortDuration ?? scenario.Duration : scenario.Duration);
        using var packages = new ModelPackageFaults(scenario);
        var slow = scenario.Faults.Where(f => f.Kind == "model.slowInference").SelectMany(f => f.Robots).ToHashSet();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Error).AddSimpleConsole(o => o.SingleLine = true));
        await using var rig = await DaemonRig.StartAsync(new DaemonRigOptions
        {
            Map = map,
            Robots = scenario.Robots,
            Seed = scenario.Seed,
            StartCells = scenario.StartCells,
            Tasks = scenario.Tasks,
            HoldRobotsOnBrokerRestart = options.HoldRobotsOnBrokerRestart,
            ConfigureWorld = w => ScenarioVerdict.World(scenario, w),
            ConfigureEdge = (i, e) =>
            {
                packages.Configure(i, e);
                if (slow.Contains(i))
                {
                    // The daemon's own deadline made shorter than any inference: every result is late (see docs/hil-scenarios.md).
                    e.InferenceDeadline = TimeSpan.FromTicks(1);
                }
            },
        }, loggers, options.Progress, cancellationToken).ConfigureAwait(false);

        await using var recorder = options.RecordingFile is { } file
            ? new WallClockRecorder(file, new RecordingHeader { Scenario = scenario.Name, Robots = [.. Enumerable.Range(0, rig.Count).Select(i => new RecordedRobot(i, rig.IdOf(i), rig.EdgeOptionsOf(i)))] })
            : null;
        if (recorder is not null)
        {
            var index = Enumerable.Range(0, rig.Count).ToDictionary(rig.IdOf, i => i, StringComparer.Ordinal);
            for (var i = 0; i < rig.Count; i++)
            {
                var robot = i;
                rig.LineOf(i).Tap = (toDaemon, bytes) => recorder.Serial(robot, toDaemon, bytes);
            }

            rig.Observer.OnMessage = (topic, payload) =>
                recorder.Mqtt(Contracts.Topics.FleetTopics.TryParseRobotTopic(topic, out _, out var id, out _) && index.TryGetValue(id, out var r) ? r : 0xFFFF, topic, payload);
        }

        var trace = new RunTrace([.. Enumerable.Range(0, rig.Count).Select(rig.IdOf)]);
        var watch = new ScenarioVerdict.FallbackWatch(scenario, options.TimingTolerance);
        var modeChanges = new long[rig.Count];
        var timeline = new InProcessScenarioRunner.Timeline(scenario, duration);
        var applied = new List<AppliedFault>();
        var wall = Stopwatch.StartNew();
        var nextTick = TimeSpan.Zero;
        var lastSteps = rig.Driver!.Stats.Steps;
        while (wall.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var now = wall.Elapsed;
            foreach (var (fault, begin) in timeline.Due(now))
            {
                await ApplyAsync(rig, fault, begin, applied, now).ConfigureAwait(false);
                if (begin)
                {
                    trace.FaultWindows.Add((fault.Id, fault.At.TotalSeconds, (fault.Until ?? duration).TotalSeconds));
                }
            }

            for (var i = 0; i < rig.Count; i++)
            {
                var (mode, reason) = rig.Health(i);
                if (trace.Modes[i].Count == 0 || trace.Modes[i][^1].Mode != mode)
                {
                    modeChanges[i]++;
                }

                trace.Mode(i, now.TotalSeconds, mode);
                watch.Observe(now.TotalSeconds, i, mode, reason);
            }

            foreach (var r in rig.World.GetRobots())
            {
                trace.Position(r.Index, r.X, r.Y);
            }

            var stats = rig.Driver.Stats;
            trace.Tick(now.TotalSeconds, stats.MaxLateness.TotalMilliseconds);
            _ = lastSteps;
            lastSteps = stats.Steps;
            if (now >= nextTick)
            {
                nextTick = now + TimeSpan.FromSeconds(1);
                await rig.TickAsync().ConfigureAwait(false);
                if (options.Progress is { } p && (int)now.TotalSeconds % 10 == 0)
                {
                    p.WriteLine($"  {now.TotalSeconds:F0} s: {rig.TasksFinished} tasks, {rig.World.ViolationCount} violations, {rig.Observer.Messages} telemetry at the broker");
                }
            }

            if (rig.World.ViolationCount > 0 || rig.Driver.Fault is not null)
            {
                break;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        // Let the last telemetry arrive before judging loss (faults may still be open: end them first).
        foreach (var (fault, _) in timeline.Due(TimeSpan.MaxValue))
        {
            _ = fault;
        }

        var end = wall.Elapsed;
        rig.Observer.OnMessage = null;
        for (var i = 0; i < rig.Count; i++)
        {
            rig.LineOf(i).Tap = null;
        }

        await rig.TickAsync().ConfigureAwait(false);
        var telemetry = rig.Observer.Summary(rig.CloudTelemetry);
        var first = rig.World.FirstViolation;
        var checks = new List<CheckResult>();
        checks.AddRange(ScenarioVerdict.Invariants(scenario, rig.World.ViolationCount, first));
        checks.AddRange(ScenarioVerdict.Common(scenario, rig.TasksFinished, rig.SiteSteps, []));
        checks.AddRange(watch.Results());
        for (var i = 0; i < rig.Count; i++)
        {
            if (!rig.DaemonOf(i).IsRunning)
            {
                checks.Add(new CheckResult($"daemon {rig.IdOf(i)} kept running", false, $"exited with {rig.DaemonOf(i).ExitCode}: {Tail(rig.DaemonOf(i).Output)}"));
            }
        }

        if (scenario.Expect.NoTelemetryLoss)
        {
            // Loss is judged at the broker: a missing sequence number, or a stretch of sample time with no telemetry
            // (a link that drops what it cannot send numbers only what it sent). 3 s tolerates a starved process on a
            // loaded machine (5 Hz telemetry) and still catches an outage.
            var allowedGap = 3.0 * options.TimingTolerance;
            var ok = telemetry.MissingSeq == 0 && telemetry.LongestGapSeconds <= allowedGap && telemetry.Messages > 0;
            checks.Add(new CheckResult("no telemetry lost (at the broker)", ok,
                $"{telemetry.Messages} messages, {telemetry.MissingSeq} missing sequence numbers, longest sample gap {telemetry.LongestGapSeconds:F2} s (allowed {allowedGap} s), {telemetry.CloudReceived} routed by the cloud" +
                (rig.Observer.Worst() is { } w && (w.Missing > 0 || w.LongestGapSeconds > allowedGap) ? $"; worst {w.Robot}: {w.Missing} missing, gap {w.LongestGapSeconds:F2} s" : string.Empty) +
                (rig.Observer.SessionsLost > 0 ? $"; the broker lost the observer's session {rig.Observer.SessionsLost} time(s)" : string.Empty)));
        }

        var report = new ScenarioReport
        {
            Name = scenario.Name,
            File = scenario.SourceFile,
            Mode = "daemons",
            Short = options.Short,
            Passed = checks.All(c => c.Passed) && !cancellationToken.IsCancellationRequested,
            Robots = rig.Count,
            SimulatedSeconds = rig.World.Now.TotalSeconds,
            WallSeconds = end.TotalSeconds,
            SpeedFactor = rig.World.Now / end,
            WorldSteps = rig.Driver.Stats.Steps,
            SiteSteps = rig.SiteSteps,
            TasksFinished = rig.TasksFinished,
            Violations = rig.World.ViolationCount,
            FirstViolation = ScenarioVerdict.Record(first),
            Checks = checks,
            Faults = applied,
            ModeChanges = Enumerable.Range(0, rig.Count).ToDictionary(rig.IdOf, i => modeChanges[i]),
            TickMs = trace.TickPercentiles(),
            Telemetry = telemetry,
            Notes = [.. packages.Notes, $"world driver: {rig.Driver.Stats.Steps} steps, {rig.Driver.Stats.SkippedSteps} skipped, max lateness {rig.Driver.Stats.MaxLateness.TotalMilliseconds:F1} ms (the tick plot shows the running maximum)"],
        };
        report = report with { Artifacts = ScenarioVerdict.WriteArtifacts(report, trace, map, rig.World.Geometry.CellSizeMetres, end.TotalSeconds, options) };
        ScenarioVerdict.Save(report, options);
        return report;
    }

    private static string Tail(string text) => text.Length > 2000 ? text[^2000..] : text;

    private static async Task ApplyAsync(DaemonRig rig, FaultSpec f, bool begin, List<AppliedFault> applied, TimeSpan now)
    {
        FaultActions.Log(applied, f, begin, now.TotalSeconds, rig.IdOf);
        if (FaultActions.TryApplyWorld(f, begin, rig.World))
        {
            return;
        }

        foreach (var r in f.Robots)
        {
            if (FaultActions.TryApplyNoise(f, begin, rig.LineOf(r).ToDaemon, rig.LineOf(r).ToBoard) || FaultActions.TryApplyBoard(f, begin, rig.BoardOf(r)))
            {
                continue;
            }

            switch (f.Kind)
            {
                case "serial.unplug":
                    await (begin ? rig.LineOf(r).UnplugAsync() : rig.LineOf(r).ReplugAsync()).ConfigureAwait(false);
                    break;
                case "network.partition":
                    rig.ProxyOf(r).Partitioned = begin;
                    break;
            }
        }

        switch (f.Kind)
        {
            case "network.brokerOutage":
                await (begin ? rig.StopBrokerAsync() : rig.RestartBrokerAsync()).ConfigureAwait(false);
                break;
            case "network.latency":
                for (var r = 0; r < rig.Count; r++)
                {
                    rig.ProxyOf(r).Latency = begin ? f.Latency : TimeSpan.Zero;
                    rig.ProxyOf(r).Jitter = begin ? f.Jitter : TimeSpan.Zero;
                }

                break;
            case "cloud.siloKill":
                await (begin ? rig.KillSiloAsync() : rig.StartSiloAsync()).ConfigureAwait(false);
                break;
            case "clock.skew":
                // The daemons' clocks are their machine's; the skew is applied to the cloud's clock instead.
                rig.SetCloudSkew(begin ? -f.Offset : TimeSpan.Zero);
                break;
        }

        // model.* faults were applied through the daemons' configuration at start.
    }
}
