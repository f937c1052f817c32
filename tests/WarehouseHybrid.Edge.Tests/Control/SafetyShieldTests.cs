using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;

namespace WarehouseHybrid.Edge.Tests.Control;

public class SafetyShieldTests
{
    private readonly SafetyShield _shield = new(Builders.Limits, 200);

    private static SensorSnapshot Snapshot(double speed = 0, SensorFlags flags = SensorFlags.None, double? wallAhead = null, BoardStatus status = BoardStatus.Ok)
    {
        var robot = new KinematicRobot(0, 0, 0) { Flags = flags, WallEastX = wallAhead };
        var store = new SensorSnapshotStore();
        var frame = robot.Frame();
        frame.LeftWheelMps = frame.RightWheelMps = (float)speed;
        frame.Status = status;
        store.Publish(frame, 0);
        store.Read(out var s);
        return s;
    }

    [Theory]
    [InlineData(SensorFlags.EmergencyStop, DecisionReason.EmergencyStop)]
    [InlineData(SensorFlags.Bumper, DecisionReason.Bumper)]
    [InlineData(SensorFlags.Bumper | SensorFlags.EmergencyStop, DecisionReason.EmergencyStop)]
    public void Emergency_stop_or_bumper_brakes_whatever_the_policy_proposes(SensorFlags flags, DecisionReason reason)
    {
        var v = _shield.Evaluate(new DriveCommand(0.5, 0.3), DecisionMode.Rule, Snapshot(0.5, flags), stale: false);

        Assert.Equal(DecisionMode.ShieldStop, v.Mode);
        Assert.Equal(reason, v.Reason);
        Assert.Equal(MotorFlags.Brake, v.Command.Flags & MotorFlags.Brake);
        Assert.Equal(0f, v.Command.LinearMps);
    }

    [Fact]
    public void Board_fault_brakes()
    {
        var v = _shield.Evaluate(new DriveCommand(0.5, 0), DecisionMode.Rule, Snapshot(status: BoardStatus.Faulted), stale: false);
        Assert.Equal(DecisionReason.BoardFault, v.Reason);
        Assert.True((v.Command.Flags & MotorFlags.Brake) != 0);
    }

    [Fact]
    public void Stale_sensors_command_a_controlled_stop()
    {
        var v = _shield.Evaluate(new DriveCommand(0.5, 0.2), DecisionMode.Rule, Snapshot(0.5), stale: true);

        Assert.Equal(DecisionReason.SensorStale, v.Reason);
        Assert.Equal(DecisionMode.ShieldStop, v.Mode);
        Assert.Equal(0f, v.Command.LinearMps);
        Assert.Equal(0f, v.Command.AngularRadps);
        Assert.Equal(MotorFlags.None, v.Command.Flags);
    }

    [Fact]
    public void Obstacle_inside_the_stopping_distance_at_the_current_speed_brakes()
    {
        // 1 m/s needs 1 / (2 * 1.5) = 0.33 m plus 0.25 m margin: a wall 0.5 m ahead is too close.
        var v = _shield.Evaluate(new DriveCommand(1.0, 0), DecisionMode.Rule, Snapshot(1.0, wallAhead: 0.5), stale: false);

        Assert.Equal(DecisionReason.ObstacleInStoppingDistance, v.Reason);
        Assert.True((v.Command.Flags & MotorFlags.Brake) != 0);
    }

    [Fact]
    public void Obstacle_just_outside_the_stopping_distance_only_limits_the_speed()
    {
        // Moving at 0.5 m/s (0.083 m + 0.25 m) with a wall 0.5 m ahead: no brake, but 1 m/s is more than can stop in 0.25 m.
        var v = _shield.Evaluate(new DriveCommand(1.0, 0), DecisionMode.Rule, Snapshot(0.5, wallAhead: 0.5), stale: false);

        Assert.Equal(DecisionReason.ObstacleAhead, v.Reason);
        Assert.False((v.Command.Flags & MotorFlags.Brake) != 0);
        Assert.Equal(Math.Sqrt(2 * 1.5 * 0.25), v.Command.LinearMps, 3);
    }

    [Fact]
    public void Obstacle_behind_does_not_stop_forward_motion()
    {
        var v = _shield.Evaluate(new DriveCommand(-0.5, 0), DecisionMode.Rule, Snapshot(-0.5, wallAhead: 0.4), stale: false);
        Assert.Equal(DecisionMode.Rule, v.Mode);
        Assert.Equal(-0.5f, v.Command.LinearMps);
    }

    [Fact]
    public void Proposals_are_clamped_to_the_top_speeds_without_an_override()
    {
        var v = _shield.Evaluate(new DriveCommand(3.0, -9.0), DecisionMode.Rule, Snapshot(), stale: false);

        Assert.Equal(DecisionMode.Rule, v.Mode);
        Assert.Equal(1.0f, v.Command.LinearMps);
        Assert.Equal(-2.0f, v.Command.AngularRadps);
        Assert.Equal(200, v.Command.TimeoutMs);
    }

    [Fact]
    public void Non_finite_proposal_stops_the_robot()
    {
        var v = _shield.Evaluate(new DriveCommand(double.NaN, 0), DecisionMode.Rule, Snapshot(), stale: false);
        Assert.Equal(DecisionReason.InvalidProposal, v.Reason);
        Assert.Equal(0f, v.Command.LinearMps);
    }
}
