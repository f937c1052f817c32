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
/// <param name="PlanWallTime">Wall time inside the optimizer during the measurement.</param>
public sealed record FleetBenchResult(
    int Robots, TimeSpan SimulatedTime, TimeSpan WallTime, long WorldSteps, long ControlTicks, uint SiteSteps, long TasksFinished,
    long Violations, string? FirstViolation, TimeSpan PlanWallTime)
{
    /// <summary>CPU time the process used during the measurement (all threads, spinning and GC included).</summary>
    public TimeSpan CpuTime { get; init; }

    /// <summary>Threads the fleet ran its per-robot work on.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// The fleet's critical-path CPU time during the measurement (<see cref="LockstepFleet.CriticalPathCpu"/>): the
    /// wall time the run would take with a core per thread and no other tenant. Zero when not measurable.
    /// </summary>
    public TimeSpan CriticalPathCpu { get; init; }

    /// <summary><see cref="CriticalPathCpu"/> by phase (world with invariants, per-robot work, site).</summary>
    public (TimeSpan World, TimeSpan Robots, TimeSpan Site) CriticalPathPhases { get; init; }

    /// <summary>Bytes allocated during the measurement (all threads).</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Garbage collections (any generation) during the measurement.</summary>
    public int Collections { get; init; }

    /// <summary>
    /// Simulated time per share of the process's CPU time on <paramref name="cores"/> cores, capped at the
    /// threads the fleet used: simulated / (CPU time / min(cores, threads)). On a shared machine the wall-clock
    /// factor mostly measures the other tenants; this one still counts every cycle the process burned.
    /// </summary>
    public double CpuNormalizedSpeedFactor(int cores) => SimulatedTime / (CpuTime / Math.Max(1, Math.Min(cores, Threads)));

    /// <summary>Simulated time per critical-path CPU time: the speed factor idle cores (one per thread) would give.</summary>
    public double CriticalPathSpeedFactor => CriticalPathCpu > TimeSpan.Zero ? SimulatedTime / CriticalPathCpu : double.NaN;

    /// <summary>Wall time per phase (world, robots, site) during the measurement.</summary>
    public (TimeSpan World, TimeSpan Robots, TimeSpan Site) Phases { get; init; }

    /// <summary>Wall time of the per-robot phase on world steps with control ticks, and of the world step's per-robot ranges.</summary>
    public (TimeSpan RobotsOnControlSteps, TimeSpan WorldRanges) Details { get; init; }

    /// <summary>CPU time of the site's steps (on a worker beside the world steps), and what of it the critical path was charged.</summary>
    public (TimeSpan Steps, TimeSpan OnCriticalPath) SiteStepCpu { get; init; }

    /// <summary>Simulated time per wall time.</summary>
    public double SpeedFactor => SimulatedTime / WallTime;

    /// <summary>A one-line summary.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Robots} robots, {SimulatedTime.TotalSeconds:F1} s simulated in {WallTime.TotalSeconds:F1} s wall: speed factor {SpeedFactor:F2}x; " +
        $"process CPU {CpuTime.TotalSeconds:F2} s: {CpuNormalizedSpeedFactor(Environment.ProcessorCount):F2}x CPU-normalized on {Math.Min(Environment.ProcessorCount, Threads)} core(s); " +
        $"critical path CPU {CriticalPathCpu.TotalSeconds:F2} s (world {CriticalPathPhases.World.TotalSeconds:F2}, robots {CriticalPathPhases.Robots.TotalSeconds:F2}, site {CriticalPathPhases.Site.TotalSeconds:F2}, of it the site's steps {SiteStepCpu.OnCriticalPath.TotalSeconds:F2} of their {SiteStepCpu.Steps.TotalSeconds:F2} s CPU): {CriticalPathSpeedFactor:F2}x on idle cores; " +
        $"allocated {AllocatedBytes / 1048576.0:F1} MiB, {Collections} GCs; " +
        $"{WorldSteps} world steps with invariants, {ControlTicks} control ticks, {SiteSteps} site steps, {TasksFinished} tasks finished, " +
        $"optimizer {PlanWallTime.TotalSeconds:F1} s, {Violations} invariant violations; wall per phase: world {Phases.World.TotalSeconds:F2} s, boards+edges {Phases.Robots.TotalSeconds:F2} s (on control steps {Details.RobotsOnControlSteps.TotalSeconds:F2} s), site {Phases.Site.TotalSeconds:F2} s, of the world its per-robot ranges {Details.WorldRanges.TotalSeconds:F2} s");
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
        var pathBefore = fleet.CriticalPathCpu;
        var phasesBefore = fleet.CriticalPathPhases;
        var wallPhasesBefore = fleet.PhaseTimes;
        var detailsBefore = fleet.DetailTimes;
        var siteStepsBefore = fleet.SiteStepCpu;
        var planBefore = fleet.Site?.Stats.PlanWallTime ?? TimeSpan.Zero;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var collectionsBefore = GC.CollectionCount(0);
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
        var path = fleet.CriticalPathCpu - pathBefore;
        var phases = fleet.CriticalPathPhases;
        phases = (phases.World - phasesBefore.World, phases.Robots - phasesBefore.Robots, phases.Site - phasesBefore.Site);
        var siteSteps = fleet.SiteStepCpu;
        siteSteps = (siteSteps.Steps - siteStepsBefore.Steps, siteSteps.OnCriticalPath - siteStepsBefore.OnCriticalPath);
        var details = fleet.DetailTimes;
        details = (details.RobotsOnControlSteps - detailsBefore.RobotsOnControlSteps, details.WorldRanges - detailsBefore.WorldRanges);
        var wallPhases = fleet.PhaseTimes;
        wallPhases = (wallPhases.World - wallPhasesBefore.World, wallPhases.Robots - wallPhasesBefore.Robots, wallPhases.Site - wallPhasesBefore.Site);
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        var collections = GC.CollectionCount(0) - collectionsBefore;
        if (options.Parallelism == 1)
        {
            var p = fleet.RobotPhaseTimes;
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  per-robot phases (incl. warm-up): board pumps {p[0].TotalSeconds:F2} s, edge ingest {p[1].TotalSeconds:F2} s, control ticks {p[2].TotalSeconds:F2} s, command out + board apply {p[3].TotalSeconds:F2} s"));
        }

        var ticks = fleet.Runtimes.Sum(r => r.GetStatus().Loop.Ticks) - ticksBefore;
        var site = fleet.Site?.Stats ?? default;
        return new FleetBenchResult(fleet.Count, fleet.Now - startSim, elapsed, (long)((fleet.Now - startSim) / options.WorldStep), ticks,
            site.Step, site.TasksFinished, fleet.World.ViolationCount, fleet.World.FirstViolation?.ToString(), site.PlanWallTime - planBefore) 
        {
            Phases = wallPhases, Details = details, SiteStepCpu = siteSteps, CpuTime = cpu, Threads = options.Parallelism, CriticalPathCpu = path, CriticalPathPhases = phases, AllocatedBytes = allocated, Collections = collections,
        };
    }
}
