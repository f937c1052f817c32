using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Routing;
using WarehouseHybrid.Planning.Scheduling;

namespace WarehouseHybrid.Planning.Fleet;

/// <summary>
/// The lifelong fleet optimizer: each step it records the errands the robots' poses reached,
/// greedily assigns open tasks to idle robots, then routes every robot one step with PIBT with
/// rotations over exact (cell, heading) distance tables. Pure (no I/O), deterministic for a seed,
/// never throws from <see cref="PlanStep"/>: odd input and an exhausted budget yield the all-wait
/// step (always valid). Not thread-safe: one site drives one planner; the distance tables are
/// computed on several threads inside a step.
/// </summary>
public sealed class PibtFleetPlanner : IFleetPlanner
{
    private readonly GridMap _map;
    private readonly PlannerOptions _options;
    private readonly TimeProvider _time;
    private readonly TaskBook _tasks;
    private readonly DistanceTableCache _cache;
    private readonly GreedyTaskAssigner _assigner;
    private readonly PibtRouter _router;
    private readonly Random _rng;
    private readonly OpenTask?[] _robotTasks;
    private readonly int[] _sinceProgress;
    private readonly int[] _tieBreak;
    private readonly HeadingDistanceTable?[] _tables;
    private readonly int[] _order;
    private readonly long[] _orderKey;
    private readonly List<int> _goals = new();
    private readonly bool[] _occupied;

    /// <summary>Creates a planner for <paramref name="robotCount"/> robots on <paramref name="map"/>.</summary>
    public PibtFleetPlanner(GridMap map, int robotCount, PlannerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfNegative(robotCount);
        _options = options ?? new PlannerOptions();
        _options.Validate();
        _map = map;
        _time = _options.TimeProvider;
        RobotCount = robotCount;
        Grid = new CompactGrid(map);
        _cache = new DistanceTableCache(Grid, _options.DistanceCacheBytes);
        _tasks = new TaskBook(map);
        _assigner = new GreedyTaskAssigner(_cache, _options.SchedulingDistance);
        _router = new PibtRouter(Grid);
        _rng = new Random(_options.Seed);
        _robotTasks = new OpenTask?[robotCount];
        _sinceProgress = new int[robotCount];
        _tables = new HeadingDistanceTable?[robotCount];
        _order = new int[robotCount];
        _orderKey = new long[robotCount];
        _tieBreak = new int[robotCount];
        _occupied = new bool[map.CellCount];
        for (var i = 0; i < robotCount; i++)
        {
            _tieBreak[i] = i;
        }

        _rng.Shuffle(_tieBreak);
    }

    /// <inheritdoc />
    public int RobotCount { get; }

    /// <inheritdoc />
    public int OpenTaskCount => _tasks.Count;

    /// <summary>The indexed map the planner routes on.</summary>
    public CompactGrid Grid { get; }

    /// <summary>The shared distance tables (exposed for metrics and prewarming).</summary>
    public DistanceTableCache DistanceTables => _cache;

    /// <summary>Running totals.</summary>
    public PlannerCounters Counters { get; } = new();

    /// <summary>Open tasks in reveal order (read-only view for dashboards and tests).</summary>
    public IReadOnlyList<OpenTask> OpenTasks => _tasks.Open;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task has no errands, an errand is off the map or on an obstacle, or the id is already open.</exception>
    public void SubmitTask(PlanningTask task) => _tasks.Add(task);

