using System.Diagnostics;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Hil.Faults;
using WarehouseHybrid.Hil.Fleet;
using WarehouseHybrid.Hil.Recording;
using WarehouseHybrid.Hil.Reports;

namespace WarehouseHybrid.Hil.Scenarios;

/// <summary>
/// Runs a scenario on a lock-step in-process fleet (<see cref="LockstepFleet"/>) on virtual time: faults are applied
/// at their scenario times, invariants are checked every world step, and the run ends at the first violation (with
/// its context) or at the end of the timeline.
/// </summary>
public static class InProcessScenarioRunner
{
    /// <summary>Runs the scenario and returns its report (also written to <see cref="ScenarioRunOptions.ReportDirectory"/>).</summary>
    public static async Task<ScenarioReport> RunAsync(Scenario scenario, ScenarioRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        var map = GridMapReader.Load(scenario.MapFile);
        var duration = options.Duration ?? (options.Short ? scenario.ShortDuration ?? scenario.Duration : scenario.Duration);
        using var packages = new ModelPackageFaults(scenario);
        var fleetOptions = new FleetOptions
        {
            Robots = scenario.Robots,
            Seed = scenario.Seed,
            StartCells = scenario.StartCells,
            StartHeading = scenario.StartHeading,
            WithSite = scenario.Tasks,
            ConfigureWorld = w => ScenarioVerdict.World(scenario, w),
            ConfigureEdge = (i, e) => packages.Configure(i, e),
        };

        await using var fleet = new LockstepFleet(map, fleetOptions);
        var trace = new RunTrace([.. Enumerable.Range(0, fleet.Count).Select(fleet.IdOf)]);
        var watch = new ScenarioVerdict.FallbackWatch(scenario, options.TimingTolerance);
        var modeChanges = new long[fleet.Count];
        await using var recorder = options.RecordingFile is { } rec ? new FleetRecorder(rec, fleet, scenario.Name) : null;
        fleet.Tap = recorder;
        var nextSample = TimeSpan.Zero;
        fleet.Polled += (now, statuses) =>
        {
            var t = now.TotalSeconds;
            for (var i = 0; i < statuses.Count; i++)
            {
                var s = statuses[i];
                var mode = s.Mode.ToString();
                if (trace.Modes[i].Count == 0 || trace.Modes[i][^1].Mode != mode)
                {
                    modeChanges[i]++;
                }

                trace.Mode(i, t, mode);
                watch.Observe(t, i, mode, s.Reason.ToText());
            }

            if (now >= nextSample)
            {
                nextSample = now + TimeSpan.FromMilliseconds(200);
                var robots = fleet.World.GetRobots();
                foreach (var r in robots)
                {
                    trace.Position(r.Index, r.X, r.Y);
                }
            }
        };

        var timeline = new Timeline(scenario, duration);
        var applied = new List<AppliedFault>();
        fleet.Start();
        var wall = Stopwatch.StartNew();
        var progressAt = TimeSpan.FromSeconds(10);
        while (fleet.Now < duration && !cancellationToken.IsCancellationRequested)
        {
            foreach (var (fault, begin) in timeline.Due(fleet.Now))
            {
                Apply(fleet, fault, begin, applied);
                if (begin)
                {
                    trace.FaultWindows.Add((fault.Id, fault.At.TotalSeconds, (fault.Until ?? duration).TotalSeconds));
                }
            }

            var t0 = Stopwatch.GetTimestamp();
            fleet.Tick();
            trace.Tick(fleet.Now.TotalSeconds, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            recorder?.EndTick();
            if (fleet.World.ViolationCount > 0)
            {
                break; // the first violation fails the run; its context is in the report
            }

            if (options.Progress is { } p && fleet.Now >= progressAt)
            {
                progressAt += TimeSpan.FromSeconds(10);
                p.WriteLine($"  {fleet.Now.TotalSeconds:F0} s: {fleet.Site?.Stats.TasksFinished ?? 0} tasks, {fleet.World.ViolationCount} violations");
            }
        }

        wall.Stop();
        var end = fleet.Now;
        foreach (var f in applied.Where(a => a.EndedAtSeconds is null).ToList())
        {
            applied[applied.IndexOf(f)] = f with { EndedAtSeconds = end.TotalSeconds };
        }

        var statuses = fleet.Statuses();
        var first = fleet.World.FirstViolation;
        var checks = new List<CheckResult>();
        checks.AddRange(ScenarioVerdict.Invariants(scenario, fleet.World.ViolationCount, first));
        checks.AddRange(ScenarioVerdict.Common(scenario, fleet.Site?.Stats.TasksFinished ?? 0, fleet.Site?.Stats.Step ?? 0, statuses));
        checks.AddRange(watch.Results());
        if (first is null && end < duration && !cancellationToken.IsCancellationRequested)
        {
            checks.Add(new CheckResult("ran to the end", false, $"stopped at {end.TotalSeconds:F1} s of {duration.TotalSeconds:F1} s"));
        }

        var report = new ScenarioReport
        {
            Name = scenario.Name,
            File = scenario.SourceFile,
            Mode = "inProcess",
            Short = options.Short,
            Passed = checks.All(c => c.Passed) && !cancellationToken.IsCancellationRequested,
            Robots = fleet.Count,
            SimulatedSeconds = end.TotalSeconds,
            WallSeconds = wall.Elapsed.TotalSeconds,
            SpeedFactor = end / wall.Elapsed,
            WorldSteps = fleet.Ticks,
            SiteSteps = fleet.Site?.Stats.Step ?? 0,
            TasksFinished = fleet.Site?.Stats.TasksFinished ?? 0,
            Violations = fleet.World.ViolationCount,
            FirstViolation = ScenarioVerdict.Record(first),
            Checks = checks,
            Faults = applied,
            ModeChanges = Enumerable.Range(0, fleet.Count).ToDictionary(fleet.IdOf, i => modeChanges[i]),
            TickMs = trace.TickPercentiles(),
            Notes = packages.Notes,
        };
        report = report with { Artifacts = ScenarioVerdict.WriteArtifacts(report, trace, map, fleet.World.Geometry.CellSizeMetres, end.TotalSeconds, options) };
        ScenarioVerdict.Save(report, options);
        return report;
    }

    private static void Apply(LockstepFleet fleet, FaultSpec f, bool begin, List<AppliedFault> applied)
    {
        FaultActions.Log(applied, f, begin, fleet.Now.TotalSeconds, fleet.IdOf);
        if (FaultActions.TryApplyWorld(f, begin, fleet.World))
        {
            return;
        }

        foreach (var r in f.Robots)
        {
            if (FaultActions.TryApplyNoise(f, begin, fleet.ToDaemon(r), fleet.ToBoard(r)) || FaultActions.TryApplyBoard(f, begin, fleet.BoardOf(r)))
            {
                continue;
            }

            switch (f.Kind)
            {
                case "serial.unplug":
                    fleet.ToDaemon(r).Cut = begin;
                    fleet.ToBoard(r).Cut = begin;
                    break;
                case "network.partition":
                    fleet.Link.SetPartitioned(r, begin);
                    break;
            }
        }

        switch (f.Kind)
        {
            case "network.brokerOutage":
            case "cloud.siloKill":
                fleet.Link.Down = begin;
                break;
            case "network.latency":
                fleet.Link.Latency = begin ? f.Latency : TimeSpan.Zero;
                fleet.Link.Jitter = begin ? f.Jitter : TimeSpan.Zero;
                break;
            case "clock.skew":
                foreach (var r in f.Robots.Count > 0 ? f.Robots : [.. Enumerable.Range(0, fleet.Count)])
                {
                    fleet.ClockOf(r).Offset = begin ? f.Offset : TimeSpan.Zero;
                }

                break;
        }

        // model.corrupt and model.unsigned were applied to the packages at start (ModelPackageFaults).
    }

    /// <summary>Fault starts and ends in time order.</summary>
    internal sealed class Timeline
    {
        private readonly List<(TimeSpan At, FaultSpec Fault, bool Begin)> _events = [];
        private int _next;

        public Timeline(Scenario scenario, TimeSpan duration)
        {
            foreach (var f in scenario.Faults)
            {
                if (f.At <= duration)
                {
                    _events.Add((f.At, f, true));
                    if (f.Until is { } u && u <= duration)
                    {
                        _events.Add((u, f, false));
                    }
                }
            }

            _events.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Begin.CompareTo(b.Begin));
        }

        public IEnumerable<(FaultSpec Fault, bool Begin)> Due(TimeSpan now)
        {
            while (_next < _events.Count && _events[_next].At <= now)
            {
                var e = _events[_next++];
                yield return (e.Fault, e.Begin);
            }
        }
    }
}

