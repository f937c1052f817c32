using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Planning.Simulation;

/// <summary>What a <see cref="LifelongRun"/> observed.</summary>
public sealed class LifelongRunReport
{
    /// <summary>Steps simulated.</summary>
    public int Steps { get; internal set; }

    /// <summary>Tasks the planner reported finished.</summary>
    public int TasksFinished { get; internal set; }

    /// <summary>Tasks the simulation itself saw finished (robot on each errand in order while assigned).</summary>
    public int TasksFinishedObserved { get; internal set; }

    /// <summary>Steps the validator rejected (every robot then waited, as in LoRR).</summary>
    public int InvalidSteps { get; internal set; }

    /// <summary>The first conflicts found, for messages.</summary>
    public List<string> Conflicts { get; } = new();

    /// <summary>Steps answered with the fallback.</summary>
    public int FallbackSteps { get; internal set; }

    /// <summary>Longest run of steps any robot spent on one cell while holding a task.</summary>
    public int LongestStall { get; internal set; }

    /// <summary>Robots that at some point stayed on one cell longer than the stall limit while holding a task.</summary>
    public int StalledRobots { get; internal set; }

    /// <summary>Planning time of every step.</summary>
    public List<TimeSpan> PlanTimes { get; } = new();

    /// <summary>Every step's actions (only when recording was asked for).</summary>
    public List<RobotAction[]>? ActionLog { get; internal set; }

    /// <summary>Tasks finished per step.</summary>
    public double Throughput => Steps == 0 ? 0 : (double)TasksFinished / Steps;

    /// <summary>The <paramref name="q"/>-quantile (0..1) of planning time.</summary>
    public TimeSpan PlanTimePercentile(double q)
    {
        if (PlanTimes.Count == 0)
        {
            return TimeSpan.Zero;
        }

        var sorted = PlanTimes.Order().ToArray();
        var idx = (int)Math.Clamp(Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[idx];
    }
}

/// <summary>
/// A pure in-memory lifelong simulation with LoRR 2024 rules, for tests and benchmarks: robots
/// start at the given cells facing east; tasks are revealed in list order (wrapping around) so
/// that <c>numTasksReveal x teamSize</c> are open; each step the planner is called, its actions are
/// checked by the project's <see cref="PlanValidator"/> and applied (an invalid step makes every
/// robot wait). Finished tasks are counted both as the planner reports them and as observed.
/// </summary>
public sealed class LifelongRun
{
    private readonly GridMap _map;
    private readonly IReadOnlyList<IReadOnlyList<int>> _taskList;
    private readonly double _numTasksReveal;

    /// <summary>Sets up a run.</summary>
    /// <param name="map">The map.</param>
    /// <param name="taskList">Task errand lists in reveal order (reused cyclically).</param>
    /// <param name="numTasksReveal">Open tasks per robot (LoRR's numTasksReveal).</param>
    public LifelongRun(GridMap map, IReadOnlyList<IReadOnlyList<int>> taskList, double numTasksReveal = 1.5)
    {
        _map = map ?? throw new ArgumentNullException(nameof(map));
        _taskList = taskList ?? throw new ArgumentNullException(nameof(taskList));
        if (taskList.Count == 0)
        {
            throw new ArgumentException("the task list is empty", nameof(taskList));
        }

        _numTasksReveal = numTasksReveal;
    }

    /// <summary>Robots on one cell with a task for more than this many steps count as stalled.</summary>
    public int StallLimit { get; init; } = 50;

    /// <summary>Keep every step's actions in the report.</summary>
    public bool RecordActions { get; init; }

    /// <summary>Runs <paramref name="steps"/> steps from <paramref name="startCells"/> (all facing east).</summary>
    public LifelongRunReport Run(IFleetPlanner planner, IReadOnlyList<int> startCells, int steps, TimeSpan budgetPerStep, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(planner);
        ArgumentNullException.ThrowIfNull(startCells);
        var n = startCells.Count;
        var poses = new RobotPose[n];
        for (var i = 0; i < n; i++)
        {
            poses[i] = new RobotPose(startCells[i], Heading.East);
        }

        var report = new LifelongRunReport { ActionLog = RecordActions ? new List<RobotAction[]>() : null };
        var validator = new PlanValidator(_map);
        var after = new RobotPose[n];
        var conflicts = new List<Conflict>();
        var openTarget = (int)Math.Ceiling(_numTasksReveal * n);
        var revealed = 0;
        var errandsById = new Dictionary<int, IReadOnlyList<int>>();
        var observedNext = new Dictionary<int, int>();
        var assigned = new RobotAssignment[n];
        Array.Fill(assigned, new RobotAssignment(-1, 0, -1));
        var stall = new int[n];
        var stalled = new bool[n];

        for (var step = 0; step <= steps; step++)
        {
            // Observe progress of the last move independently of the planner's bookkeeping.
            for (var i = 0; i < n && step > 0; i++)
            {
                var id = assigned[i].TaskId;
                if (id < 0 || !errandsById.TryGetValue(id, out var errands))
                {
                    continue;
                }

                // One errand per step at most, as the LoRR Start-Kit counts them.
                var k = observedNext.GetValueOrDefault(id);
                if (k < errands.Count && poses[i].Cell == errands[k])
                {
                    k++;
                }

                observedNext[id] = k;
                if (k == errands.Count)
                {
                    report.TasksFinishedObserved++;
                    errandsById.Remove(id);
                }
            }

            while (planner.OpenTaskCount < openTarget)
            {
                var errands = _taskList[revealed % _taskList.Count];
                errandsById[revealed] = errands;
                planner.SubmitTask(new PlanningTask(revealed, errands));
                revealed++;
            }

            var result = planner.PlanStep(poses, step == steps ? TimeSpan.Zero : budgetPerStep, cancellationToken);
            report.TasksFinished += result.FinishedTaskIds.Count;
            if (step == steps)
            {
                break; // the last call only collects what the final move reached
            }

            report.Steps++;
            report.PlanTimes.Add(result.Elapsed);
            report.ActionLog?.Add((RobotAction[])result.Actions.Clone());
            if (result.UsedFallback)
            {
                report.FallbackSteps++;
            }

            result.Assignments.CopyTo(assigned, 0);
            conflicts.Clear();
            if (validator.ValidateStep(poses, result.Actions, after, conflicts))
            {
                after.CopyTo(poses, 0);
            }
            else
            {
                report.InvalidSteps++;
                foreach (var c in conflicts.Take(5 - Math.Min(5, report.Conflicts.Count)))
                {
                    report.Conflicts.Add($"step {step}: {c}");
                }
            }

            for (var i = 0; i < n; i++)
            {
                var moved = result.Actions[i] == RobotAction.Forward;
                stall[i] = assigned[i].TaskId >= 0 && !moved ? stall[i] + 1 : 0;
                report.LongestStall = Math.Max(report.LongestStall, stall[i]);
                if (stall[i] > StallLimit && !stalled[i])
                {
                    stalled[i] = true;
                    report.StalledRobots++;
                }
            }
        }

        return report;
    }
}
