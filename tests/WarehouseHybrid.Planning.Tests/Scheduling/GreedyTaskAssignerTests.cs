using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Planning.Scheduling;
using WarehouseHybrid.Planning.Tests.Support;
using Xunit.Abstractions;

namespace WarehouseHybrid.Planning.Tests.Scheduling;

public sealed class GreedyTaskAssignerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SchedulingDistance.Manhattan, 0)]
    [InlineData(SchedulingDistance.Manhattan, 200_000)]
    [InlineData(SchedulingDistance.Exact, 200_000)]
    public void Nearest_first_takes_the_nearest_task_even_when_a_farther_one_is_much_shorter(SchedulingDistance mode, int spatialAbovePairs)
    {
        var map = TestData.ParseMap(new string('.', 40));
        var poses = new[] { new RobotPose(10, Heading.East) };

        // Task 1 starts one cell ahead but runs 25 cells; task 2 starts three cells ahead and runs 2.
        OpenTask?[] Assign(bool nearestFirst)
        {
            var book = new TaskBook(map);
            book.Add(new PlanningTask(1, [11, 36]));
            book.Add(new PlanningTask(2, [13, 15]));
            var assigner = new GreedyTaskAssigner(new DistanceTableCache(new CompactGrid(map), 1L << 24), mode)
            {
                ApproachWeight = 5,
                NearestFirst = nearestFirst,
                SpatialScanAbovePairs = spatialAbovePairs,
            };
            var tasks = new OpenTask?[1];
            Assert.Equal(1, assigner.Assign(poses, tasks, book.Open, () => false));
            return tasks;
        }

        Assert.Equal(1, Assign(nearestFirst: true)[0]!.Task.Id);
        Assert.Equal(2, Assign(nearestFirst: false)[0]!.Task.Id); // 5 x 1 + 25 = 30 against 5 x 3 + 2 = 17
    }

    [Fact]
    public void Nearest_first_keeps_the_pool_like_the_revealed_tasks_where_weighing_length_leaves_the_long_ones()
    {
        // Lifelong in miniature: a pool twice the fleet, a robot ends its task on the last errand
        // and a new random task replaces it. Picking short tasks leaves long ones in the pool; in
        // the bench that residue of map-crossing tasks drew the fleet into a jam (ADR 0007).
        var map = TestData.ParseMap(string.Join('\n', Enumerable.Repeat(new string('.', 80), 16)));
        var nearest = PoolLengthRatio(map, nearestFirst: true);
        var weighted = PoolLengthRatio(map, nearestFirst: false);
        output.WriteLine($"open pool mean length / revealed mean length: nearest-first {nearest:F2}, weighted {weighted:F2}");
        Assert.InRange(nearest, 0.8, 1.2);
        Assert.True(weighted > 1.3, $"weighing the length should leave long tasks behind (ratio {weighted:F2})");
    }

    private static double PoolLengthRatio(GridMap map, bool nearestFirst)
    {
        const int robots = 40;
        var rng = new Random(7);
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        var book = new TaskBook(map);
        var nextId = 0;
        long revealedLength = 0;
        void Reveal()
        {
            var task = new PlanningTask(nextId++, [free[rng.Next(free.Length)], free[rng.Next(free.Length)]]);
            revealedLength += map.Manhattan(task.Errands[0], task.Errands[1]);
            book.Add(task);
        }

        for (var i = 0; i < 2 * robots; i++)
        {
            Reveal();
        }

        var poses = Enumerable.Range(0, robots).Select(_ => new RobotPose(free[rng.Next(free.Length)], Heading.East)).ToArray();
        var assigner = new GreedyTaskAssigner(new DistanceTableCache(new CompactGrid(map), 1), SchedulingDistance.Manhattan)
        {
            ApproachWeight = 5,
            NearestFirst = nearestFirst,
        };
        var robotTasks = new OpenTask?[robots];
        for (var round = 0; round < 60; round++)
        {
            assigner.Assign(poses, robotTasks, book.Open, () => false);
            for (var r = 0; r < robots; r++)
            {
                if (robotTasks[r] is { } t)
                {
                    poses[r] = new RobotPose(t.Task.Errands[^1], Heading.East);
                    book.Finish(t);
                    robotTasks[r] = null;
                    Reveal();
                }
            }

            book.Compact();
        }

        var pool = book.Open.Average(t => (double)map.Manhattan(t.Task.Errands[0], t.Task.Errands[1]));
        return pool / ((double)revealedLength / nextId);
    }
}
