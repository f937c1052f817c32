using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;

namespace WarehouseHybrid.Edge.Tests.Control;

public class RulePolicyTests
{
    private const double Dt = 0.02;

    /// <summary>Closes the loop policy -> shield -> physics until the target is reached within tolerance and at rest.</summary>
    private static (KinematicRobot Robot, int Ticks, double PeakSpeed) Drive(KinematicRobot robot, StepTarget target, int maxTicks = 1500)
    {
        var policy = new RulePolicy(Builders.Limits);
        var shield = new SafetyShield(Builders.Limits, 200);
        var store = new SensorSnapshotStore();
        var previous = default(DriveCommand);
        var peak = 0.0;
        for (var tick = 0; tick < maxTicks; tick++)
        {
            store.Publish(robot.Frame(), tick);
            store.Read(out var snap);
            var pose = new ContinuousPose(robot.X, robot.Y, robot.Theta);
            var dist = Math.Sqrt(Math.Pow(robot.X - target.X, 2) + Math.Pow(robot.Y - target.Y, 2));
            var angle = Math.Abs(GridGeometry.AngleDifference(robot.Theta, target.Theta));
            if (tick > 0 && dist < 0.05 && angle < 0.05 && Math.Abs(robot.V) < 0.03 && Math.Abs(robot.W) < 0.08)
            {
                return (robot, tick, peak);
            }

            policy.TryDecide(new PolicyInput(pose, target, snap, robot.V, robot.W, previous, Dt), out var proposal);
            var verdict = shield.Evaluate(proposal, DecisionMode.Rule, snap, stale: false);
            Assert.Equal(DecisionMode.Rule, verdict.Mode); // the rule policy never needs overriding in open space
            robot.Command(verdict.Command);
            previous = new DriveCommand(verdict.Command.LinearMps, verdict.Command.AngularRadps);
            peak = Math.Max(peak, Math.Abs(robot.V));
            robot.Step(Dt);
        }

        throw new Xunit.Sdk.XunitException($"did not converge: at ({robot.X:F3}, {robot.Y:F3}, {robot.Theta:F3}) v {robot.V:F3} w {robot.W:F3}, target ({target.X}, {target.Y}, {target.Theta:F3})");
    }

    [Fact]
    public void Forward_step_converges_to_the_next_cell_centre_and_stops_within_the_speed_limit()
    {
        var target = new StepTarget(TargetKind.Move, 1, 12, Heading.East, 2.5, 1.5, 0);
        var (robot, ticks, peak) = Drive(new KinematicRobot(1.5, 1.5, 0), target);

        Assert.InRange(robot.X, 2.45, 2.55);
        Assert.InRange(peak, 0.3, 1.0);
        Assert.InRange(ticks, 50, 400); // a 1 m step takes 1-8 s
    }

    [Fact]
    public void Forward_step_starting_off_line_and_askew_still_converges()
    {
        var target = new StepTarget(TargetKind.Move, 1, 21, Heading.South, 1.5, 2.5, Math.PI / 2);
        Drive(new KinematicRobot(1.58, 1.45, (Math.PI / 2) + 0.2), target);
    }

    [Fact]
    public void Rotation_turns_in_place_to_the_target_heading()
    {
        var target = new StepTarget(TargetKind.Rotate, 1, 11, Heading.North, 1.5, 1.5, 3 * Math.PI / 2);
        var (robot, _, _) = Drive(new KinematicRobot(1.5, 1.5, 0), target);

        Assert.InRange(robot.X, 1.49, 1.51);
        Assert.InRange(robot.Y, 1.49, 1.51);
    }

    [Fact]
    public void Hold_ramps_a_moving_robot_down_to_rest()
    {
        var policy = new RulePolicy(Builders.Limits);
        var previous = new DriveCommand(0.8, 0.5);
        var snap = default(SensorSnapshot);
        for (var i = 0; i < 100; i++)
        {
            policy.TryDecide(new PolicyInput(default, default, snap, previous.LinearMps, previous.AngularRadps, previous, Dt), out var next);
            Assert.True(Math.Abs(next.LinearMps - previous.LinearMps) <= (Builders.Limits.LinearAccel * Dt) + 1e-9);
            previous = next;
        }

        Assert.Equal(0, previous.LinearMps, 6);
        Assert.Equal(0, previous.AngularRadps, 6);
    }

    [Fact]
    public void Policy_slows_when_the_range_scan_sees_an_obstacle_ahead()
    {
        var target = new StepTarget(TargetKind.Move, 1, 15, Heading.East, 5.5, 1.5, 0);
        var open = new KinematicRobot(1.5, 1.5, 0);
        var walled = new KinematicRobot(1.5, 1.5, 0) { WallEastX = 2.3 };
        var policy = new RulePolicy(Builders.Limits);
        var store = new SensorSnapshotStore();

        // The speed the policy settles at, seen from a fixed pose (acceleration limits need a few ticks).
        double SettledSpeed(KinematicRobot r)
        {
            store.Publish(r.Frame(), 0);
            store.Read(out var snap);
            var prev = default(DriveCommand);
            for (var i = 0; i < 100; i++)
            {
                policy.TryDecide(new PolicyInput(new ContinuousPose(r.X, r.Y, r.Theta), target, snap, prev.LinearMps, 0, prev, Dt), out prev);
            }

            return prev.LinearMps;
        }

        // Wall 0.8 m ahead: (0.8 - 0.25 margin) / (1.5 - 0.25) of top speed.
        Assert.Equal(1.0, SettledSpeed(open), 3);
        Assert.Equal(0.44, SettledSpeed(walled), 2);
    }
}
