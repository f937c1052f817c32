using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;

namespace WarehouseHybrid.Planning.Scheduling;

/// <summary>How the scheduler measures distances.</summary>
public enum SchedulingDistance
{
    /// <summary>Exact (cell, heading) distance tables: best quality, one table per candidate errand.</summary>
    Exact = 0,

    /// <summary>Manhattan distance: no tables, for thousands of open tasks on large maps.</summary>
    Manhattan = 1,

    /// <summary>Exact with up-front tables, Manhattan with lazy tables (the planner decides).</summary>
    Auto = 2,
}

/// <summary>
/// Greedy task assignment: repeatedly gives the cheapest (idle robot, free task) pair, where the
/// cost is the robot's distance to the task's first errand (weighted, see <see cref="ApproachWeight"/>,
/// or alone, see <see cref="NearestFirst"/>) plus the task's own errand-to-errand length. Also lets an idle robot take over an assigned task whose first errand is not reached
/// yet when it is strictly closer to it than the current holder (LoRR 2024 allows reassignment
/// until the first errand); the holder becomes idle and competes again in the same round.
/// </summary>
public sealed class GreedyTaskAssigner
{
    private const int CandidatesPerRobot = 8;
    private const int BlockSize = 8;
    private readonly int _blockColumns;
    private readonly int _blockRows;
    private List<int>[] _buckets = [];
    private bool _spatial;
    private readonly DistanceTableCache _cache;
    private readonly GridMap _map;
    private readonly SchedulingDistance _mode;
    private readonly List<(long Cost, int Robot, int Task)> _pairs = new();
    private Func<int, bool>? _mayTake;

