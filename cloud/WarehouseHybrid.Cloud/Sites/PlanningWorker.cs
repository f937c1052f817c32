using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Cloud.Sites;

/// <summary>What one planning call produced and how long it took on the worker.</summary>
/// <param name="Result">The optimizer's result.</param>
/// <param name="Elapsed">Time spent in <see cref="IFleetPlanner.PlanStep"/>.</param>
public sealed record PlanningOutcome(PlannerStepResult Result, TimeSpan Elapsed);

/// <summary>
/// Runs the CPU-heavy <see cref="IFleetPlanner.PlanStep"/> on a dedicated thread, never on the
/// grain's scheduler, so the site grain keeps answering while the optimizer works. The grain
/// awaits the returned task from a detached flow and applies the result in its own context.
/// </summary>
public sealed class PlanningWorker(TimeProvider timeProvider)
{
    /// <summary>Plans one step off the caller's scheduler.</summary>
    public Task<PlanningOutcome> PlanAsync(IFleetPlanner planner, RobotPose[] poses, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(planner);
        ArgumentNullException.ThrowIfNull(poses);

        // TaskScheduler.Default matters: inside a grain the current scheduler is the activation's.
        return Task.Factory.StartNew(
            () =>
            {
                var started = timeProvider.GetTimestamp();
                var result = planner.PlanStep(poses, budget, cancellationToken);
                return new PlanningOutcome(result, timeProvider.GetElapsedTime(started));
            },
            cancellationToken,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);
    }
}
