using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Tests.Sites;

/// <summary>The site's step clock as plain code, no silo.</summary>
public sealed class SiteCycleTests
{
    // 5x1 corridor: a (cell 0) east, b (cell 2) east, c (cell 4) west.
    private static SiteCycle Corridor(out GridMap map)
    {
        map = TestMaps.Open(5, 1, "row");
        return new SiteCycle(map, [new RobotSeat("a", 0, Heading.East), new RobotSeat("b", 2, Heading.East), new RobotSeat("c", 4, Heading.West)]);
    }

    private static void ConfirmAll(SiteCycle cycle, long step)
    {
        for (var i = 0; i < cycle.RobotCount; i++)
        {
            cycle.Confirm(cycle.RobotIdAt(i), step, cycle.ConfirmedPose(i));
        }
    }

    [Fact]
    public void Planning_waits_until_every_awaited_robot_confirmed_unless_timed_out()
    {
        var cycle = Corridor(out _);
        Assert.False(cycle.CanPlan(timedOut: true)); // nobody has reported at all
        Assert.Equal(ConfirmOutcome.CaughtUp, cycle.Confirm("a", 0, new RobotPose(0, Heading.East)));
        Assert.False(cycle.CanPlan(timedOut: false));
        Assert.True(cycle.CanPlan(timedOut: true));
        cycle.Confirm("b", 0, new RobotPose(2, Heading.East));
        cycle.Confirm("c", 0, new RobotPose(4, Heading.West));
        Assert.True(cycle.CanPlan(timedOut: false));
    }

    [Fact]
    public void A_completed_round_advances_the_step_and_orders_carry_start_target_and_revision()
    {
        var cycle = Corridor(out _);
        ConfirmAll(cycle, 0);
        var round = cycle.BeginRound(false);
        Assert.Equal(1u, round.Step);
        var dispatch = cycle.CompleteRound(round, [RobotAction.Forward, RobotAction.Wait, RobotAction.RotateClockwise]);

        Assert.Equal(1u, cycle.Step);
        Assert.False(dispatch.PlanWasInvalid);
        Assert.Equal(3, dispatch.Orders.Count);
        Assert.Equal(new RobotPose(1, Heading.East), dispatch.Orders[0].Target);
        Assert.Equal(new RobotPose(0, Heading.East), dispatch.Orders[0].Start);
        Assert.Equal(new RobotPose(4, Heading.North), dispatch.Orders[2].Target);
        Assert.All(dispatch.Orders, o => Assert.Equal(1ul, o.Revision));
        Assert.Equal(3, cycle.AwaitingCount);
        Assert.False(cycle.CanPlan(false));
    }

    [Fact]
    public void An_invalid_optimizer_step_becomes_all_wait()
    {
        var cycle = Corridor(out _);
        ConfirmAll(cycle, 0);
        var round = cycle.BeginRound(false);

        // b and c both enter cell 3: a vertex conflict.
        var dispatch = cycle.CompleteRound(round, [RobotAction.Wait, RobotAction.Forward, RobotAction.Forward]);
        Assert.True(dispatch.PlanWasInvalid);
        Assert.All(dispatch.Orders, o => Assert.Equal(RobotAction.Wait, o.Action));
    }

