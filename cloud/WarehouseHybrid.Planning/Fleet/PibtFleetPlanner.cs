using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Guidance;
using WarehouseHybrid.Planning.Jams;
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
    private readonly IStepRouter _router;
    private readonly Random _rng;
    private readonly OpenTask?[] _robotTasks;
    private readonly int[] _sinceProgress;
    private readonly int[] _tieBreak;
    private readonly GoalDistanceTable?[] _tables;
    private readonly GoalTableStore? _store;
    private readonly Dictionary<int, ManhattanEstimate> _estimates = new();
    private readonly List<int> _missing = new();
    private readonly HashSet<int> _missingSet = new();
    private readonly int[] _order;
    private readonly long[] _orderKey;
    private readonly List<int> _goals = new();
    private readonly int[] _occupant; // cell -> robot + 1 standing there (0: none), only inside BuildOrder
    private double _routeTicksEma; // recent routing time (timestamp ticks), for the phase clock
    private readonly bool[] _frozen;
    private readonly bool[] _pinned;    // what the router holds: frozen by the caller, or following a joint plan
    private readonly JamResolver? _jams;
    private readonly Func<int, bool> _mayExchange;
    private readonly bool[] _held;
    private readonly int[] _lastCell;  // each robot's cell in the previous call
    private readonly int[] _stuck;     // steps a robot holding a task has stayed on one cell
    private readonly bool[] _protected; // robots whose pass choice the local search keeps (lead; stuck robots whose goal is taken)
    private readonly bool[] _yielding;  // robots standing on a stuck robot's goal: ranked first until they reach an errand (or, idle, leave the cell)
    private readonly int[] _yieldCell;  // the goal cell a yielding robot was standing on
    private readonly bool[] _goalTaken; // robots whose goal another robot stands on (this step)
    private readonly int[] _bestGoal;   // the goal cell _bestDist refers to (-1: none)
    private readonly int[] _bestDist;   // least distance to that goal seen so far
    private readonly int[] _noGain;     // steps since _bestDist last fell
    private readonly List<int> _stalledPositions = new();
    private readonly Random _stallRng;  // the stalled robots' per-step order (apart from _rng so the router's draws do not depend on it)

    // Share of the step's aimed budget (BudgetUse) after which the routing local search stops.
    private const double SearchShare = 0.6;

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
        Lazy = _options.TableMode == DistanceTableMode.Lazy
            || (_options.TableMode == DistanceTableMode.Auto && Grid.Count > _options.LazyTablesAboveCells);
        var scheduling = _options.SchedulingDistance == SchedulingDistance.Auto
            ? (Lazy ? SchedulingDistance.Manhattan : SchedulingDistance.Exact)
            : _options.SchedulingDistance;
        Costs = _options.Guidance == GuidanceMode.Highways ? GuidanceCosts.Highways(Grid, _options.HighwayAgainstCost, _options.HighwayLayout) : null;
        if (Lazy)
        {
            // Lazy mode keeps its tables in the store; the exact cache only serves Exact scheduling.
            _store = new GoalTableStore(Grid, _options.LazyTableKind, _options.DistanceCacheBytes, _options.BackgroundTableWorkers ?? Math.Max(1, _options.MaxParallelism - 1), Costs);
            _cache = new DistanceTableCache(Grid, scheduling == SchedulingDistance.Exact ? _options.DistanceCacheBytes / 4 : 1, Costs);
        }
        else
        {
            _cache = new DistanceTableCache(Grid, _options.DistanceCacheBytes, Costs);
        }

        _tasks = new TaskBook(map);
        _assigner = new GreedyTaskAssigner(_cache, scheduling) { ApproachWeight = _options.AssignmentApproachWeight, NearestFirst = _options.AssignmentNearestFirst };
        _frozen = new bool[robotCount];
        _pinned = new bool[robotCount];
        _jams = _options.JamAfterSteps > 0
            ? new JamResolver(map, robotCount) { JamAfterSteps = _options.JamAfterSteps, GroupSize = _options.JamGroupSize, WindowRadius = _options.JamWindowRadius, NodeCap = _options.JamNodeCap, NoCycles = _options.NoCycles }
            : null;
        _held = new bool[robotCount];
        _mayExchange = MayExchange;
        _lastCell = new int[robotCount];
        Array.Fill(_lastCell, -1);
        _stuck = new int[robotCount];
        _protected = new bool[robotCount];
        _yielding = new bool[robotCount];
        _yieldCell = new int[robotCount];
        _goalTaken = new bool[robotCount];
        _bestGoal = new int[robotCount];
        Array.Fill(_bestGoal, -1);
        _bestDist = new int[robotCount];
        _noGain = new int[robotCount];
        _stallRng = new Random(unchecked(_options.Seed * 7919) + 17);
        _router = _options.Routing == RoutingAlgorithm.Epibt
            ? new EpibtRouter(Grid, _options.OperationDepth) { Costs = Costs, LocalSearch = _options.RoutingLocalSearch, TimeProvider = _time, NoCycles = _options.NoCycles, Frozen = _pinned, Protected = _protected, Evacuate = _yielding, KeepOut = _jams?.KeepOut }
            : new PibtRouter(Grid) { PreferFreeCellsOnTies = _options.PreferFreeCellsOnTies ?? !Lazy, Costs = Costs, Frozen = _pinned, KeepOut = _jams?.KeepOut };
        _rng = new Random(_options.Seed);
        _robotTasks = new OpenTask?[robotCount];
        _sinceProgress = new int[robotCount];
        _tables = new GoalDistanceTable?[robotCount];
        _order = new int[robotCount];
        _orderKey = new long[robotCount];
        _tieBreak = new int[robotCount];
        _occupant = new int[map.CellCount];
        for (var i = 0; i < robotCount; i++)
        {
            _tieBreak[i] = i;
        }

        _rng.Shuffle(_tieBreak);
    }

    /// <summary>
    /// Runs this planner's code paths once on a small throwaway instance (both table modes, with
    /// these options), so that the first real steps do not pay for just-in-time compilation. Meant
    /// for a preprocessing phase; does not touch this planner's state. Takes well under a second.
    /// </summary>
    public void WarmUp()
    {
        var rows = new string[12];
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r] = r % 3 == 1 ? "..@@@..@@@..@@@.." : new string('.', 17);
        }

        var kinds = string.Concat(rows).Select(ch => ch == '@' ? CellKind.Obstacle : CellKind.Free).ToArray();
        var map = new GridMap(17, rows.Length, kinds, "warm-up");
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        var rng = new Random(1);
        var tasks = Enumerable.Range(0, 200).Select(_ => (IReadOnlyList<int>)[free[rng.Next(free.Length)], free[rng.Next(free.Length)]]).ToList();
        var starts = free.Where((_, i) => i % 4 == 0).Take(24).ToList();
        foreach (var mode in new[] { DistanceTableMode.UpFront, DistanceTableMode.Lazy })
        {
            var options = new PlannerOptions
            {
                Seed = _options.Seed,
                TableMode = mode,
                Routing = _options.Routing,
                OperationDepth = _options.OperationDepth,
                RoutingLocalSearch = _options.RoutingLocalSearch,
                Guidance = _options.Guidance,
                HighwayAgainstCost = _options.HighwayAgainstCost,
                HighwayLayout = _options.HighwayLayout,
                AssignmentApproachWeight = _options.AssignmentApproachWeight,
                AssignmentNearestFirst = _options.AssignmentNearestFirst,
                SchedulingDistance = _options.SchedulingDistance,
                MaxParallelism = 1,
                BackgroundTableWorkers = 0,
            };
            new Simulation.LifelongRun(map, tasks, 1.5).Run(new PibtFleetPlanner(map, starts.Count, options), starts, 40, TimeSpan.FromSeconds(1));
        }
    }

    /// <inheritdoc />
    public int RobotCount { get; }

    /// <summary>
    /// Makes <paramref name="robot"/> wait in every following step, unpushable, until released
    /// (an executor still carrying out earlier steps of it; a robot stopped by its edge daemon).
    /// </summary>
    public void SetFrozen(int robot, bool frozen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(robot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(robot, RobotCount);
        _frozen[robot] = frozen;
        _pinned[robot] = frozen || (_jams is not null && _jams.Committed[robot]);
    }

    /// <summary>
    /// When true, a robot that finishes a task is held (<see cref="SetHeld"/>) until the caller
    /// releases it: for callers that plan ahead of execution and must hear from the site that the
    /// task is really done before the robot starts another.
    /// </summary>
    public bool HoldOnFinish { get; set; }

    /// <summary>
    /// Whether an idle robot may take over another's task that is not started yet (default true).
    /// Off for callers planning ahead of execution, where the first holder may still get there first.
    /// </summary>
    public bool Takeovers
    {
        get => _assigner.Takeovers;
        set => _assigner.Takeovers = value;
    }

    /// <summary>
    /// Keeps <paramref name="robot"/> from being given a new task until released (it keeps the one it
    /// has): e.g. the site has not yet confirmed that its last task is done.
    /// </summary>
    public void SetHeld(int robot, bool held)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(robot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(robot, RobotCount);
        _held[robot] = held;
    }

    /// <inheritdoc />
    public int OpenTaskCount => _tasks.Count;

    /// <summary>The guidance move costs of the tables (null: none).</summary>
    public GuidanceCosts? Costs { get; }

    /// <summary>The indexed map the planner routes on.</summary>
    public CompactGrid Grid { get; }

    /// <summary>The shared exact distance tables of up-front mode (exposed for metrics and prewarming).</summary>
    public DistanceTableCache DistanceTables => _cache;

    /// <summary>True when tables are computed lazily (<see cref="DistanceTableMode.Lazy"/>, or Auto on a large map).</summary>
    public bool Lazy { get; }

    /// <summary>The lazily computed tables (null in up-front mode).</summary>
    public GoalTableStore? GoalTables => _store;

    /// <summary>Running totals.</summary>
    public PlannerCounters Counters { get; } = new();

    /// <summary>Whether the task with <paramref name="taskId"/> is open (submitted and not yet finished as this planner saw it).</summary>
    public bool IsOpen(int taskId) => _tasks.IsOpen(taskId);

    /// <summary>
    /// The site reports the task with <paramref name="taskId"/> done (e.g. a robot crossed its last
    /// errand on a route planned before the task was its): the planner drops it, and the robot that
    /// held it here becomes idle (it may take a task in the next step). Callers planning ahead of
    /// execution need this, as the site can finish a task before the planner's own rollout reaches it.
    /// </summary>
    /// <returns>Whether the task was open here.</returns>
    public bool CompleteTask(int taskId)
    {
        if (_tasks.Find(taskId) is not { } t)
        {
            return false;
        }

        if (t.Robot >= 0 && ReferenceEquals(_robotTasks[t.Robot], t))
        {
            _robotTasks[t.Robot] = null;
        }

        t.Robot = -1;
        _tasks.Finish(t);
        _tasks.Compact();
        Counters.TasksCompletedBySite++;
        return true;
    }

    /// <summary>Open tasks in reveal order (read-only view for dashboards and tests).</summary>
    public IReadOnlyList<OpenTask> OpenTasks => _tasks.Open;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task has no errands, an errand is off the map or on an obstacle, the id is already open, or it is pinned to a robot that does not exist.</exception>
    public void SubmitTask(PlanningTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.PinnedRobot < -1 || task.PinnedRobot >= RobotCount)
        {
            throw new ArgumentException($"task {task.Id}: pinned to robot {task.PinnedRobot}, but the planner has robots 0-{RobotCount - 1}", nameof(task));
        }

        _tasks.Add(task);
    }

    /// <inheritdoc />
    public PlannerStepResult PlanStep(ReadOnlySpan<RobotPose> poses, TimeSpan budget, CancellationToken cancellationToken = default)
    {
        var start = _time.GetTimestamp();
        try
        {
            return PlanStepCore(poses, budget, start, cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The contract is "never throws, always valid": a defect anywhere in a step costs that step
            // (everyone waits, which is always valid) and is counted, never the caller's loop. Jam
            // commitments are dropped, since they were made on the state the step failed on.
            Counters.Faults++;
            LastFault = ex;
            _jams?.Reset();
            _frozen.AsSpan().CopyTo(_pinned);
            return Fallback(new PlannerStepResult(RobotCount), start);
        }
    }

    /// <summary>The last exception a step threw and turned into the all-wait fallback (<see cref="PlannerCounters.Faults"/>), or null.</summary>
    public Exception? LastFault { get; private set; }

    private PlannerStepResult PlanStepCore(ReadOnlySpan<RobotPose> poses, TimeSpan budget, long start, CancellationToken cancellationToken)
    {
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
        var budgetTicks = budget.TotalSeconds * _time.TimestampFrequency * _options.BudgetUse;
        var deadline = budgetTicks >= long.MaxValue / 4 ? long.MaxValue : start + (long)budgetTicks;
        bool Late() => cancellationToken.IsCancellationRequested || (deadline != long.MaxValue && _time.GetTimestamp() >= deadline);

        // The routing local search is optional work: it stops at SearchShare of the step's aim, leaving slack for a loaded machine.
        var searchEnd = budgetTicks >= long.MaxValue / 4 ? long.MaxValue : start + (long)(budgetTicks * SearchShare);
        if (_router is EpibtRouter epibt)
        {
            epibt.SearchStop = () => cancellationToken.IsCancellationRequested || (searchEnd != long.MaxValue && _time.GetTimestamp() >= searchEnd);
        }

        if (_store is not null)
        {
            return PlanLazy(poses, result, start, budgetTicks, Late, cancellationToken);
        }

        // Scheduling.
        _cache.Prefetch(_assigner.GoalsNeeded(_tasks.Open), _options.MaxParallelism, Late, cancellationToken);
        if (Late())
        {
            return Fallback(result, start);
        }

        var posesCopy = poses.ToArray();
        Counters.Assignments += _assigner.Assign(posesCopy, _robotTasks, _tasks.Open, Late, _tasks.HasPinned ? _tasks.NextPinned : null, MayTakeTask);
        var scheduled = _time.GetTimestamp();

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

        var tabled = _time.GetTimestamp();
        BuildOrder(poses);
        ResolveJams(poses, budgetTicks, Late);
        var illegal = _router.Plan(poses, _order, _tables, _rng, result.Actions, Late);
        if (illegal < 0)
        {
            return Fallback(result, start);
        }

        ApplyJamPlans(result);

        CountPartial();
        Counters.IllegalPoses += illegal;
        FillAssignments(result);
        result.Elapsed = _time.GetElapsedTime(start);
        result.Phases = Phases(start, scheduled, tabled);
        return result;
    }

    // Lazy mode: scheduling on Manhattan costs until 40% of the budget, missing goal tables on this
    // thread (while the background workers take the rest of the queue) until 60%, then PIBT with
    // the Manhattan estimate for goals whose table is not ready; late routing gives all-wait.
    private PlannerStepResult PlanLazy(ReadOnlySpan<RobotPose> poses, PlannerStepResult result, long start, double budgetTicks, Func<bool> late, CancellationToken cancellationToken)
    {
        var store = _store!;
        store.BeginStep();
        var unlimited = budgetTicks >= long.MaxValue / 4;
        // Routing must fit in what the earlier phases leave: they end early enough to leave twice
        // the recent routing time (a slow or loaded machine shortens scheduling and table work first).
        var reserve = 2 * _routeTicksEma;
        var scheduleEnd = unlimited ? long.MaxValue : start + (long)Math.Min(budgetTicks * 0.4, Math.Max(budgetTicks * 0.1, budgetTicks - reserve));
        var tablesEnd = unlimited ? long.MaxValue : start + (long)Math.Min(budgetTicks * 0.6, Math.Max(budgetTicks * 0.2, budgetTicks - reserve));
        bool Until(long end) => cancellationToken.IsCancellationRequested || (end != long.MaxValue && _time.GetTimestamp() >= end);

        var posesCopy = poses.ToArray();
        Counters.Assignments += _assigner.Assign(posesCopy, _robotTasks, _tasks.Open, () => Until(scheduleEnd), _tasks.HasPinned ? _tasks.NextPinned : null, MayTakeTask);
        var scheduled = _time.GetTimestamp();
        if (late())
        {
            return Fallback(result, start);
        }

        // Missing goal tables: queue them all for the workers, compute on this thread meanwhile.
        _missing.Clear();
        _missingSet.Clear();
        for (var i = 0; i < RobotCount; i++)
        {
            if (_robotTasks[i] is { } t && store.TryGet(t.GoalCell) is null && _missingSet.Add(t.GoalCell))
            {
                _missing.Add(t.GoalCell);
                store.Request(t.GoalCell);
            }
        }

        if (_missing.Count > 0)
        {
            Counters.TablesComputedInline += store.ComputeNow(_missing, () => Until(tablesEnd));
        }

        for (var i = 0; i < RobotCount; i++)
        {
            if (_robotTasks[i] is not { } t)
            {
                _tables[i] = null;
                continue;
            }

            var table = store.TryGet(t.GoalCell);
            if (table is null)
            {
                Counters.FallbackEstimates++;
                if (!_estimates.TryGetValue(t.GoalCell, out var est))
                {
                    if (_estimates.Count > 4 * RobotCount)
                    {
                        _estimates.Clear();
                    }

                    est = new ManhattanEstimate(_map, t.GoalCell);
                    _estimates[t.GoalCell] = est;
                }

                table = est;
            }

            _tables[i] = table;
        }

        // Prefetch the errand after the current one while memory allows.
        if (store.Bytes + ((long)store.Queued * store.TableBytes) < store.BudgetBytes / 2)
        {
            for (var i = 0; i < RobotCount; i++)
            {
                if (_robotTasks[i] is { } t && t.NextErrand + 1 < t.Task.Errands.Count)
                {
                    store.Request(t.Task.Errands[t.NextErrand + 1]);
                }
            }
        }

        if (late())
        {
            return Fallback(result, start);
        }

        var tabled = _time.GetTimestamp();
        BuildOrder(poses);
        ResolveJams(poses, budgetTicks, late);
        var illegal = _router.Plan(poses, _order, _tables, _rng, result.Actions, late);
        if (illegal < 0)
        {
            return Fallback(result, start);
        }

        ApplyJamPlans(result);

        CountPartial();
        Counters.IllegalPoses += illegal;
        FillAssignments(result);
        result.Elapsed = _time.GetElapsedTime(start);
        result.Phases = Phases(start, scheduled, tabled);
        var routeTicks = result.Phases.Route.TotalSeconds * _time.TimestampFrequency;
        _routeTicksEma = _routeTicksEma == 0 ? routeTicks : (0.8 * _routeTicksEma) + (0.2 * routeTicks);
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

            // At most one errand per step, as the LoRR Start-Kit counts them (a task may repeat a
            // cell in consecutive errands; the robot then stands there for two steps).
            var progressed = false;
            if (poses[i].Cell == t.GoalCell)
            {
                progressed = true;
                Counters.ErrandsReached++;
                if (t.NextErrand == t.Task.Errands.Count - 1)
                {
                    result.FinishedTaskIds.Add(t.Task.Id);
                    Counters.TasksFinished++;
                    _held[i] |= HoldOnFinish;
                    _tasks.Finish(t);
                    _robotTasks[i] = null;
                    anyFinished = true;
                }
                else
                {
                    result.ErrandsReached.Add((i, t.Task.Id, t.NextErrand));
                    t.NextErrand++;
                }
            }

            _sinceProgress[i] = progressed ? 0 : _sinceProgress[i] + 1;
        }

        for (var i = 0; i < RobotCount; i++)
        {
            var cell = poses[i].Cell;
            _stuck[i] = _robotTasks[i] is { } t && cell == _lastCell[i] && cell != t.GoalCell ? _stuck[i] + 1 : 0;
            _lastCell[i] = cell;

            // A yielding robot keeps its rank until it reaches an errand of its own (an idle one:
            // until it has left the cell), so the robot it made way for cannot push it straight back.
            if (_yielding[i] && (_sinceProgress[i] == 0 || (_robotTasks[i] is null && cell != _yieldCell[i])))
            {
                _yielding[i] = false;
            }
        }

        if (anyFinished)
        {
            _tasks.Compact();
        }
    }

    // Highest priority first: robots yielding a stuck robot's goal, then robots with a task whose
    // goal cell is free, longest without progress, then nearest to goal, then a fixed random rank.
    // Then the robots stalled (no new least distance to their goal for ShuffleStalledAfterSteps)
    // swap the positions they hold among themselves at random, every step: fixed ranks let robots
    // in a tree-shaped corridor push each other back and forth or hold a rank cycle for ever, and
    // PIBT's randomised tie-breaking, applied only where robots are stuck, breaks it.
    // A robot whose goal is occupied by another robot cannot finish this step; ranking it below
    // lets the occupant (e.g. one in a dead end whose only exit the other blocks) push its way out.
    // When the waiting robot has been stuck for a while the occupant is marked yielding and stays
    // first until it reaches an errand (an idle one: leaves the cell): with a rank that dropped
    // back as soon as the goal was free, the waiting robot pushed the occupant straight back into
    // the dead end, every few steps, for ever (ADR 0007, "Deadlock in one-wide corridors").
    private void BuildOrder(ReadOnlySpan<RobotPose> poses)
    {
        for (var i = 0; i < RobotCount; i++)
        {
            if (_map.InBounds(poses[i].Cell))
            {
                _occupant[poses[i].Cell] = i + 1;
            }
        }

        for (var i = 0; i < RobotCount; i++)
        {
            if (_tables[i] is { } table && _stuck[i] >= _options.ProtectStuckAfterSteps && _occupant[table.GoalCell] is > 0 and var o && o - 1 != i && !_yielding[o - 1])
            {
                _yielding[o - 1] = true;
                _yieldCell[o - 1] = table.GoalCell;
            }
        }

        for (var i = 0; i < RobotCount; i++)
        {
            _order[i] = i;
            var yielding = _yielding[i] ? 0L : 1L;
            long key;
            if (_tables[i] is { } table)
            {
                var wait = Math.Min(_sinceProgress[i], (1 << 20) - 1);
                var dist = Math.Min(table.Distance(poses[i].Cell, poses[i].Heading), ushort.MaxValue);
                var blocked = _occupant[table.GoalCell] > 0 && poses[i].Cell != table.GoalCell ? 1L : 0L;
                _goalTaken[i] = blocked != 0;
                if (table.GoalCell != _bestGoal[i] || dist < _bestDist[i])
                {
                    _bestGoal[i] = table.GoalCell;
                    _bestDist[i] = dist;
                    _noGain[i] = 0;
                }
                else
                {
                    _noGain[i]++;
                }

                key = (yielding << 62) | (blocked << 61) | ((long)((1 << 20) - wait) << 40) | ((long)dist << 20) | (uint)_tieBreak[i];
            }
            else
            {
                _goalTaken[i] = false;
                _bestGoal[i] = -1;
                _noGain[i] = 0;
                key = yielding == 0 ? _tieBreak[i] : long.MaxValue - RobotCount + _tieBreak[i];
            }

            _orderKey[i] = key;
        }

        foreach (var p in poses)
        {
            if (_map.InBounds(p.Cell))
            {
                _occupant[p.Cell] = 0;
            }
        }

        Array.Sort(_orderKey, _order, 0, RobotCount);
        if (_options.ShuffleStalledAfterSteps > 0)
        {
            ShuffleStalled();
        }

        // PIBT's guarantee rests on the lead robot keeping what the passes gave it; a robot stuck
        // for a while in front of its own goal, with another robot standing on it, keeps its choice
        // too (the router adds the robots these pushed), so the pushes that free a jam are not
        // undone by the local search. Robots merely queuing (goal free, or not stuck) and the
        // yielding robots stay free for the search: protecting every stuck robot and every
        // yielding one cost 18% of the throughput in a dense warehouse (ADR 0007).
        for (var i = 0; i < RobotCount; i++)
        {
            _protected[i] = _goalTaken[i] && _stuck[i] >= _options.ProtectStuckAfterSteps;
        }

        if (RobotCount > 0 && _tables[_order[0]] is not null)
        {
            _protected[_order[0]] = true;
        }
    }

    // The order positions the stalled robots hold get a fresh random assignment among them; every
    // other robot keeps its position.
    private void ShuffleStalled()
    {
        _stalledPositions.Clear();
        for (var p = 0; p < RobotCount; p++)
        {
            if (_tables[_order[p]] is not null && _noGain[_order[p]] >= _options.ShuffleStalledAfterSteps)
            {
                _stalledPositions.Add(p);
            }
        }

        for (var k = _stalledPositions.Count - 1; k > 0; k--)
        {
            var j = _stallRng.Next(k + 1);
            (_order[_stalledPositions[k]], _order[_stalledPositions[j]]) = (_order[_stalledPositions[j]], _order[_stalledPositions[k]]);
        }
    }

    // The jam fallback gets a small share of the step: it is rare, bounded by its node cap, and
    // must not cost the routing of everyone else its time.
    private const double JamShare = 0.05;

    private void ResolveJams(ReadOnlySpan<RobotPose> poses, double budgetTicks, Func<bool> late)
    {
        if (_jams is null)
        {
            return;
        }

        var hadPlans = _jams.ActiveCount > 0;
        var end = budgetTicks >= long.MaxValue / 4 ? long.MaxValue : _time.GetTimestamp() + (long)(budgetTicks * JamShare);
        _jams.Resolve(poses, _tables, _noGain, _bestDist, _frozen, () => late() || (end != long.MaxValue && _time.GetTimestamp() >= end), _options.JamTaskSwaps && Takeovers ? _mayExchange : null);
        foreach (var (a, b) in _jams.Exchanges)
        {
            // The resolver exchanged the robots' goal tables; the tasks follow.
            (_robotTasks[a], _robotTasks[b]) = (_robotTasks[b], _robotTasks[a]);
            if (_robotTasks[a] is { } ta)
            {
                ta.Robot = a;
            }

            if (_robotTasks[b] is { } tb)
            {
                tb.Robot = b;
            }
        }

        Counters.JamSearches = _jams.Searches;
        Counters.JamPlans = _jams.Plans;
        Counters.JamSwaps = _jams.Swaps;
        if (hadPlans || _jams.ActiveCount > 0)
        {
            var committed = _jams.Committed;
            for (var i = 0; i < RobotCount; i++)
            {
                _pinned[i] = _frozen[i] || committed[i];
            }
        }
    }

    private void ApplyJamPlans(PlannerStepResult result)
    {
        if (_jams is { ActiveCount: > 0 })
        {
            _jams.Apply(result.Actions);
            foreach (var c in _jams.Committed)
            {
                Counters.JamPlanSteps += c ? 1 : 0;
            }
        }
    }

    private bool MayTakeTask(int robot) => !_held[robot];

    // Whether the jam fallback may give this robot's task to another robot of its jam and this robot
    // another's task: LoRR 2024 reassigns a task only until its first errand is reached, a pinned
    // task (2023) belongs to its robot, and a held robot takes nothing new. Callers that turn
    // takeovers off get no exchanges at all (ResolveJams): the 2026 rollout after its first step.
    private bool MayExchange(int robot) =>
        !_held[robot] && (_robotTasks[robot] is not { } t || (!t.Started && t.PinnedRobot < 0));

    private void CountPartial()
    {
        if (_router is EpibtRouter { Stopped: true })
        {
            Counters.PartialSteps++;
        }
    }

    private StepPhases Phases(long start, long scheduled, long tabled)
    {
        var search = _router is EpibtRouter e ? e.LastSearchTime : TimeSpan.Zero;
        var routed = _time.GetElapsedTime(tabled) - search;
        return new StepPhases(_time.GetElapsedTime(start, scheduled), _time.GetElapsedTime(scheduled, tabled), routed < TimeSpan.Zero ? TimeSpan.Zero : routed, search);
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
