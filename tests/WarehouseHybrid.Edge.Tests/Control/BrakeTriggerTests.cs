using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Tests.Doubles;

namespace WarehouseHybrid.Edge.Tests.Control;

/// <summary>The serial reader's brake trigger: which raw frames demand a brake, and that a run of them costs one immediate tick.</summary>
public sealed class BrakeTriggerTests
{
    private readonly SafetyShield _shield = new(Builders.Limits, 200);

    private static SensorFrame Frame(double speed, double? wallAhead, SensorFlags flags = SensorFlags.None, BoardStatus status = BoardStatus.Ok)
    {
        var f = new KinematicRobot(0, 0.5, 0) { WallEastX = wallAhead, Flags = flags }.Frame();
        f.LeftWheelMps = f.RightWheelMps = (float)speed;
        f.Status = status;
        return f;
    }

    [Theory]
    [InlineData(0.8, 0.3, true)] // stopping distance at 0.8 m/s: 0.21 + 0.25 margin = 0.46 m
    [InlineData(0.8, 0.6, false)]
    [InlineData(0.0, 0.1, false)] // at rest nothing is in the stopping distance
    [InlineData(-0.8, 0.3, false)] // reversing away from it
    [InlineData(0.8, null, false)]
    public void A_frame_demands_a_brake_only_when_an_echo_is_inside_the_stopping_distance(double speed, double? wall, bool brake) =>
        Assert.Equal(brake, _shield.DemandsBrake(Frame(speed, wall)));

    [Theory]
    [InlineData(SensorFlags.EmergencyStop, BoardStatus.Ok)]
    [InlineData(SensorFlags.Bumper, BoardStatus.Ok)]
    [InlineData(SensorFlags.None, BoardStatus.Faulted)]
    public void E_stop_bumper_and_board_faults_demand_a_brake_at_any_speed(SensorFlags flags, BoardStatus status) =>
        Assert.True(_shield.DemandsBrake(Frame(0, null, flags, status)));

    [Fact]
    public void The_first_dangerous_frame_of_a_run_requests_one_immediate_tick()
    {
        using var rig = new LoopRig();
        var urgent = new UrgentBrakes();
        var trigger = new BrakeTrigger(_shield, urgent, rig.Loop);
        trigger.OnSensorFrame(Frame(0.8, null), 1);
        trigger.OnSensorFrame(Frame(0.8, 0.3), 2);
        trigger.OnSensorFrame(Frame(0.8, 0.3), 3);
        trigger.OnSensorFrame(Frame(0.8, 0.3), 4);
        Assert.Equal(1, trigger.Triggers);
        trigger.OnSensorFrame(Frame(0.0, 0.3), 5);
        trigger.OnSensorFrame(Frame(0.8, 0.3), 6);
        Assert.Equal(2, trigger.Triggers);
        Assert.Equal([2UL, 6UL], urgent.LatchedUntil);
        Assert.All(urgent.Brakes, b => Assert.True((b.Flags & MotorFlags.Brake) != 0));
    }

    [Fact]
    public void The_triggered_tick_brakes_through_the_shield_before_the_next_scheduled_tick()
    {
        using var rig = new LoopRig();
        rig.Loop.Start();
        var frame = Frame(0.8, 0.3);
        rig.Sensors.Publish(frame, rig.Time.GetTimestamp());
        new BrakeTrigger(_shield, null, rig.Loop).OnSensorFrame(frame, 1); // no fake time passes: only the trigger can tick
        Assert.True(SpinWait.SpinUntil(() => rig.Latest.Tick == 1, TimeSpan.FromSeconds(5)), "no tick after the trigger");
        Assert.True((rig.Sinks.LastCommand.Flags & MotorFlags.Brake) != 0);
        Assert.Equal(DecisionReason.ObstacleInStoppingDistance, rig.Latest.Reason);
        Assert.True(rig.Loop.Stop(TimeSpan.FromSeconds(5)));
    }

    private sealed class UrgentBrakes : IUrgentBrake
    {
        public List<MotorCommand> Brakes { get; } = [];

        public List<ulong> LatchedUntil { get; } = [];

        public void BrakeNow(in MotorCommand brake, ulong latchUntilFrame)
        {
            Brakes.Add(brake);
            LatchedUntil.Add(latchUntilFrame);
        }
    }
}