    /// <inheritdoc />
    public PlannerStepResult PlanStep(ReadOnlySpan<RobotPose> poses, TimeSpan budget, CancellationToken cancellationToken = default)
    {
        var start = _time.GetTimestamp();
        var result = new PlannerStepResult(RobotCount);
        Counters.Steps++;
        if (poses.Length != RobotCount)
        {
            Counters.BadInputs++;
            return Fallback(result, start);
        }

        RecordProgress(poses, result);
        if (budget <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
        {
            return Fallback(result, start);
        }

        // A budget too large to add to a timestamp means "no deadline".
        var budgetTicks = budget.TotalSeconds * _time.TimestampFrequency;
        var deadline = budgetTicks >= long.MaxValue / 4 ? long.MaxValue : start + (long)budgetTicks;
        bool Late() => cancellationToken.IsCancellationRequested || (deadline != long.MaxValue && _time.GetTimestamp() >= deadline);

        // Scheduling.
        _cache.Prefetch(_assigner.GoalsNeeded(_tasks.Open), _options.MaxParallelism, Late, cancellationToken);
        if (Late())
        {
            return Fallback(result, start);
        }

        var posesCopy = poses.ToArray();
        Counters.Assignments += _assigner.Assign(posesCopy, _robotTasks, _tasks.Open, Late);

        // Routing: every robot's goal table, computed in parallel, then PIBT sequentially.
        _goals.Clear();
        foreach (var t in _robotTasks)
        {
            if (t is not null)
            {
                _goals.Add(t.GoalCell);
            }
        }

        if (!_cache.Prefetch(_goals, _options.MaxParallelism, Late, cancellationToken) || Late())
        {
            return Fallback(result, start);
        }

        for (var i = 0; i < RobotCount; i++)
        {
            _tables[i] = _robotTasks[i] is { } t ? _cache.Get(t.GoalCell) : null;
        }

        BuildOrder(poses);
        var illegal = _router.Plan(poses, _order, _tables, _rng, result.Actions, Late);
        if (illegal < 0 || Late())
        {
            return Fallback(result, start);
        }

        Counters.IllegalPoses += illegal;
        FillAssignments(result);
        result.Elapsed = _time.GetElapsedTime(start);
        return result;
    }

    // LoRR semantics: an errand is reached when the robot stands on its cell, whatever the heading.
    private void RecordProgress(ReadOnlySpan<RobotPose> poses, PlannerStepResult result)
    {
        var anyFinished = false;
        for (var i = 0; i < RobotCount; i++)
        {
            var t = _robotTasks[i];
            if (t is null)
            {
                continue;
            }

            var progressed = false;
            while (poses[i].Cell == t.GoalCell)
            {
                progressed = true;
                Counters.ErrandsReached++;
                if (t.NextErrand == t.Task.Errands.Count - 1)
                {
                    result.FinishedTaskIds.Add(t.Task.Id);
                    Counters.TasksFinished++;
                    _tasks.Finish(t);
                    _robotTasks[i] = null;
                    anyFinished = true;
                    break;
                }

                result.ErrandsReached.Add((i, t.Task.Id, t.NextErrand));
                t.NextErrand++;
            }

            _sinceProgress[i] = progressed ? 0 : _sinceProgress[i] + 1;
        }

        if (anyFinished)
        {
            _tasks.Compact();
        }
    }

    // Highest priority first: robots with a task whose goal cell is free, longest without
    // progress, then nearest to goal, then a fixed random rank. A robot whose goal is occupied by
    // another robot cannot finish this step; ranking it below lets the occupant (e.g. one in a
    // dead end whose only exit the other blocks) push its way out instead of both livelocking.
    private void BuildOrder(ReadOnlySpan<RobotPose> poses)
    {
        foreach (var p in poses)
        {
            if (_map.InBounds(p.Cell))
            {
                _occupied[p.Cell] = true;
            }
        }

        for (var i = 0; i < RobotCount; i++)
        {
            _order[i] = i;
            long key;
            if (_tables[i] is { } table)
            {
                var wait = Math.Min(_sinceProgress[i], (1 << 20) - 1);
                var dist = Math.Min(table.Distance(poses[i].Cell, poses[i].Heading), ushort.MaxValue);
                var blocked = _occupied[table.GoalCell] && poses[i].Cell != table.GoalCell ? 1L : 0L;
                key = (blocked << 61) | ((long)((1 << 20) - wait) << 40) | ((long)dist << 20) | (uint)_tieBreak[i];
            }
            else
            {
                key = long.MaxValue - RobotCount + _tieBreak[i];
            }

            _orderKey[i] = key;
        }

        foreach (var p in poses)
        {
            if (_map.InBounds(p.Cell))
            {
                _occupied[p.Cell] = false;
            }
        }

        Array.Sort(_orderKey, _order, 0, RobotCount);
    }

    private void FillAssignments(PlannerStepResult result)
    {
        for (var i = 0; i < RobotCount; i++)
        {
            result.Assignments[i] = _robotTasks[i] is { } t
                ? new RobotAssignment(t.Task.Id, t.NextErrand, t.GoalCell)
                : new RobotAssignment(-1, 0, -1);
        }
    }

    private PlannerStepResult Fallback(PlannerStepResult result, long start)
    {
        result.Actions.AsSpan().Fill(RobotAction.Wait);
        result.UsedFallback = true;
        Counters.Fallbacks++;
        if (result.Assignments.Length == RobotCount)
        {
            FillAssignments(result);
        }

        result.Elapsed = _time.GetElapsedTime(start);
        return result;
    }
}
