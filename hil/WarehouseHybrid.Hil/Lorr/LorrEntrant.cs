using WarehouseHybrid.Domain.Actions;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>What the bench shows the entrant before one planning call (the Start-Kit's shared environment).</summary>
/// <param name="Timestep">The simulation step the plan is for.</param>
/// <param name="Poses">Every robot's current pose (a copy the entrant may keep).</param>
/// <param name="SystemGoals">
/// 2023 rules only: each robot's system-assigned errand cells, nearest first (the Start-Kit's
/// <c>goal_locations</c>); null under 2024/2026 rules, where the entrant schedules.
/// </param>
public sealed record LorrObservation(int Timestep, RobotPose[] Poses, IReadOnlyList<int>[]? SystemGoals)
{
    /// <summary>2026 rules: the execution state the plan continues from (null under 2023/2024 rules).</summary>
    public LorrExecutionState? Execution { get; init; }
}

/// <summary>
/// 2026 rules: what the entry's executor reports when the planner is called. The plan's first
/// action starts after each robot's staged actions, so planning starts from the predicted poses.
/// </summary>
/// <param name="Predicted">Each robot's pose once its staged actions are done.</param>
/// <param name="Backlog">Each robot's staged actions not yet completed.</param>
/// <param name="SystemTask">Each robot's task as the system sees it now (-1 none; a task the planner thinks done may still be open).</param>
/// <param name="Window">Actions per robot a plan should hold (the Start-Kit executor's window: communication time / action time + 1).</param>
public sealed record LorrExecutionState(RobotPose[] Predicted, int[] Backlog, int[] SystemTask, int Window)
{
    /// <summary>Tasks the system finished since the previous planning call (gone from the Start-Kit's task pool).</summary>
    public IReadOnlyList<int> FinishedSinceLastCall { get; init; } = [];

    /// <summary>The system's open tasks (the Start-Kit's task pool), assigned or not; null when not given.</summary>
    public IReadOnlyList<int>? OpenTasks { get; init; }

    /// <summary>Ticks each robot has spent on its action under way (0 at rest; the Start-Kit state's counter); null when not given.</summary>
    public int[]? ActionProgress { get; init; }

    /// <summary>Ticks per forward move or turn (the instance's agentCounter).</summary>
    public int TicksPerAction { get; init; } = 1;

    /// <summary>Ticks from this planning call until its plan and schedule take effect (one planner period).</summary>
    public int TicksUntilApplied { get; init; } = 1;
}

/// <summary>What the entrant answers: one action per robot and (2024/2026) its proposed task schedule.</summary>
/// <param name="Actions">One action per robot; a wrong length is a planner error (everyone waits).</param>
/// <param name="Schedule">The task id each robot should work on (-1 none), or null under 2023 rules.</param>
/// <param name="Diagnostics">Where the entrant's time went, shown when a call runs over its budget (optional).</param>
public sealed record LorrDecision(RobotAction[] Actions, int[]? Schedule, string? Diagnostics = null)
{
    /// <summary>2026 rules: each robot's planned actions from its predicted pose (null: <see cref="Actions"/> as a one-step plan).</summary>
    public IReadOnlyList<IReadOnlyList<RobotAction>>? Plan { get; init; }
}

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
