using CsCheck;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Guidance;
using WarehouseHybrid.Planning.Routing;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Planning.Tests.Routing;

public sealed class EpibtRouterTests
{
    [Fact]
    public void Depth_three_pool_is_the_seventeen_operations_with_turns_first_and_no_trailing_turns()
    {
        var ops = new Operations(3);
        var names = Enumerable.Range(0, ops.Count).Select(ops.Name).ToArray();
        Assert.Equal("WWW", names[0]);
        Assert.Equal(
            new[] { "WWW", "FFF", "FFW", "FWF", "FWW", "FRF", "FCF", "WFF", "WFW", "WWF", "RFF", "CFF", "RFW", "CFW", "RWF", "CWF", "RRF" }.Order(),
            names.Order());
        Assert.Equal(ops.Count, names.Distinct().Count());
        Assert.All(Enumerable.Range(2, 4), depth =>
        {
            var pool = new Operations(depth);
            Assert.All(Enumerable.Range(1, pool.Count - 1), o => Assert.Matches("^((R|C|RR)?W*F)+W*$", pool.Name(o)));
        });
    }

    [Fact]
    public void Robot_turning_toward_a_free_cell_keeps_it_while_another_robot_that_could_take_it_waits()
    {
        // Robot 0 (high priority) faces north at (1,1) and must go east to (1,2); robot 1 at (0,2)
        // faces south and would like (1,2) too (its goal is below). Robot 0 reserves the cell for the turn and the move.
        var map = TestData.ParseMap("""
            @.@@
            ....
            @.@@
            """);
        var grid = new CompactGrid(map);
        var goal0 = map.CellAt(1, 3);
        var goal1 = map.CellAt(2, 1);
        GoalDistanceTable?[] tables = [HeadingDistanceTable.Compute(grid, goal0), HeadingDistanceTable.Compute(grid, goal1)];
        var poses = new[] { new RobotPose(map.CellAt(1, 1), Heading.North), new RobotPose(map.CellAt(0, 1), Heading.South) };
        var actions = new RobotAction[2];
        var router = new EpibtRouter(grid);
        Assert.Equal(0, router.Plan(poses, [0, 1], tables, new Random(1), actions, () => false));
        Assert.Equal(RobotAction.RotateClockwise, actions[0]);
        Assert.NotEqual(RobotAction.Forward, actions[1]); // (1,1) stays robot 0's while it turns
        Assert.True(new PlanValidator(map).ValidateStep(poses, actions, new RobotPose[2]));
    }

    [Fact]
    public void Higher_robot_pushes_a_lower_one_out_of_a_corridor_it_needs()
    {
        // The idle robot ahead is pushed along the one-wide corridor and out of the way past the goal.
        var map = TestData.ParseMap("""
            @@@@@@@...
            ..........
            @@@@@@@...
            """);
        var grid = new CompactGrid(map);
        GoalDistanceTable?[] tables = [HeadingDistanceTable.Compute(grid, map.CellAt(1, 6)), null];
        var poses = new[] { new RobotPose(map.CellAt(1, 2), Heading.East), new RobotPose(map.CellAt(1, 3), Heading.East) };
        var router = new EpibtRouter(grid);
        var validator = new PlanValidator(map);
        var after = new RobotPose[2];
        var reached = false;
        for (var step = 0; step < 12 && !reached; step++)
        {
            var actions = new RobotAction[2];
            router.Plan(poses, [0, 1], tables, new Random(step), actions, () => false);
            Assert.True(validator.ValidateStep(poses, actions, after), $"step {step}");
            after.CopyTo(poses, 0);
            reached = poses[0].Cell == map.CellAt(1, 6);
        }

        Assert.True(reached, "the idle robot in front never made way");
    }

    [Fact]
    public void Random_steps_are_always_valid_with_odd_poses_pinned_and_never_throw()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            var map = RandomMaps.Create(rng, rng.Next(2, 12), rng.Next(2, 12), rng.Next(0, 40));
            var grid = new CompactGrid(map);
            var costs = rng.Next(2) == 0 ? GuidanceCosts.Highways(grid, rng.Next(1, 5)) : null;
            var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
            rng.Shuffle(free);
            var n = rng.Next(1, Math.Max(2, (free.Length * 3 / 4) + 1));
            var poses = new RobotPose[n];
            var tables = new GoalDistanceTable?[n];
            for (var i = 0; i < n; i++)
            {
                poses[i] = new RobotPose(free[i % free.Length], (Heading)rng.Next(4));
                var g = free[rng.Next(free.Length)];
                tables[i] = rng.Next(5) == 0 ? null : rng.Next(2) == 0 ? CellDistanceTable.Compute(grid, g, costs) : new ManhattanEstimate(map, g);
            }

