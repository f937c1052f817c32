using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Hil.Reports;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Scenarios;

/// <summary>How a scenario is run: long or short form, where the report goes, whether to record.</summary>
public sealed record ScenarioRunOptions
{
    /// <summary>Run the short (CI) form.</summary>
    public bool Short { get; init; }

    /// <summary>Override the duration (soaks).</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Directory for report.json, report.md and the plots (null: no files).</summary>
    public string? ReportDirectory { get; init; }

    /// <summary>Write a recording of every serial frame and plan message here (in-process mode).</summary>
    public string? RecordingFile { get; init; }

    /// <summary>Whether to draw the PNG plots.</summary>
    public bool Plots { get; init; } = true;

    /// <summary>
    /// Multiplies every timing bound of the expectations (fallback deadlines, the telemetry gap): 1 judges the
    /// product's targets; tests on a shared, overloaded machine use a larger factor so a bound only catches a hang.
    /// </summary>
    public double TimingTolerance { get; init; } = 1;

    /// <summary>Progress lines (null: quiet).</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>Daemon mode: hold robots after a broker restart until the rig's observer is back (see <see cref="Daemons.DaemonRigOptions.HoldRobotsOnBrokerRestart"/>).</summary>
    public bool HoldRobotsOnBrokerRestart { get; init; } = true;
}

/// <summary>Shared verdict logic of the in-process and daemon runners.</summary>
internal static class ScenarioVerdict
{
    /// <summary>Watches statuses for the fallbacks a scenario expects; returns the time each was first seen.</summary>
    public sealed class FallbackWatch(Scenario scenario, double tolerance = 1)
    {
        private readonly double?[] _seenAt = new double?[scenario.Expect.Fallbacks.Count];

        public void Observe(double t, int robot, string mode, string reason)
        {
            for (var i = 0; i < _seenAt.Length; i++)
            {
                var e = scenario.Expect.Fallbacks[i];
                if (_seenAt[i] is not null || e.Robot != robot)
                {
                    continue;
                }

                var fault = scenario.Faults.First(f => f.Id == e.After);
                if (t < fault.At.TotalSeconds)
                {
                    continue;
                }

                var modeOk = e.Mode is null ? mode is not ("Rule" or "Learned") : mode == e.Mode;
                var reasonOk = e.Reason is null || reason == e.Reason;
                if (modeOk && reasonOk)
                {
                    _seenAt[i] = t;
                }
            }
        }

        public IEnumerable<CheckResult> Results()
        {
            for (var i = 0; i < _seenAt.Length; i++)
            {
                var e = scenario.Expect.Fallbacks[i];
                var start = scenario.Faults.First(f => f.Id == e.After).At.TotalSeconds;
                var within = e.Within.TotalMilliseconds * tolerance;
                var name = $"fallback: robot {e.Robot} enters {e.Mode ?? "a fallback"}{(e.Reason is null ? string.Empty : $" ({e.Reason})")} within {within:F0} ms of '{e.After}'";
                if (_seenAt[i] is { } seen)
                {
                    var ms = (seen - start) * 1000;
                    yield return new CheckResult(name, ms <= within, $"entered after {ms:F0} ms");
                }
                else
                {
                    yield return new CheckResult(name, false, "never entered");
                }
            }
        }
    }

    /// <summary>The scenario's world settings applied over a rig's defaults.</summary>
    public static SimWorldOptions World(Scenario scenario, SimWorldOptions defaults) => defaults with
    {
        OdometryNoiseFraction = scenario.OdometryNoise,
        RangeNoiseStdMetres = scenario.RangeNoise,
        HeadingNoiseStdRad = scenario.HeadingNoise,
        BrakeDecelerationMps2 = scenario.WorldBrakeDeceleration ?? defaults.BrakeDecelerationMps2,
    };

    public static ViolationRecord? Record(InvariantViolation? v) => v is null ? null
        : new ViolationRecord(v.Kind.ToString(), v.Time.TotalSeconds, v.StepNumber, v.RobotIds, v.Cells, v.Message);

    public static IEnumerable<CheckResult> Invariants(Scenario scenario, long count, InvariantViolation? first)
    {
        if (scenario.Expect.ExpectViolation is { } expected)
        {
            yield return new CheckResult($"the first violation is {expected}", first?.Kind.ToString() == expected,
                first is null ? "no violation happened" : first.ToString());
        }
        else if (scenario.Expect.InvariantsHold)
        {
            yield return new CheckResult("invariants hold every tick", count == 0, count == 0 ? "0 violations" : $"{count} violations; first: {first}");
        }
    }

    public static IEnumerable<CheckResult> Common(Scenario scenario, long tasks, long siteSteps, IReadOnlyList<EdgeStatus> statuses)
    {
        if (scenario.Expect.SiteStepsAtLeast is { } steps)
        {
            yield return new CheckResult($"site steps >= {steps}", siteSteps >= steps, $"{siteSteps} dispatched");
        }

        if (scenario.Expect.TasksFinishedAtLeast is { } k)
        {
            yield return new CheckResult($"tasks finished >= {k}", tasks >= k, $"{tasks} finished");
        }

        if (scenario.Expect.ModelRefused is { } refused)
        {
            var install = statuses.Count > refused.Robot ? statuses[refused.Robot].ModelInstall : null;
            var got = install is null ? "no install attempted" : install.Installed ? "installed" : install.Refusal.ToString();
            yield return new CheckResult($"robot {refused.Robot}'s model package is refused as {refused.Refusal}", got == refused.Refusal, got + (install is { Installed: false } ? ": " + install.Detail : string.Empty));
        }
    }

    public static List<string> WriteArtifacts(ScenarioReport report, RunTrace trace, Domain.Grid.GridMap map, double cellSize, double end, ScenarioRunOptions options)
    {
        var artifacts = new List<string>();
        if (options.ReportDirectory is not { } dir)
        {
            return artifacts;
        }

        Directory.CreateDirectory(dir);
        if (options.Plots)
        {
            Plots.Trajectories(map, cellSize, trace, Path.Combine(dir, "trajectories.png"), $"{report.Name}: trajectories");
            Plots.TickLatency(trace, Path.Combine(dir, "tick-latency.png"), $"{report.Name}: rig tick wall time");
            Plots.ModeTimeline(trace, end, Path.Combine(dir, "modes.png"), $"{report.Name}: decision mode per robot");
            artifacts.AddRange(["trajectories.png", "tick-latency.png", "modes.png"]);
        }

        artifacts.AddRange(["report.json", "report.md"]);
        return artifacts;
    }

    public static void Save(ScenarioReport report, ScenarioRunOptions options)
    {
        if (options.ReportDirectory is not { } dir)
        {
            return;
        }

        File.WriteAllText(Path.Combine(dir, "report.json"), report.ToJson());
        File.WriteAllText(Path.Combine(dir, "report.md"), report.ToMarkdown());
    }
}
