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
    public void Reveal(int taskId, int[] errands) => _planner.SubmitTask(new PlanningTask(taskId, errands));

    /// <inheritdoc />
    public LorrDecision Compute(LorrObservation observation, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (observation.Execution is { } execution && _planner is PibtFleetPlanner planner)
        {
            return ComputePlan(planner, execution, budget, cancellationToken);
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
    // system's open task for it.
    private LorrDecision ComputePlan(PibtFleetPlanner planner, LorrExecutionState execution, TimeSpan budget, CancellationToken cancellationToken)
    {
        var n = planner.RobotCount;
        var window = Math.Max(1, execution.Window);
        planner.HoldOnFinish = true; // a task finished in the rollout is not done for the system yet
        planner.Takeovers = false;   // the robot losing a task could still reach it before the system hears
        foreach (var id in execution.FinishedSinceLastCall)
        {
            planner.CompleteTask(id); // the system got there first (a route crossing it); a no-op when the rollout did
        }

        var poses = (RobotPose[])execution.Predicted.Clone();
        var plan = new List<RobotAction>[n];
        for (var r = 0; r < n; r++)
        {
            plan[r] = new List<RobotAction>(window);
            var sys = execution.SystemTask[r];
            planner.SetFrozen(r, execution.Backlog[r] >= window);
            planner.SetHeld(r, sys >= 0 && !planner.IsOpen(sys));
        }

        var pauseBefore = GC.GetTotalPauseDuration();
        var start = Stopwatch.GetTimestamp();
        PlannerStepResult? last = null;
        var map = planner.Grid.Map;
        var firstTask = new int[n];
        Array.Fill(firstTask, -1);
        for (var step = 0; step < window; step++)
        {
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
            schedule[r] = doneHere ? sys : firstTask[r];
        }

        if (Environment.GetEnvironmentVariable("WH_D26_DEBUG") == "1")
        {
            var seen = new Dictionary<int, int>();
            for (var r = 0; r < n; r++)
            {
                if (schedule[r] >= 0 && seen.TryGetValue(schedule[r], out var o))
                {
                    Console.Error.WriteLine($"dup task {schedule[r]}: robots {o} (sys {execution.SystemTask[o]}, first {firstTask[o]}, open {planner.IsOpen(execution.SystemTask[o])}) and {r} (sys {execution.SystemTask[r]}, first {firstTask[r]})");
                }

                seen[schedule[r]] = r;
            }
        }

        return new LorrDecision(last!.Actions, schedule, PlannerPhaseTotals.Describe(last, GC.GetTotalPauseDuration() - pauseBefore)) { Plan = plan };
    }

    /// <summary>2026: whether the first step of each rollout may hand unstarted tasks to closer robots.</summary>
    public bool TakeoversAtFirstStep { get; init; } = Environment.GetEnvironmentVariable("WH_D26_TAKEOVER") != "0";

    /// <summary>Time per planning phase over the run.</summary>
    public PlannerPhaseTotals Phases { get; } = new();

    /// <inheritdoc />
    public string? Summary() => _planner is PibtFleetPlanner p
        ? string.Create(CultureInfo.InvariantCulture, $"{Phases}; jam fallback: {p.Counters.JamSearches} joint searches, {p.Counters.JamPlans} plans followed, {p.Counters.JamPlanSteps} robot-steps on them")
        : Phases.ToString();
}
