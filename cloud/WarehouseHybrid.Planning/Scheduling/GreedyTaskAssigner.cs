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
}

/// <summary>
/// Greedy task assignment: repeatedly gives the cheapest (idle robot, free task) pair, where the
/// cost is the robot's distance to the task's first errand plus the task's own errand-to-errand
/// length. Also lets an idle robot take over an assigned task whose first errand is not reached
/// yet when it is strictly closer to it than the current holder (LoRR 2024 allows reassignment
/// until the first errand); the holder becomes idle and competes again in the same round.
/// </summary>
public sealed class GreedyTaskAssigner
{
    private const int CandidatesPerRobot = 8;
    private readonly DistanceTableCache _cache;
    private readonly GridMap _map;
    private readonly SchedulingDistance _mode;
    private readonly List<(long Cost, int Robot, int Task)> _pairs = new();

    /// <summary>Creates an assigner reading distances from <paramref name="cache"/>.</summary>
    public GreedyTaskAssigner(DistanceTableCache cache, SchedulingDistance mode)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _map = cache.Grid.Map;
        _mode = mode;
    }

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
    public int Assign(ReadOnlySpan<RobotPose> poses, OpenTask?[] robotTasks, IReadOnlyList<OpenTask> open, Func<bool> shouldStop)
    {
        ArgumentNullException.ThrowIfNull(robotTasks);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(shouldStop);
        var made = 0;
        foreach (var t in open)
        {
            if (t.Length < 0)
            {
                t.Length = TaskLength(t);
            }
        }

        // Each round: every idle robot proposes its cheapest few tasks; pairs are taken greedily.
        // A robot left without a task (its candidates were taken) proposes again next round.
        for (var round = 0; round < 64; round++)
        {
            if (shouldStop())
            {
                break;
            }

            _pairs.Clear();
            for (var r = 0; r < robotTasks.Length && r < poses.Length; r++)
            {
                if (robotTasks[r] is not null || !_map.IsPassable(poses[r].Cell))
                {
                    continue;
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

            if (!progress)
            {
                break;
            }
        }

        return made;
    }

    private void Propose(int robot, ReadOnlySpan<RobotPose> poses, IReadOnlyList<OpenTask> open)
    {
        var pose = poses[robot];
        Span<long> bestCost = stackalloc long[CandidatesPerRobot];
        Span<int> bestTask = stackalloc int[CandidatesPerRobot];
        var count = 0;
        for (var ti = 0; ti < open.Count; ti++)
        {
            var t = open[ti];
            if (t.Finished || t.Started || t.Length >= HeadingDistanceTable.Unreachable)
            {
                continue;
            }

            var d = CostFrom(pose, t);
            if (d >= HeadingDistanceTable.Unreachable)
            {
                continue;
            }

            long cost = d + t.Length;
            if (t.Robot >= 0)
            {
                // Only worth proposing when strictly closer than the holder.
                if (CostFrom(poses[t.Robot], t) <= d)
                {
                    continue;
                }
            }

            if (count < CandidatesPerRobot)
            {
                bestCost[count] = cost;
                bestTask[count++] = ti;
                continue;
            }

            var worst = 0;
            for (var k = 1; k < count; k++)
            {
                if (bestCost[k] > bestCost[worst])
                {
                    worst = k;
                }
            }

            if (cost < bestCost[worst])
            {
                bestCost[worst] = cost;
                bestTask[worst] = ti;
            }
        }

        for (var k = 0; k < count; k++)
        {
            _pairs.Add((bestCost[k], robot, bestTask[k]));
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
            if (d >= HeadingDistanceTable.Unreachable)
            {
                return HeadingDistanceTable.Unreachable;
            }

            sum += d;
        }

        return (int)Math.Min(sum, HeadingDistanceTable.Unreachable - 1);
    }
}
