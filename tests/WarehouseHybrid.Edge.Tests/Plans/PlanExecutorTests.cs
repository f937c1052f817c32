using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Plans;
using static WarehouseHybrid.Edge.Tests.Doubles.Builders;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Tests.Plans;

public class PlanExecutorTests
{
    // Cell 11 is row 1, column 1: centre (1.5, 1.5). Forward facing east reaches 12, centre (2.5, 1.5).
    private static readonly ContinuousPose AtCell12East = new(2.5, 1.5, 0);

    private static PlanExecutor AtStart()
    {
        var e = Executor();
        e.SetInitialPose(new RobotPose(11, DomainHeading.East));
        return e;
    }

    [Fact]
    public void Granted_forward_step_targets_the_next_cell_centre_and_completes_within_tolerance_at_rest()
    {
        var e = AtStart();
        var r = e.Apply(Segment(1, 11, Heading.East, 1, Step(1, PlanAction.Forward, 12, Heading.East)));

        Assert.Equal(PlanApplyOutcome.Accepted, r.Outcome);
        Assert.Equal(ExecutorState.Executing, e.State);
        var t = e.CurrentTarget;
        Assert.Equal(TargetKind.Move, t.Kind);
        Assert.Equal((2.5, 1.5), (t.X, t.Y));

        Assert.False(e.Advance(AtCell12East with { X = 2.42 }, 0, 0, out _)); // 8 cm short
        Assert.False(e.Advance(AtCell12East, 0.2, 0, out _)); // still moving
        Assert.True(e.Advance(AtCell12East with { X = 2.47, Theta = 0.04 }, 0.01, 0.01, out var done));
        Assert.Equal(1u, done);
        Assert.Equal(1u, e.LastCompletedStep);
        Assert.Equal(new RobotPose(12, DomainHeading.East), e.DiscretePose);
        Assert.Equal(ExecutorState.Idle, e.State);
    }

    [Fact]
    public void Ungranted_step_holds_until_a_grant_update_arrives()
    {
        var e = AtStart();
        e.Apply(Segment(1, 11, Heading.East, 1,
            Step(1, PlanAction.Forward, 12, Heading.East, granted: false)));

        Assert.Equal(ExecutorState.WaitingGrant, e.State);
        Assert.Equal(TargetKind.Hold, e.CurrentTarget.Kind);
        Assert.False(e.Advance(AtCell12East, 0, 0, out _));
        Assert.Equal(0u, e.LastCompletedStep);

        Assert.Equal(PlanApplyOutcome.Ignored, e.Apply(new GrantUpdate { PlanId = "p1", Revision = 7, GrantedThroughStep = 1 }).Outcome);
        Assert.Equal(ExecutorState.WaitingGrant, e.State);

        Assert.Equal(PlanApplyOutcome.Accepted, e.Apply(new GrantUpdate { PlanId = "p1", Revision = 1, GrantedThroughStep = 1 }).Outcome);
        Assert.Equal(TargetKind.Move, e.CurrentTarget.Kind);
        Assert.True(e.Advance(AtCell12East, 0, 0, out _));
    }

    [Fact]
    public void Only_the_granted_prefix_runs_then_the_robot_holds_at_the_last_granted_step()
    {
        var e = AtStart();
        e.Apply(Segment(1, 11, Heading.East, 1,
            Step(1, PlanAction.Forward, 12, Heading.East),
            Step(2, PlanAction.Wait, 12, Heading.East, granted: false)));

        Assert.Equal(1u, e.GrantedThroughStep);
        Assert.True(e.Advance(AtCell12East, 0, 0, out _));
        Assert.Equal(ExecutorState.WaitingGrant, e.State);
        Assert.False(e.Advance(AtCell12East, 0, 0, out _));
        Assert.Equal(1u, e.LastCompletedStep);
    }

    [Fact]
    public void Start_pose_that_disagrees_with_the_robot_is_refused_and_the_robot_holds()
    {
        var e = AtStart();
        var r = e.Apply(Segment(1, 13, Heading.East, 1, Step(1, PlanAction.Forward, 14, Heading.East)));

        Assert.Equal(PlanApplyOutcome.Rejected, r.Outcome);
        Assert.Contains("start pose (13, East)", r.Reason, StringComparison.Ordinal);
        Assert.Contains("(11, East)", r.Reason, StringComparison.Ordinal);
        Assert.Equal(ExecutorState.Idle, e.State);
        Assert.Equal(TargetKind.Hold, e.CurrentTarget.Kind);
    }

