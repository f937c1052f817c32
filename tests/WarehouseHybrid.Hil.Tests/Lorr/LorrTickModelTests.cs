using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Hil.Lorr;

namespace WarehouseHybrid.Hil.Tests.Lorr;

public sealed class LorrTickModelTests
{
    private static GridMap Row(int width) => new(width, 1, Enumerable.Repeat(CellKind.Free, width).ToArray(), "row");

    private static void Ticks(LorrTickModel model, int ticks, params RobotAction[] requested)
    {
        var executed = new RobotAction[requested.Length];
        var refused = new List<(int, int)>();
        for (var t = 0; t < ticks; t++)
        {
            model.Step(requested, executed, refused);
        }

        Assert.Empty(refused);
    }

    [Fact]
    public void A_move_lands_after_counter_ticks_and_a_wait_pauses_it()
    {
        var model = new LorrTickModel(Row(5), [new RobotPose(0, Heading.East)], counter: 3);
        Ticks(model, 2, RobotAction.Forward);
        Assert.Equal(0, model.Poses[0].Cell); // part-way: still on the cell it left
        Assert.True(model.Busy(0));
        Ticks(model, 4, RobotAction.Wait);    // paused, not lost
        Assert.Equal(2, model.Progress[0]);
        Ticks(model, 1, RobotAction.RotateClockwise); // any other request continues the move under way
        Assert.Equal(1, model.Poses[0].Cell);
        Assert.False(model.Busy(0));
    }

    [Fact]
    public void Followers_moving_in_step_may_touch_but_a_catching_up_robot_is_refused()
    {
        var model = new LorrTickModel(Row(6), [new RobotPose(1, Heading.East), new RobotPose(0, Heading.East)], counter: 4);
        Ticks(model, 4, RobotAction.Forward, RobotAction.Forward); // both move one cell together
        Assert.Equal(2, model.Poses[0].Cell);
        Assert.Equal(1, model.Poses[1].Cell);

        // The leader waits; the follower may not move into its square.
        var executed = new RobotAction[2];
        var refused = new List<(int Robot, int Other)>();
        model.Step([RobotAction.Wait, RobotAction.Forward], executed, refused);
        Assert.Equal(RobotAction.Wait, executed[1]);
        Assert.Equal((1, 0), Assert.Single(refused));
    }

    // Runs the executor over the model until every staged action is done (or the limit); returns
    // the ticks taken. withProgress: the executor sees each robot's progress (close following).
    private static int Execute(LorrTickModel model, LorrTpgExecutor executor, bool withProgress, List<(int Robot, int Other)> refused, Random? delays = null, int limit = 2000)
    {
        var n = model.Poses.Length;
        var requested = new RobotAction[n];
        var executed = new RobotAction[n];
        for (var tick = 0; tick < limit; tick++)
        {
            if (Enumerable.Range(0, n).All(r => executor.Backlog(r) == 0))
            {
                return tick;
            }

            if (withProgress)
            {
                executor.Commands(model.Poses, model.Busy, model.Progress, model.Counter, requested);
            }
            else
            {
                executor.Commands(model.Poses, model.Busy, requested);
            }

            for (var r = 0; r < n && delays is not null; r++)
            {
                if (delays.Next(4) == 0)
                {
                    requested[r] = RobotAction.Wait; // delayed this tick
                }
            }

            var before = model.Poses.ToArray();
            model.Step(requested, executed, refused);
            executor.Completed(before, model.Poses);
            Assert.Equal(n, model.Poses.Select(p => p.Cell).Distinct().Count());
        }

        return limit;
    }

    [Theory]
    [InlineData(false, 16)]
    [InlineData(true, 13)]
    public void A_robot_follows_the_one_ahead_a_tick_behind_when_it_sees_progress_else_a_whole_action(bool withProgress, int ticks)
    {
        // Two robots in a row planned to drive three cells east in step (counter 4). Without progress
        // the follower may enter a cell only once the leader has landed in the next one (3 x 4 + 4
        // ticks); with it, the follower starts a tick after the leader and stays a cell behind.
        var starts = new[] { new RobotPose(1, Heading.East), new RobotPose(0, Heading.East) };
        var model = new LorrTickModel(Row(6), starts, counter: 4);
        var executor = new LorrTpgExecutor(Row(6), starts);
        RobotAction[] forward3 = [RobotAction.Forward, RobotAction.Forward, RobotAction.Forward];
        executor.Stage([forward3, forward3]);
        var refused = new List<(int Robot, int Other)>();
        Assert.Equal(ticks, Execute(model, executor, withProgress, refused));
        Assert.Empty(refused);
        Assert.Equal([4, 3], model.Poses.Select(p => p.Cell));
    }

