using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>Plays robots through their grains (no broker): reports completed steps and confirms the plans a <see cref="RecordingPublisher"/> saw.</summary>
internal sealed class GrainRobots(IGrainFactory grains, RecordingPublisher publisher)
{
    private ulong _seq = 1;

    /// <summary>Reports that <paramref name="robot"/> completed <paramref name="step"/> at a pose.</summary>
    public Task ReportAsync(string site, string robot, uint step, int cell, Heading heading, ulong? seq = null) =>
        grains.GetGrain<IRobotGrain>(robot).ReportTelemetryAsync(new TelemetryReport
        {
            RobotId = robot,
            SiteId = site,
            Seq = seq ?? Interlocked.Increment(ref _seq),
            LastCompletedStep = step,
            Cell = cell,
            Heading = heading,
        });

    /// <summary>
    /// From <paramref name="firstStep"/> on, waits for each step's plan of <paramref name="leader"/> and confirms every plan
    /// of that step at its target, until <paramref name="done"/> holds (checked after each step) or <paramref name="maxSteps"/>
    /// steps. Robots the site holds simply get no plans.
    /// </summary>
    public async Task DriveAsync(string site, string leader, uint firstStep, int maxSteps, Func<Task<bool>> done)
    {
        for (var step = firstStep; step < firstStep + maxSteps; step++)
        {
            var s = step;
            var plans = await Eventually.WaitForAsync(() => Task.FromResult(publisher.PlansForStep(site, s)), p => p.Any(x => x.RobotId == leader), $"{leader}'s plan for step {s}");
            foreach (var p in plans)
            {
                await ReportAsync(site, p.RobotId, s, p.Steps[0].TargetCell, (Heading)p.Steps[0].TargetHeading);
            }

            if (await done())
            {
                return;
            }
        }
    }
}