    [Fact]
    public void Step_whose_target_does_not_follow_from_its_action_is_refused_naming_the_step()
    {
        var e = AtStart();
        var r = e.Apply(Segment(1, 11, Heading.East, 1, Step(1, PlanAction.Forward, 21, Heading.East)));

        Assert.Equal(PlanApplyOutcome.Rejected, r.Outcome);
        Assert.Contains("steps[0] (step 1)", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_and_older_revisions_are_ignored()
    {
        var e = AtStart();
        var seg = Segment(1, 11, Heading.East, 5, Step(1, PlanAction.Forward, 12, Heading.East));
        Assert.Equal(PlanApplyOutcome.Accepted, e.Apply(seg).Outcome);
        Assert.Equal(PlanApplyOutcome.Ignored, e.Apply(seg).Outcome);
        Assert.Equal(PlanApplyOutcome.Ignored, e.Apply(Segment(1, 11, Heading.East, 4, Step(1, PlanAction.RotateCw, 11, Heading.South))).Outcome);
        Assert.Equal(TargetKind.Move, e.CurrentTarget.Kind);
    }

    [Fact]
    public void Segment_overlapping_completed_steps_is_applied_from_the_step_after_the_last_completed_one()
    {
        var e = AtStart();
        e.Apply(Segment(1, 11, Heading.East, 1, Step(1, PlanAction.Forward, 12, Heading.East)));
        Assert.True(e.Advance(AtCell12East, 0, 0, out _));

        // Revision 2 re-sends step 1 (already done) and adds step 2: a clockwise turn to south.
        var r = e.Apply(Segment(1, 11, Heading.East, 2,
            Step(1, PlanAction.Forward, 12, Heading.East),
            Step(2, PlanAction.RotateCw, 12, Heading.South)));

        Assert.Equal(PlanApplyOutcome.Accepted, r.Outcome);
        Assert.Equal(1, e.PendingStepCount);
        Assert.Equal(TargetKind.Rotate, e.CurrentTarget.Kind);
        Assert.Equal(2u, e.CurrentTarget.Step);
        Assert.True(e.Advance(AtCell12East with { Theta = Math.PI / 2 }, 0, 0, out var done));
        Assert.Equal(2u, done);
        Assert.Equal(new RobotPose(12, DomainHeading.South), e.DiscretePose);
    }

    [Fact]
    public void Overlapping_segment_whose_past_disagrees_with_the_robot_is_refused()
    {
        var e = AtStart();
        e.Apply(Segment(1, 11, Heading.East, 1, Step(1, PlanAction.Forward, 12, Heading.East)));
        Assert.True(e.Advance(AtCell12East, 0, 0, out _));

        var r = e.Apply(Segment(1, 11, Heading.East, 2,
            Step(1, PlanAction.RotateCw, 11, Heading.South),
            Step(2, PlanAction.Forward, 21, Heading.South)));

        Assert.Equal(PlanApplyOutcome.Rejected, r.Outcome);
        Assert.Equal(1u, e.LastCompletedStep);
    }

    [Fact]
    public void Segments_arriving_out_of_order_run_each_step_once_in_order()
    {
        var e = AtStart();
        var newer = Segment(2, 12, Heading.East, 2, Step(2, PlanAction.Forward, 13, Heading.East));
        var older = Segment(1, 11, Heading.East, 1, Step(1, PlanAction.Forward, 12, Heading.East));

        // The newer segment (step 2) arrives first: it does not start from the robot's pose, so it is refused.
        Assert.Equal(PlanApplyOutcome.Rejected, e.Apply(newer).Outcome);
        Assert.Equal(PlanApplyOutcome.Accepted, e.Apply(older).Outcome);
        Assert.True(e.Advance(AtCell12East, 0, 0, out var first));
        Assert.Equal(1u, first);

        // Re-delivered after step 1: now it follows on.
        var resent = Segment(2, 12, Heading.East, 3, Step(2, PlanAction.Forward, 13, Heading.East));
        Assert.Equal(PlanApplyOutcome.Accepted, e.Apply(resent).Outcome);
        Assert.True(e.Advance(new ContinuousPose(3.5, 1.5, 0), 0, 0, out var second));
        Assert.Equal(2u, second);
        Assert.False(e.Advance(new ContinuousPose(3.5, 1.5, 0), 0, 0, out _));
    }

    [Fact]
    public void Site_clock_that_moved_on_while_the_robot_stood_still_rebases_the_step_counter()
    {
        var e = AtStart();
        e.Apply(Segment(1, 11, Heading.East, 1, Step(1, PlanAction.Wait, 11, Heading.East)));
        Assert.True(e.Advance(new ContinuousPose(1.5, 1.5, 0), 0, 0, out _));

        var r = e.Apply(Segment(5, 11, Heading.East, 2, Step(5, PlanAction.Forward, 12, Heading.East)));

        Assert.Equal(PlanApplyOutcome.Accepted, r.Outcome);
        Assert.Equal(4u, e.LastCompletedStep);
        Assert.Equal(5u, e.CurrentTarget.Step);
    }

    [Fact]
    public void Unlocalised_robot_takes_the_first_segment_start_as_its_pose()
    {
        var e = Executor();
        Assert.Equal(ExecutorState.Unlocalized, e.State);

        e.Apply(Segment(8, 45, Heading.North, 1, Step(8, PlanAction.RotateCcw, 45, Heading.West)));

        Assert.True(e.HasPose);
        Assert.Equal(new RobotPose(45, DomainHeading.North), e.DiscretePose);
        Assert.Equal(7u, e.LastCompletedStep);
        Assert.Equal(TargetKind.Rotate, e.CurrentTarget.Kind);
    }

    [Fact]
    public void Wait_step_completes_at_once_wherever_the_robot_is()
    {
        var e = AtStart();
        e.Apply(Segment(1, 11, Heading.East, 1, Step(1, PlanAction.Wait, 11, Heading.East)));
        Assert.Equal(TargetKind.Hold, e.CurrentTarget.Kind);
        Assert.True(e.Advance(new ContinuousPose(1.6, 1.5, 0.1), 0.2, 0, out var done));
        Assert.Equal(1u, done);
    }
}
