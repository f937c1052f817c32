using WarehouseHybrid.Domain.Actions;

namespace WarehouseHybrid.Planning.Fleet;

/// <summary>A task as the optimizer sees it: an id and its ordered errands (cell ids).</summary>
/// <param name="Id">Unique task id.</param>
/// <param name="Errands">Cells to visit in order; the task is finished when the last is reached.</param>
/// <param name="PinnedRobot">
/// The robot that must do it (the site or the LoRR 2023 system assigned it), or -1 to let the
/// scheduler choose. A robot works on its pinned tasks in submission order, one at a time.
/// </param>
public sealed record PlanningTask(int Id, IReadOnlyList<int> Errands, int PinnedRobot = -1);

/// <summary>One robot's assignment after a planning step.</summary>
/// <param name="TaskId">The task it works on, or -1.</param>
/// <param name="NextErrandIndex">Index of the errand it heads for.</param>
/// <param name="GoalCell">The cell it heads for, or -1.</param>
public readonly record struct RobotAssignment(int TaskId, int NextErrandIndex, int GoalCell);

/// <summary>What one planning step produced.</summary>
public sealed class PlannerStepResult
{
    /// <summary>Creates a result for <paramref name="robotCount"/> robots, all waiting.</summary>
    public PlannerStepResult(int robotCount)
    {
        Actions = new RobotAction[robotCount];
        Array.Fill(Actions, RobotAction.Wait);
        Assignments = new RobotAssignment[robotCount];
        Array.Fill(Assignments, new RobotAssignment(-1, 0, -1));
    }

    /// <summary>The next action of every robot (index = robot index). Always a valid step.</summary>
    public RobotAction[] Actions { get; }

    /// <summary>Every robot's assignment after this step's scheduling.</summary>
    public RobotAssignment[] Assignments { get; }

    /// <summary>Tasks whose last errand was reached by the poses given to this step.</summary>
    public List<int> FinishedTaskIds { get; } = new();

    /// <summary>Robots that reached an errand (not the last) in the poses given.</summary>
    public List<(int Robot, int TaskId, int ErrandIndex)> ErrandsReached { get; } = new();

    /// <summary>True when the budget ran out and the fallback step was used.</summary>
    public bool UsedFallback { get; set; }

    /// <summary>Wall time spent planning.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>Where the time went (zero for phases the step did not reach).</summary>
    public StepPhases Phases { get; set; }
}

/// <summary>Wall time of each phase of one planning step.</summary>
/// <param name="Schedule">Recording progress and assigning tasks.</param>
/// <param name="Tables">Computing missing distance tables on the step's thread.</param>
/// <param name="Route">Routing up to a first complete valid plan.</param>
/// <param name="Search">Improving it (local search) while time remained.</param>
public readonly record struct StepPhases(TimeSpan Schedule, TimeSpan Tables, TimeSpan Route, TimeSpan Search);

/// <summary>
/// The lifelong fleet optimizer's contract: the site gives it the robots' confirmed poses each
/// step; it records reached errands, (re)assigns tasks and returns one valid action per robot.
/// Implementations are pure (no I/O), deterministic for a given seed, and must return a valid
/// step within the budget, never throw on a bad budget and never block.
/// </summary>
public interface IFleetPlanner
{
    /// <summary>Number of robots (fixed for the planner's life).</summary>
    int RobotCount { get; }

    /// <summary>Adds a task to the open pool (revealed to the scheduler).</summary>
    void SubmitTask(PlanningTask task);

    /// <summary>Number of open (revealed, unfinished) tasks including assigned ones.</summary>
    int OpenTaskCount { get; }

    /// <summary>Plans one step from the given poses.</summary>
    PlannerStepResult PlanStep(ReadOnlySpan<RobotPose> poses, TimeSpan budget, CancellationToken cancellationToken = default);
}