/// <summary>
/// The model faults that happen before boot: robots named by a model.corrupt or model.unsigned fault get a copy of
/// the scenario's package with one ONNX byte changed, or without its signature; the rest get the package as it is.
/// </summary>
internal sealed class ModelPackageFaults : IDisposable
{
    private readonly Scenario _scenario;
    private readonly string? _dir;
    private readonly Dictionary<int, string> _packageOf = [];

    public ModelPackageFaults(Scenario scenario)
    {
        _scenario = scenario;
        var faults = scenario.Faults.Where(f => f.Kind is "model.corrupt" or "model.unsigned").ToList();
        if (scenario.ModelPackage is null || faults.Count == 0)
        {
            return;
        }

        _dir = Directory.CreateTempSubdirectory("wh-hil-models-").FullName;
        foreach (var f in faults)
        {
            var copy = Path.Combine(_dir, f.Id);
            Directory.CreateDirectory(copy);
            foreach (var file in Directory.GetFiles(scenario.ModelPackage))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            if (f.Kind == "model.unsigned")
            {
                File.Delete(Path.Combine(copy, Edge.Models.ModelPackageLayout.SignatureFile));
            }
            else
            {
                var onnx = Path.Combine(copy, Edge.Models.ModelPackageLayout.OnnxFile);
                var bytes = File.ReadAllBytes(onnx);
                bytes[bytes.Length / 2] ^= 0x5A;
                File.WriteAllBytes(onnx, bytes);
            }

            foreach (var r in f.Robots)
            {
                _packageOf[r] = copy;
            }

            Notes.Add($"{f.Kind} '{f.Id}': robots {string.Join(", ", f.Robots)} boot with {(f.Kind == "model.unsigned" ? "the package without its signature" : "the package with one ONNX byte changed")}");
        }
    }

    public List<string> Notes { get; } = [];

    public void Configure(int robot, Edge.Runtime.EdgeOptions options)
    {
        if (_scenario.ModelPackage is null)
        {
            return;
        }

        options.ModelPackagePath = _packageOf.GetValueOrDefault(robot, _scenario.ModelPackage);
        if (_scenario.ModelKey is { } key)
        {
            options.TrustedModelKeys = [key];
        }
    }

    public void Dispose()
    {
        if (_dir is not null)
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