    [Fact]
    public void A_held_robot_blocks_its_cell_and_target_and_followers_of_a_blocked_robot_wait_too()
    {
        var cycle = Corridor(out _);
        ConfirmAll(cycle, 0);

        // Step 1: c turns to face west... it already does; c moves west to 3.
        var dispatch1 = cycle.CompleteRound(cycle.BeginRound(false), [RobotAction.Wait, RobotAction.Wait, RobotAction.Forward]);
        Assert.Equal(new RobotPose(3, Heading.West), dispatch1.Orders[2].Target);

        // a and b confirm step 1; c does not (it may be anywhere between cell 4 and cell 3).
        cycle.Confirm("a", 1, new RobotPose(0, Heading.East));
        cycle.Confirm("b", 1, new RobotPose(2, Heading.East));
        Assert.False(cycle.CanPlan(false));
        var round = cycle.BeginRound(timedOut: true);
        Assert.False(round.Movable[2]);
        Assert.Equal(new RobotPose(4, Heading.West), round.Poses[2]);

        // The optimizer (seeing c at 4) moves b into 3 and a follows b into 1: b must wait (3 may hold c), then a.
        var dispatch2 = cycle.CompleteRound(round, [RobotAction.Forward, RobotAction.Forward, RobotAction.Wait]);
        Assert.Equal(2, dispatch2.Orders.Count);
        Assert.Equal(1, dispatch2.Held);
        Assert.Equal(1, dispatch2.ForcedWaits);
        Assert.Equal(RobotAction.Forward, dispatch2.Orders[0].Action); // a into 1 is fine: b stays at 2
        Assert.Equal(RobotAction.Wait, dispatch2.Orders[1].Action);
        Assert.DoesNotContain(dispatch2.Orders, o => o.RobotId == "c");
    }

    [Fact]
    public void A_chain_of_followers_behind_a_blocked_robot_all_wait()
    {
        var map = TestMaps.Open(5, 1, "row");
        var cycle = new SiteCycle(map, [new RobotSeat("a", 0, Heading.East), new RobotSeat("b", 1, Heading.East), new RobotSeat("c", 2, Heading.East), new RobotSeat("h", 4, Heading.West)]);
        ConfirmAll(cycle, 0);
        cycle.CompleteRound(cycle.BeginRound(false), [RobotAction.Wait, RobotAction.Wait, RobotAction.Wait, RobotAction.Forward]); // h: 4 -> 3
        cycle.Confirm("a", 1, new RobotPose(0, Heading.East));
        cycle.Confirm("b", 1, new RobotPose(1, Heading.East));
        cycle.Confirm("c", 1, new RobotPose(2, Heading.East));

        // The optimizer thinks h is at 4 and moves the train a->1, b->2, c->3 (c into h's target).
        var dispatch = cycle.CompleteRound(cycle.BeginRound(true), [RobotAction.Forward, RobotAction.Forward, RobotAction.Forward, RobotAction.Wait]);
        Assert.Equal(3, dispatch.ForcedWaits);
        Assert.All(dispatch.Orders, o => Assert.Equal(RobotAction.Wait, o.Action));
    }

    [Fact]
    public void Confirmations_report_unknown_behind_and_repeated_robots_and_use_the_reported_pose()
    {
        var cycle = Corridor(out _);
        Assert.Equal(ConfirmOutcome.UnknownRobot, cycle.Confirm("zz", 0, default));
        ConfirmAll(cycle, 0);
        Assert.Equal(ConfirmOutcome.AlreadyConfirmed, cycle.Confirm("a", 0, new RobotPose(0, Heading.East)));
        cycle.CompleteRound(cycle.BeginRound(false), [RobotAction.Forward, RobotAction.Wait, RobotAction.Wait]);
        Assert.Equal(ConfirmOutcome.Behind, cycle.Confirm("a", 0, new RobotPose(0, Heading.East)));

        // a reports a different pose than planned (1 east): the robot's own pose wins and is counted.
        Assert.Equal(ConfirmOutcome.CaughtUp, cycle.Confirm("a", 1, new RobotPose(0, Heading.South)));
        Assert.Equal(new RobotPose(0, Heading.South), cycle.ConfirmedPose(0));
        Assert.Equal(1, cycle.PoseMismatches);

        // A pose off the map is ignored: the planned target is used.
        Assert.Equal(ConfirmOutcome.CaughtUp, cycle.Confirm("b", 1, new RobotPose(-1, Heading.East)));
        Assert.Equal(new RobotPose(2, Heading.East), cycle.ConfirmedPose(1));
    }