    /// <summary>Creates an assigner reading distances from <paramref name="cache"/>.</summary>
    public GreedyTaskAssigner(DistanceTableCache cache, SchedulingDistance mode)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _map = cache.Grid.Map;
        _mode = mode == SchedulingDistance.Manhattan ? SchedulingDistance.Manhattan : SchedulingDistance.Exact;
        _blockColumns = (_map.Width + BlockSize - 1) / BlockSize;
        _blockRows = (_map.Height + BlockSize - 1) / BlockSize;
    }

    /// <summary>
    /// In Manhattan mode, once idle robots times open tasks exceeds this, each robot scans only the
    /// unassigned tasks whose first errand lies in nearby blocks of the map (nearest rings first,
    /// stopping when no farther task can beat its candidates), instead of every open task; such
    /// rounds make no takeovers (later steps with few idle robots do).
    /// </summary>
    public int SpatialScanAbovePairs { get; init; } = 200_000;

    /// <summary>
    /// Weight of the robot's distance to a task's first errand against the task's own length in the
    /// assignment cost (default 1: estimated completion time). Higher values favour near tasks.
    /// Not used when <see cref="NearestFirst"/> is set.
    /// </summary>
    public int ApproachWeight { get; init; } = 1;

    /// <summary>
    /// Whether the distance to a task's first errand decides alone and the task's length only breaks
    /// ties (default false: <see cref="ApproachWeight"/> x distance + length). Weighing the length
    /// makes robots pick the short tasks of a pool larger than the fleet, which leaves a residue of
    /// long tasks crossing the map and, on a wide warehouse, drew the fleet into a jam in the middle
    /// (see ADR 0007, "Throughput collapse on warehouseTest_10000").
    /// </summary>
    public bool NearestFirst { get; init; }

    /// <summary>
    /// Whether an idle robot may take over an assigned task not yet started (default true). Callers
    /// planning ahead of execution turn it off: the robot losing the task may still reach it first.
    /// </summary>
    public bool Takeovers { get; set; } = true;

    /// <summary>Greedy rounds made with spatial scans before the remaining idle robots take their best free task in turn.</summary>
    public int SpatialRounds { get; init; } = 3;

    /// <summary>In a spatial scan, a robot holding its candidates stops after this many tasks (the nearest rings).</summary>
    public int SpatialScanTasks { get; init; } = 96;

    /// <summary>The goal cells whose tables <see cref="Assign"/> will read (empty in Manhattan mode).</summary>
    public List<int> GoalsNeeded(IReadOnlyList<OpenTask> open)
    {
        var goals = new List<int>();
        if (_mode != SchedulingDistance.Exact)
        {
            return goals;
        }

        foreach (var t in open)
        {
            if (t.Started)
            {
                continue;
            }

            goals.Add(t.Task.Errands[0]);
            if (t.Length < 0)
            {
                for (var e = 1; e < t.Task.Errands.Count; e++)
                {
                    goals.Add(t.Task.Errands[e]);
                }
            }
        }

        return goals;
    }

    /// <summary>
    /// Assigns free tasks to idle robots. <paramref name="robotTasks"/> holds each robot's task
    /// (null when idle) and is updated, as is each task's <see cref="OpenTask.Robot"/>.
    /// Robots whose pose is not on a passable cell get nothing.
    /// </summary>
    /// <returns>Number of assignments made (a takeover counts once).</returns>
    /// <param name="poses">Every robot's pose.</param>
    /// <param name="robotTasks">Each robot's task, updated.</param>
    /// <param name="open">The open tasks.</param>
    /// <param name="shouldStop">Polled now and then; true ends the assignment early (what was decided stays).</param>
    /// <param name="nextPinned">A robot's oldest unfinished pinned task (such tasks go to no other robot), or null for none.</param>
    /// <param name="mayTakeTask">Whether an idle robot may be given a task now (null: every robot may).</param>
    public int Assign(ReadOnlySpan<RobotPose> poses, OpenTask?[] robotTasks, IReadOnlyList<OpenTask> open, Func<bool> shouldStop, Func<int, OpenTask?>? nextPinned = null, Func<int, bool>? mayTakeTask = null)
    {
        _mayTake = mayTakeTask;
        ArgumentNullException.ThrowIfNull(robotTasks);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(shouldStop);
        var made = 0;
        if (nextPinned is not null)
        {
            // Pinned work first: an idle robot takes its oldest pinned task.
            for (var r = 0; r < robotTasks.Length && r < poses.Length; r++)
            {
                if (robotTasks[r] is null && MayTake(r) && nextPinned(r) is { Robot: < 0 } pinned)
                {
                    pinned.Robot = r;
                    robotTasks[r] = pinned;
                    made++;
                }
            }
        }

        foreach (var t in open)
        {
            if (t.Length < 0)
            {
                t.Length = TaskLength(t);
            }
        }

        // Each round: every idle robot proposes its cheapest few tasks; pairs are taken greedily.
        // A robot left without a task (its candidates were taken) proposes again next round.
        for (var round = 0; round < 1024; round++)
        {
            if (shouldStop())
            {
                break;
            }

            _pairs.Clear();
            var idle = 0;
            for (var r = 0; r < robotTasks.Length && r < poses.Length; r++)
            {
                if (robotTasks[r] is null)
                {
                    idle++;
                }
            }

            _spatial = _mode == SchedulingDistance.Manhattan && (long)idle * open.Count > SpatialScanAbovePairs;
            if (_spatial)
            {
                BuildBuckets(open);
                if (round >= SpatialRounds)
                {
                    // Rounds have settled the contested pairs; the rest take their best free task in turn.
                    made += AssignInTurn(poses, robotTasks, open, shouldStop);
                    break;
                }
            }

            var stopped = false;
            for (var r = 0; r < robotTasks.Length && r < poses.Length; r++)
            {
                if (robotTasks[r] is not null || !_map.IsPassable(poses[r].Cell) || !MayTake(r))
                {
                    continue;
                }

                if ((r & 255) == 255 && shouldStop())
                {
                    stopped = true;
                    break;
                }

                Propose(r, poses, open);
            }

            if (_pairs.Count == 0)
            {
                break;
            }

            _pairs.Sort();
            var progress = false;
            foreach (var (_, r, ti) in _pairs)
            {
                var t = open[ti];
                if (robotTasks[r] is not null || t.Finished)
                {
                    continue;
                }

                if (t.Robot >= 0)
                {
                    // Takeover of an unstarted task by a strictly closer idle robot.
                    var holder = t.Robot;
                    if (t.Started || CostFrom(poses[holder], t) <= CostFrom(poses[r], t))
                    {
                        continue;
                    }

                    robotTasks[holder] = null;
                }

                t.Robot = r;
                robotTasks[r] = t;
                made++;
                progress = true;
            }

            if (!progress || stopped)
            {
                break; // a round cut short by the clock still hands out what it proposed
            }
        }

        return made;
    }

    private bool MayTake(int robot) => _mayTake is null || _mayTake(robot);

    private void Propose(int robot, ReadOnlySpan<RobotPose> poses, IReadOnlyList<OpenTask> open)
    {
        var pose = poses[robot];
        Span<long> bestCost = stackalloc long[CandidatesPerRobot];
        Span<int> bestTask = stackalloc int[CandidatesPerRobot];
        var count = 0;
        if (_spatial)
        {
            var br = _map.Row(pose.Cell) / BlockSize;
            var bc = _map.Column(pose.Cell) / BlockSize;
            var maxRing = Math.Max(_blockRows, _blockColumns);
            var scanned = 0;
            for (var ring = 0; ring <= maxRing; ring++)
            {
                // Every cell of a block `ring` blocks away is at least this far (Manhattan); past
                // SpatialScanTasks tasks the robot settles for its candidates among the nearest.
                var lower = ring == 0 ? 0 : ((ring - 1) * BlockSize) + 1;
                if (count == CandidatesPerRobot && (scanned >= SpatialScanTasks || bestCost[Worst(bestCost, count)] <= ApproachCost(lower)))
                {
                    break;
                }

                for (var r = br - ring; r <= br + ring; r++)
                {
                    if ((uint)r >= (uint)_blockRows)
                    {
                        continue;
                    }

                    var edgeRow = r == br - ring || r == br + ring;
                    for (var c = bc - ring; c <= bc + ring; c += edgeRow || ring == 0 ? 1 : 2 * ring)
                    {
                        if ((uint)c >= (uint)_blockColumns)
                        {
                            continue;
                        }

                        var bucket = _buckets[(r * _blockColumns) + c];
                        scanned += bucket.Count;
                        foreach (var ti in bucket)
                        {
                            Consider(ti, pose, poses, open, bestCost, bestTask, ref count);
                        }
                    }
                }
            }
        }
        else
        {
            for (var ti = 0; ti < open.Count; ti++)
            {
                Consider(ti, pose, poses, open, bestCost, bestTask, ref count);
            }
        }

        for (var k = 0; k < count; k++)
        {
            _pairs.Add((bestCost[k], robot, bestTask[k]));
        }
    }

    private int AssignInTurn(ReadOnlySpan<RobotPose> poses, OpenTask?[] robotTasks, IReadOnlyList<OpenTask> open, Func<bool> shouldStop)
    {
        var made = 0;
        for (var r = 0; r < robotTasks.Length && r < poses.Length; r++)
        {
            if (robotTasks[r] is not null || !_map.IsPassable(poses[r].Cell) || !MayTake(r))
            {
                continue;
            }

            if ((made & 255) == 255 && shouldStop())
            {
                break;
            }

            _pairs.Clear();
            Propose(r, poses, open);
            if (_pairs.Count == 0)
            {
                continue;
            }

            var best = _pairs[0];
            foreach (var p in _pairs)
            {
                if (p.CompareTo(best) < 0)
                {
                    best = p;
                }
            }

            var t = open[best.Task];
            t.Robot = r;
            robotTasks[r] = t;
            var e0 = t.Task.Errands[0];
            _buckets[((_map.Row(e0) / BlockSize) * _blockColumns) + (_map.Column(e0) / BlockSize)].Remove(best.Task);
            made++;
        }

        return made;
    }

    private static int Worst(Span<long> bestCost, int count)
    {
        var worst = 0;
        for (var k = 1; k < count; k++)
        {
            if (bestCost[k] > bestCost[worst])
            {
                worst = k;
            }
        }

        return worst;
    }

    private void Consider(int ti, RobotPose pose, ReadOnlySpan<RobotPose> poses, IReadOnlyList<OpenTask> open, Span<long> bestCost, Span<int> bestTask, ref int count)
    {
        var t = open[ti];
        if (t.Finished || t.Started || t.PinnedRobot >= 0 || t.Length >= GoalDistanceTable.Unreachable)
        {
            return;
        }

        var d = CostFrom(pose, t);
        if (d >= GoalDistanceTable.Unreachable)
        {
            return;
        }

        var cost = ApproachCost(d) + t.Length;

        // An assigned task is only worth proposing when strictly closer than the holder.
        if (t.Robot >= 0 && (!Takeovers || CostFrom(poses[t.Robot], t) <= d))
        {
            return;
        }

        if (count < CandidatesPerRobot)
        {
            bestCost[count] = cost;
            bestTask[count++] = ti;
            return;
        }

        var worst = Worst(bestCost, count);
        if (cost < bestCost[worst])
        {
            bestCost[worst] = cost;
            bestTask[worst] = ti;
        }
    }

    // The approach's share of a cost; nearest-first scales it past any task length (lengths stay below Unreachable).
    private long ApproachCost(int distance) => (long)distance * (NearestFirst ? GoalDistanceTable.Unreachable : ApproachWeight);

    private void BuildBuckets(IReadOnlyList<OpenTask> open)
    {
        if (_buckets.Length == 0)
        {
            _buckets = new List<int>[_blockRows * _blockColumns];
            for (var b = 0; b < _buckets.Length; b++)
            {
                _buckets[b] = new List<int>();
            }
        }

        foreach (var b in _buckets)
        {
            b.Clear();
        }

        for (var ti = 0; ti < open.Count; ti++)
        {
            var t = open[ti];
            if (t.Finished || t.Started || t.Robot >= 0 || t.PinnedRobot >= 0)
            {
                continue;
            }

            var e0 = t.Task.Errands[0];
            _buckets[((_map.Row(e0) / BlockSize) * _blockColumns) + (_map.Column(e0) / BlockSize)].Add(ti);
        }
    }

    private int CostFrom(RobotPose pose, OpenTask t)
    {
        var e0 = t.Task.Errands[0];
        return _mode == SchedulingDistance.Exact
            ? _cache.Get(e0).Distance(pose.Cell, pose.Heading)
            : _map.Manhattan(pose.Cell, e0);
    }

    private int TaskLength(OpenTask t)
    {
        var errands = t.Task.Errands;
        long sum = 0;
        for (var e = 1; e < errands.Count; e++)
        {
            var d = _mode == SchedulingDistance.Exact
                ? _cache.Get(errands[e]).MinOverHeadings(errands[e - 1])
                : _map.Manhattan(errands[e - 1], errands[e]);
            if (d >= GoalDistanceTable.Unreachable)
            {
                return GoalDistanceTable.Unreachable;
            }

            sum += d;
        }

        return (int)Math.Min(sum, GoalDistanceTable.Unreachable - 1);
    }
}
