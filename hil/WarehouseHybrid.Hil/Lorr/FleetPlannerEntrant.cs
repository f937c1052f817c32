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

    /// <summary>Time per planning phase over the run.</summary>
    public PlannerPhaseTotals Phases { get; } = new();

    /// <inheritdoc />
    public string? Summary() => Phases.ToString();
}