    [Fact]
    public void A_robot_entering_a_cell_its_leader_leaves_sideways_waits_until_the_leader_has_landed()
    {
        // 3x3 open grid: the leader in the centre leaves north while the follower enters from the
        // west. Their squares would overlap at once, so following closely only applies straight ahead.
        var map = new GridMap(3, 3, Enumerable.Repeat(CellKind.Free, 9).ToArray(), "open");
        var starts = new[] { new RobotPose(4, Heading.North), new RobotPose(3, Heading.East) };
        var model = new LorrTickModel(map, starts, counter: 5);
        var executor = new LorrTpgExecutor(map, starts);
        executor.Stage([[RobotAction.Forward], [RobotAction.Forward]]);
        var requested = new RobotAction[2];
        var executed = new RobotAction[2];
        var refused = new List<(int Robot, int Other)>();
        for (var tick = 0; tick < 5; tick++)
        {
            executor.Commands(model.Poses, model.Busy, model.Progress, model.Counter, requested);
            Assert.Equal(RobotAction.Wait, requested[1]);
            var before = model.Poses.ToArray();
            model.Step(requested, executed, refused);
            executor.Completed(before, model.Poses);
        }

        Assert.Equal(1, model.Poses[0].Cell);
        Assert.Equal(5, Execute(model, executor, withProgress: true, refused));
        Assert.Empty(refused);
        Assert.Equal(4, model.Poses[1].Cell);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Grants_keep_plan_order_so_random_delays_never_make_robots_collide_or_deadlock(bool withProgress)
    {
        // A ring road of 10 cells with 6 robots planned to drive 30 steps round it, in step with each
        // other; random delays hold robots, and the executor lets one enter a cell only after the
        // robot planned there before it has left.
        var ringMap = new GridMap(4, 3, [
            CellKind.Free, CellKind.Free, CellKind.Free, CellKind.Free,
            CellKind.Free, CellKind.Obstacle, CellKind.Obstacle, CellKind.Free,
            CellKind.Free, CellKind.Free, CellKind.Free, CellKind.Free], "ring");
        int[] ring = [0, 1, 2, 3, 7, 11, 10, 9, 8, 4];
        var starts = new[] { 0, 2, 4, 5, 7, 9 }.Select(i => new RobotPose(ring[i], HeadingTo(ringMap, ring[i], ring[(i + 1) % 10]))).ToArray();
        var plan = new List<RobotAction>[starts.Length];
        var validator = new PlanValidator(ringMap);
        var poses = starts.ToArray();
        for (var r = 0; r < plan.Length; r++)
        {
            plan[r] = new List<RobotAction>();
        }

        // The synchronous plan: every robot moves forward each step when the cell ahead is free at
        // that step (turning at corners), so it is collision-free step by step.
        for (var step = 0; step < 30; step++)
        {
            var actions = new RobotAction[poses.Length];
            for (var r = 0; r < poses.Length; r++)
            {
                var index = Array.IndexOf(ring, poses[r].Cell);
                var want = HeadingTo(ringMap, ring[index], ring[(index + 1) % 10]);
                actions[r] = want != poses[r].Heading ? RobotAction.RotateClockwise : RobotAction.Forward;
            }

            var after = new RobotPose[poses.Length];
            while (!validator.ValidateStep(poses, actions, after))
            {
                // Hold the robot whose cell ahead is taken, until the step is valid.
                for (var r = 0; r < poses.Length; r++)
                {
                    var ahead = poses[r].ForwardCell(ringMap);
                    if (actions[r] == RobotAction.Forward && poses.Any(p => p.Cell == ahead))
                    {
                        actions[r] = RobotAction.Wait;
                        break;
                    }
                }
            }

            for (var r = 0; r < poses.Length; r++)
            {
                plan[r].Add(actions[r]);
            }

            poses = after;
        }

        var model = new LorrTickModel(ringMap, starts, counter: 3);
        var executor = new LorrTpgExecutor(ringMap, starts);
        executor.Stage(plan);
        var refused = new List<(int Robot, int Other)>();
        Assert.True(Execute(model, executor, withProgress, refused, new Random(4)) < 2000, "the executor deadlocked");
        Assert.Empty(refused);
        Assert.All(Enumerable.Range(0, starts.Length), r => Assert.Equal(0, executor.Backlog(r)));
        Assert.Equal(poses, model.Poses); // every planned step was carried out, in order
    }

    private static Heading HeadingTo(GridMap map, int from, int to)
    {
        foreach (var h in Enum.GetValues<Heading>())
        {
            if (map.Neighbour(from, h) == to)
            {
                return h;
            }
        }

        throw new InvalidOperationException("not neighbours");
    }
}
