using System.Globalization;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.Fleet;

/// <summary>What a fleet benchmark measured.</summary>
/// <param name="Robots">Robots simulated.</param>
/// <param name="SimulatedTime">Virtual time covered.</param>
/// <param name="WallTime">Wall time it took.</param>
/// <param name="WorldSteps">World steps (each checked every invariant).</param>
/// <param name="ControlTicks">Edge control ticks run (all robots).</param>
/// <param name="SiteSteps">Site steps dispatched.</param>
/// <param name="TasksFinished">Tasks finished.</param>
/// <param name="Violations">Invariant violations.</param>
/// <param name="FirstViolation">The first one, if any.</param>
/// <param name="PlanWallTime">Wall time inside the optimizer.</param>
public sealed record FleetBenchResult(
    int Robots, TimeSpan SimulatedTime, TimeSpan WallTime, long WorldSteps, long ControlTicks, uint SiteSteps, long TasksFinished,
    long Violations, string? FirstViolation, TimeSpan PlanWallTime)
{
    /// <summary>CPU time the process used during the measurement (all threads).</summary>
    public TimeSpan CpuTime { get; init; }

    /// <summary>
    /// The speed factor the CPU work allows on this many otherwise idle cores (simulated / (CPU time / cores)):
    /// on a shared machine the wall-clock factor mostly measures the other tenants.
    /// </summary>
    public double CpuBoundSpeedFactor(int cores) => SimulatedTime / (CpuTime / cores);

    /// <summary>Wall time per phase (world, robots, site).</summary>
    public (TimeSpan World, TimeSpan Robots, TimeSpan Site) Phases { get; init; }

    /// <summary>Simulated time per wall time.</summary>
    public double SpeedFactor => SimulatedTime / WallTime;

    /// <summary>A one-line summary.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Robots} robots, {SimulatedTime.TotalSeconds:F1} s simulated in {WallTime.TotalSeconds:F1} s wall: speed factor {SpeedFactor:F2}x " +
        $"(CPU {CpuTime.TotalSeconds:F1} s: {CpuBoundSpeedFactor(Environment.ProcessorCount):F2}x on {Environment.ProcessorCount} idle cores); " +
        $"{WorldSteps} world steps with invariants, {ControlTicks} control ticks, {SiteSteps} site steps, {TasksFinished} tasks finished, " +
        $"optimizer {PlanWallTime.TotalSeconds:F1} s, {Violations} invariant violations; wall per phase: world {Phases.World.TotalSeconds:F1} s, boards+edges {Phases.Robots.TotalSeconds:F1} s, site {Phases.Site.TotalSeconds:F1} s");
}

/// <summary>The in-process fleet benchmark: N lock-step robots on a map for a span of virtual time, as fast as possible.</summary>
public static class FleetBench
{
    /// <summary>Builds the fleet, runs a warm-up second, then measures <paramref name="simulated"/> of virtual time.</summary>
    public static async Task<FleetBenchResult> RunAsync(GridMap map, FleetOptions options, TimeSpan simulated, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        await using var fleet = new LockstepFleet(map, options);
        fleet.Start();
        fleet.RunFor(TimeSpan.FromSeconds(1)); // warm-up: JIT, first plan, distance tables
        var ticksBefore = fleet.Runtimes.Sum(r => r.GetStatus().Loop.Ticks);
        var startSim = fleet.Now;
        var cpuBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var started = TimeProvider.System.GetTimestamp();
        var nextReport = TimeSpan.FromSeconds(10);
        fleet.RunFor(simulated, () =>
        {
            if (fleet.Now - startSim >= nextReport)
            {
                nextReport += TimeSpan.FromSeconds(10);
                var wall = TimeProvider.System.GetElapsedTime(started);
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {(fleet.Now - startSim).TotalSeconds,6:F0} s simulated, {wall.TotalSeconds,6:F1} s wall ({(fleet.Now - startSim) / wall:F2}x), {fleet.Site?.Stats.TasksFinished ?? 0} tasks, {fleet.World.ViolationCount} violations"));
            }

            return cancellationToken.IsCancellationRequested;
        });
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        if (options.Parallelism == 1)
        {
            var p = fleet.RobotPhaseTimes;
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  per-robot phases (incl. warm-up): board pumps {p[0].TotalSeconds:F2} s, edge ingest {p[1].TotalSeconds:F2} s, control ticks {p[2].TotalSeconds:F2} s, command out + board apply {p[3].TotalSeconds:F2} s"));
        }

        var ticks = fleet.Runtimes.Sum(r => r.GetStatus().Loop.Ticks) - ticksBefore;
        var site = fleet.Site?.Stats ?? default;
        return new FleetBenchResult(fleet.Count, fleet.Now - startSim, elapsed, (long)((fleet.Now - startSim) / options.WorldStep), ticks,
            site.Step, site.TasksFinished, fleet.World.ViolationCount, fleet.World.FirstViolation?.ToString(), site.PlanWallTime) { Phases = fleet.PhaseTimes, CpuTime = cpu };
    }
}