            var odd = rng.Next(3) == 0 && n > 1;
            if (odd)
            {
                poses[n - 1] = poses[0]; // two robots on one cell
            }

            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            var router = new EpibtRouter(grid, rng.Next(2, 6)) { Costs = costs, LocalSearch = rng.Next(2) == 0 };
            var actions = new RobotAction[n];
            var illegal = router.Plan(poses, order, tables, rng, actions, () => false);
            if (odd)
            {
                Assert.True(illegal >= 2, $"seed {seed}: shared cell not counted");
                Assert.Equal(RobotAction.Wait, actions[0]);
                Assert.Equal(RobotAction.Wait, actions[n - 1]);
                return;
            }

            Assert.Equal(0, illegal);
            var conflicts = new List<Conflict>();
            Assert.True(new PlanValidator(map).ValidateStep(poses, actions, new RobotPose[n], conflicts), $"seed {seed}: {string.Join("; ", conflicts)}");
        }, iter: 300);
    }

    [Fact]
    public void Running_out_of_time_part_way_returns_the_valid_partial_step_with_the_rest_waiting()
    {
        var map = TestData.ParseMap(string.Join("\n", Enumerable.Repeat(new string('.', 20), 20)));
        var grid = new CompactGrid(map);
        var n = 100;
        var poses = Enumerable.Range(0, n).Select(i => new RobotPose(map.CellAt(i / 10 * 2, i % 10 * 2), Heading.East)).ToArray();
        var tables = Enumerable.Range(0, n).Select(i => (GoalDistanceTable?)CellDistanceTable.Compute(grid, map.CellAt(19 - (i / 10 * 2), 19))).ToArray();
        var order = Enumerable.Range(0, n).ToArray();
        var polls = 0;
        var router = new EpibtRouter(grid);
        var actions = new RobotAction[n];
        var illegal = router.Plan(poses, order, tables, new Random(0), actions, () => ++polls > 1); // stops at the second poll (robot 64)
        Assert.Equal(0, illegal);
        Assert.True(router.Stopped);
        Assert.True(new PlanValidator(map).ValidateStep(poses, actions, new RobotPose[n]));
        Assert.Contains(actions.Take(64), a => a == RobotAction.Forward);

        // Rows 14-18 (robots 70-99) were neither reached nor pushed by a placed robot.
        Assert.All(actions.Skip(70), a => Assert.NotEqual(RobotAction.Forward, a));
    }

    [Theory]
    [InlineData(false, 4)]
    [InlineData(true, 0)]
    public void Rotation_cycles_are_planned_only_when_allowed(bool noCycles, int movers)
    {
        // Four robots on a 2x2 block, each facing the next cell clockwise and wanting it: the ring
        // moves at once under synchronous rules, but an executor granting cells in order deadlocks on it.
        var map = TestData.ParseMap("""
            ..
            ..
            """);
        var grid = new CompactGrid(map);
        int[] ring = [map.CellAt(0, 0), map.CellAt(0, 1), map.CellAt(1, 1), map.CellAt(1, 0)];
        Heading[] facing = [Heading.East, Heading.South, Heading.West, Heading.North];
        var poses = Enumerable.Range(0, 4).Select(i => new RobotPose(ring[i], facing[i])).ToArray();
        var tables = Enumerable.Range(0, 4).Select(i => (GoalDistanceTable?)HeadingDistanceTable.Compute(grid, ring[(i + 1) % 4])).ToArray();
        var actions = new RobotAction[4];
        new EpibtRouter(grid) { NoCycles = noCycles, LocalSearch = false }.Plan(poses, [0, 1, 2, 3], tables, new Random(0), actions, () => false);
        Assert.Equal(movers, actions.Count(a => a == RobotAction.Forward));
        Assert.True(new PlanValidator(map).ValidateStep(poses, actions, new RobotPose[4]));
    }

    [Fact]
    public void Frozen_robots_wait_and_are_not_pushed()
    {
        var map = TestData.ParseMap("""
            .....
            """);
        var grid = new CompactGrid(map);
        var poses = new[] { new RobotPose(0, Heading.East), new RobotPose(1, Heading.East) };
        GoalDistanceTable?[] tables = [CellDistanceTable.Compute(grid, 4), null];
        var actions = new RobotAction[2];
        new EpibtRouter(grid) { Frozen = [false, true] }.Plan(poses, [0, 1], tables, new Random(0), actions, () => false);
        Assert.Equal(RobotAction.Wait, actions[1]);
        Assert.NotEqual(RobotAction.Forward, actions[0]); // the frozen robot ahead is not pushed away
    }
}