    [Fact]
    public void An_aborted_round_leaves_the_step_unchanged_and_can_be_planned_again()
    {
        var cycle = Corridor(out _);
        ConfirmAll(cycle, 0);
        var round = cycle.BeginRound(false);
        Assert.Throws<InvalidOperationException>(() => cycle.BeginRound(false));
        cycle.AbortRound(round);
        Assert.Equal(0u, cycle.Step);
        Assert.True(cycle.CanPlan(false));
    }

    [Fact]
    public void A_robot_following_into_a_cell_being_left_is_granted_only_when_the_leader_confirms()
    {
        // 5x1 corridor, a at 0 and b at 1 both facing east: a follows b.
        var map = TestMaps.Open(5, 1, "row");
        var cycle = new SiteCycle(map, [new RobotSeat("a", 0, Heading.East), new RobotSeat("b", 1, Heading.East)]);
        ConfirmAll(cycle, 0);
        var dispatch = cycle.CompleteRound(cycle.BeginRound(false), [RobotAction.Forward, RobotAction.Forward]);

        var follower = dispatch.Orders.Single(o => o.RobotId == "a");
        var leader = dispatch.Orders.Single(o => o.RobotId == "b");
        Assert.False(follower.Granted);
        Assert.Equal(1, follower.GrantedBy);
        Assert.True(leader.Granted);
        Assert.Equal(1, cycle.UngrantedCount);
        Assert.Empty(cycle.TakeReleasedGrants());

        cycle.Confirm("b", 1, new RobotPose(2, Heading.East));
        var released = Assert.Single(cycle.TakeReleasedGrants());
        Assert.Equal(new ReleasedGrant(0, "a", 1, follower.Revision), released);
        Assert.Equal(0, cycle.UngrantedCount);
        Assert.Empty(cycle.TakeReleasedGrants());
    }

    [Fact]
    public void A_chain_of_followers_is_released_one_link_at_a_time()
    {
        var map = TestMaps.Open(5, 1, "row");
        var cycle = new SiteCycle(map, [new RobotSeat("a", 0, Heading.East), new RobotSeat("b", 1, Heading.East), new RobotSeat("c", 2, Heading.East)]);
        ConfirmAll(cycle, 0);
        var dispatch = cycle.CompleteRound(cycle.BeginRound(false), [RobotAction.Forward, RobotAction.Forward, RobotAction.Forward]);
        Assert.Equal([false, false, true], dispatch.Orders.OrderBy(o => o.RobotIndex).Select(o => o.Granted));

        cycle.Confirm("c", 1, new RobotPose(3, Heading.East));
        Assert.Equal("b", Assert.Single(cycle.TakeReleasedGrants()).RobotId);
        cycle.Confirm("b", 1, new RobotPose(2, Heading.East));
        Assert.Equal("a", Assert.Single(cycle.TakeReleasedGrants()).RobotId);
    }

    [Fact]
    public void Robots_that_would_follow_each_other_round_a_cycle_wait_instead_of_deadlocking()
    {
        // 2x2 open square, four robots rotating clockwise: valid for LoRR, but no one could ever be granted.
        var map = TestMaps.Open(2, 2, "square");
        var cycle = new SiteCycle(map,
        [
            new RobotSeat("a", 0, Heading.East),  // (0,0) -> (0,1)
            new RobotSeat("b", 1, Heading.South), // (0,1) -> (1,1)
            new RobotSeat("c", 3, Heading.West),  // (1,1) -> (1,0)
            new RobotSeat("d", 2, Heading.North), // (1,0) -> (0,0)
        ]);
        ConfirmAll(cycle, 0);
        var dispatch = cycle.CompleteRound(cycle.BeginRound(false), [RobotAction.Forward, RobotAction.Forward, RobotAction.Forward, RobotAction.Forward]);

        Assert.All(dispatch.Orders, o => Assert.Equal(RobotAction.Wait, o.Action));
        Assert.All(dispatch.Orders, o => Assert.True(o.Granted));
        Assert.Equal(0, cycle.UngrantedCount);
    }
}
