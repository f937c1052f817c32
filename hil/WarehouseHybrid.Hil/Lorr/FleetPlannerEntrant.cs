using System.Diagnostics;
using System.Globalization;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// Adapts the project's <see cref="IFleetPlanner"/> (the optimizer) to the bench: revealed tasks are
/// submitted to its pool; its actions and assignments become the decision and the proposed schedule.
/// </summary>
public sealed class FleetPlannerEntrant : ILorrEntrant
{
    private readonly IFleetPlanner _planner;

    /// <summary>Wraps <paramref name="planner"/>.</summary>
    public FleetPlannerEntrant(IFleetPlanner planner) => _planner = planner ?? throw new ArgumentNullException(nameof(planner));

    /// <summary>The wrapped planner.</summary>
    public IFleetPlanner Planner => _planner;

    /// <inheritdoc />
    public void Initialize() => (_planner as PibtFleetPlanner)?.WarmUp();

    /// <inheritdoc />
    public void Reveal(int taskId, int[] errands)
    {
        _planner.SubmitTask(new PlanningTask(taskId, errands));
        if (_keepErrands)
        {
            _errands[taskId] = errands;
        }
    }

    // Every revealed task's errands until the system reports it finished (2026: to hand a task back
    // to the planner); dropped at the first call without an execution state (2023/2024 rules).
    private readonly Dictionary<int, int[]> _errands = new();
    private bool _keepErrands = true;

    /// <inheritdoc />
    public LorrDecision Compute(LorrObservation observation, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (observation.Execution is { } execution && _planner is PibtFleetPlanner planner)
        {
            return ComputePlan(planner, execution, observation.Poses, budget, cancellationToken);
        }

        if (_keepErrands)
        {
            _keepErrands = false;
            _errands.Clear();
        }

        var pauseBefore = GC.GetTotalPauseDuration();
        var result = _planner.PlanStep(observation.Poses, budget, cancellationToken);
        var schedule = new int[result.Assignments.Length];
        for (var i = 0; i < schedule.Length; i++)
        {
            schedule[i] = result.Assignments[i].TaskId;
        }

        Phases.Add(result);
        return new LorrDecision(result.Actions, schedule, PlannerPhaseTotals.Describe(result, GC.GetTotalPauseDuration() - pauseBefore));
    }

    // 2026 rules: plan `Window` steps ahead from the predicted poses by rolling the optimizer
    // forward (its own errand bookkeeping runs ahead of the system's, which is consistent because
    // every staged step is eventually executed in order). Robots with enough staged work are frozen;
    // a robot whose task the planner counts as done but the system does not yet gets no new task
    // (the system would not credit errands of a task it has not assigned), and the proposal keeps the
    // system's open task for it, unless it is about to land on it (Anticipate). Tasks the system
    // finished first are dropped from the planner, tasks left open and unheld are handed back, and
    // the rollout's first step may hand tasks to closer robots (ADR 0007, item 7).
    private LorrDecision ComputePlan(PibtFleetPlanner planner, LorrExecutionState execution, RobotPose[] currentPoses, TimeSpan budget, CancellationToken cancellationToken)
    {
        var n = planner.RobotCount;
        var window = Math.Max(1, execution.Window);
        planner.HoldOnFinish = true; // a task finished in the rollout is not done for the system yet
        foreach (var id in execution.FinishedSinceLastCall)
        {
            planner.CompleteTask(id); // the system got there first (a route crossing it); a no-op when the rollout did
            _errands.Remove(id);
        }

        Reconcile(planner, execution);
        var poses = (RobotPose[])execution.Predicted.Clone();
        var plan = new List<RobotAction>[n];
        var anticipated = new bool[n];
        for (var r = 0; r < n; r++)
        {
            plan[r] = new List<RobotAction>(window);
            var sys = execution.SystemTask[r];
            planner.SetFrozen(r, execution.Backlog[r] >= window);
            var held = sys >= 0 && !planner.IsOpen(sys);
            anticipated[r] = held && Anticipate && FinishesBeforeApplied(r, sys, observation: execution, current: currentPoses);
            planner.SetHeld(r, held && !anticipated[r]);
        }

        var pauseBefore = GC.GetTotalPauseDuration();
        var start = Stopwatch.GetTimestamp();
        PlannerStepResult? last = null;
        var map = planner.Grid.Map;
        var firstTask = new int[n];
        Array.Fill(firstTask, -1);
        for (var step = 0; step < window; step++)
        {
            // Only the first step's assignment becomes the schedule; a later takeover would send a robot
            // to a task the system still gives to another.
            planner.Takeovers = step == 0 && TakeoversAtFirstStep;
            var left = budget - Stopwatch.GetElapsedTime(start);
            var result = planner.PlanStep(poses, left / (window - step), cancellationToken);
            Phases.Add(result);
            last = result;
            for (var r = 0; r < n; r++)
            {
                var a = result.Actions[r];
                plan[r].Add(a);
                poses[r] = poses[r].Apply(a, map);
                if (firstTask[r] < 0)
                {
                    // The task the plan starts with goes to the system, even one finished within this plan.
                    firstTask[r] = result.Assignments[r].TaskId;
                }
            }
        }

        // A robot whose system task the planner counts as done (before or within this rollout) keeps
        // proposing it until the system confirms, unless another robot took it over in the first step.
        var takenBy = new Dictionary<int, int>();
        for (var r = 0; r < n; r++)
        {
            if (firstTask[r] >= 0)
            {
                takenBy[firstTask[r]] = r;
            }
        }

        var schedule = new int[n];
        for (var r = 0; r < n; r++)
        {
            var sys = execution.SystemTask[r];
            var doneHere = sys >= 0 && !planner.IsOpen(sys) && (!takenBy.TryGetValue(sys, out var taker) || taker == r);
            schedule[r] = anticipated[r] && firstTask[r] >= 0 ? firstTask[r] : doneHere ? sys : firstTask[r];
        }

        return new LorrDecision(last!.Actions, schedule, PlannerPhaseTotals.Describe(last, GC.GetTotalPauseDuration() - pauseBefore)) { Plan = plan };
    }

