using WarehouseHybrid.Domain.Actions;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>What the bench shows the entrant before one planning call (the Start-Kit's shared environment).</summary>
/// <param name="Timestep">The simulation step the plan is for.</param>
/// <param name="Poses">Every robot's current pose (a copy the entrant may keep).</param>
/// <param name="SystemGoals">
/// 2023 rules only: each robot's system-assigned errand cells, nearest first (the Start-Kit's
/// <c>goal_locations</c>); null under 2024/2026 rules, where the entrant schedules.
/// </param>
public sealed record LorrObservation(int Timestep, RobotPose[] Poses, IReadOnlyList<int>[]? SystemGoals);

/// <summary>What the entrant answers: one action per robot and (2024/2026) its proposed task schedule.</summary>
/// <param name="Actions">One action per robot; a wrong length is a planner error (everyone waits).</param>
/// <param name="Schedule">The task id each robot should work on (-1 none), or null under 2023 rules.</param>
/// <param name="Diagnostics">Where the entrant's time went, shown when a call runs over its budget (optional).</param>
public sealed record LorrDecision(RobotAction[] Actions, int[]? Schedule, string? Diagnostics = null);

/// <summary>
/// The entry under test, as the LoRR Start-Kit sees it: it is told about revealed tasks and asked,
/// once per planning episode, for actions (and, 2024+, a schedule) within a time budget. The bench
/// calls it from one worker thread at a time; it does not need to be thread-safe.
/// </summary>
public interface ILorrEntrant
{
    /// <summary>Preprocessing before the first step (the Start-Kit's initialize, not timed as planning).</summary>
    void Initialize()
    {
    }

    /// <summary>A task was revealed (2024/2026 rules): its id and errand cells in visiting order.</summary>
    void Reveal(int taskId, int[] errands);

    /// <summary>Plans one step. Should return within <paramref name="budget"/>; lateness costs all-wait steps.</summary>
    LorrDecision Compute(LorrObservation observation, TimeSpan budget, CancellationToken cancellationToken);

    /// <summary>A closing line about the run (e.g. mean time per planning phase), or null.</summary>
    string? Summary() => null;
}
