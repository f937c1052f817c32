using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// The 2023-rules entrant: the system assigns each robot its goals, so the entrant only routes.
/// It drives the project's optimizer (the same tables, guidance and router as under 2024 rules)
/// with every system goal submitted as a single-errand task pinned to its robot, in the order the
/// system reveals them. It mirrors the system's bookkeeping: a robot standing on its first goal
/// has reached it (the system then shows the next ones), at most one goal per robot per step.
/// </summary>
public sealed class AssignedGoalsEntrant : ILorrEntrant
{
    private readonly IFleetPlanner _planner;
    private readonly Queue<int>[] _pending; // per robot: cells of its submitted, unfinished goals, oldest first
    private int _nextId;

    /// <summary>Creates the entrant around <paramref name="planner"/> (which must start with no tasks).</summary>
    public AssignedGoalsEntrant(IFleetPlanner planner)
    {
        _planner = planner ?? throw new ArgumentNullException(nameof(planner));
        _pending = new Queue<int>[planner.RobotCount];
        for (var i = 0; i < _pending.Length; i++)
        {
            _pending[i] = new Queue<int>();
        }
    }

    /// <summary>The wrapped planner.</summary>
    public IFleetPlanner Planner => _planner;

    /// <inheritdoc />
    public void Initialize() => (_planner as PibtFleetPlanner)?.WarmUp();

    /// <inheritdoc />
    public void Reveal(int taskId, int[] errands)
    {
        // 2023 rules: tasks come as system goals in the observation.
    }

    /// <inheritdoc />
    public LorrDecision Compute(LorrObservation observation, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var poses = observation.Poses;
        var goals = observation.SystemGoals;
        if (goals is null || goals.Length != _pending.Length || poses.Length != _pending.Length)
        {
            var waits = new RobotAction[poses.Length];
            Array.Fill(waits, RobotAction.Wait);
            return new LorrDecision(waits, null);
        }

        for (var k = 0; k < _pending.Length; k++)
        {
            // The goal the robot stands on is reached now (the planner records it in this step),
            // so the system's list has moved one on; submit the goals not yet known.
            var pending = _pending[k];
            var reachedNow = pending.Count > 0 && poses[k].Cell == pending.Peek();
            if (reachedNow)
            {
                pending.Dequeue();
            }

            for (var g = pending.Count; g < goals[k].Count; g++)
            {
                var cell = goals[k][g];
                pending.Enqueue(cell);
                _planner.SubmitTask(new PlanningTask(_nextId++, [cell], PinnedRobot: k));
            }
        }

        var pauseBefore = GC.GetTotalPauseDuration();
        var result = _planner.PlanStep(poses, budget, cancellationToken);
        Phases.Add(result);
        return new LorrDecision(result.Actions, null, PlannerPhaseTotals.Describe(result, GC.GetTotalPauseDuration() - pauseBefore));
    }

    /// <summary>Time per planning phase over the run.</summary>
    public PlannerPhaseTotals Phases { get; } = new();

    /// <inheritdoc />
    public string? Summary() => Phases.ToString();
}