    /// <summary>2026: whether the first step of each rollout may hand unstarted tasks to closer robots.</summary>
    public bool TakeoversAtFirstStep { get; init; } = true;

    /// <summary>
    /// 2026: whether a robot about to finish a single-errand task already gets its next task
    /// (default true): its only staged action left is the move onto the errand's cell and, unless
    /// delayed or held for a grant, it lands before this call's schedule applies, so the system
    /// has credited the task by then and the robot goes on without waiting a period for a new one.
    /// </summary>
    public bool Anticipate { get; init; } = true;

    /// <summary>Tasks handed back to the planner: open in the system, held by no robot there, finished only in the planner's rollout.</summary>
    public int TasksHandedBack { get; private set; }

    private bool FinishesBeforeApplied(int robot, int task, LorrExecutionState observation, RobotPose[] current)
    {
        if (observation.ActionProgress is not { } progress || !_errands.TryGetValue(task, out var errands))
        {
            return false;
        }

        var target = observation.Predicted[robot].Cell;
        var ticksLeft = observation.TicksPerAction - progress[robot];
        // Single-errand tasks only: if a delay holds the robot past the schedule, the system moves it
        // to its next task and the unfinished one comes back (Reconcile); a started multi-errand task
        // would keep the robot instead, while the plan already leads it to the next task's errands.
        return observation.Backlog[robot] == 1
            && errands.Length == 1
            && target == errands[0]
            && current[robot].Cell != target
            && ticksLeft <= observation.TicksUntilApplied;
    }

    // A task the rollout finished whose robot then was given another one before the system credited
    // it (an anticipation a delay overtook) is open in the system and held by nobody: the planner
    // gets it back as a new open task, so no task is left behind.
    private void Reconcile(PibtFleetPlanner planner, LorrExecutionState execution)
    {
        if (execution.OpenTasks is not { } open)
        {
            return;
        }

        var held = new HashSet<int>(execution.SystemTask);
        foreach (var id in open)
        {
            if (!planner.IsOpen(id) && !held.Contains(id) && _errands.TryGetValue(id, out var errands))
            {
                planner.SubmitTask(new PlanningTask(id, errands));
                TasksHandedBack++;
            }
        }
    }

    /// <summary>Time per planning phase over the run.</summary>
    public PlannerPhaseTotals Phases { get; } = new();

    /// <inheritdoc />
    public string? Summary() => _planner is PibtFleetPlanner p
        ? string.Create(CultureInfo.InvariantCulture, $"{Phases}; tasks the system finished first {p.Counters.TasksCompletedBySite}, handed back {TasksHandedBack}; jam fallback: {p.Counters.JamSearches} joint searches, {p.Counters.JamPlans} plans followed, {p.Counters.JamPlanSteps} robot-steps on them, {p.Counters.JamSwaps} task exchanges; planner faults {p.Counters.Faults}{(p.LastFault is { } f ? $" (last: {f.GetType().Name}: {f.Message})" : "")}")
        : Phases.ToString();
}
