using CsCheck;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Tests.World;

public sealed class KinematicsTests
{
    private static readonly TimeSpan Dt = TimeSpan.FromMilliseconds(10);

    private static MotorCommand Drive(double v, double w = 0, ushort timeoutMs = 60_000) =>
        new() { LinearMps = (float)v, AngularRadps = (float)w, TimeoutMs = timeoutMs };

    private static (SimWorld World, int Robot) Corridor(SimWorldOptions? options = null)
    {
        var world = new SimWorld(TestMaps.Open(12, 3), options);
        var robot = world.AddRobot("r0", world.Map.CellAt(1, 1), Heading.East);
        return (world, robot);
    }

    private static void Run(SimWorld world, double seconds)
    {
        var steps = (int)Math.Round(seconds / Dt.TotalSeconds);
        for (var i = 0; i < steps; i++)
        {
            world.Step(Dt);
        }
    }

    [Fact]
    public void Constant_command_moves_the_ramp_plus_cruise_distance()
    {
        var (world, r) = Corridor(new SimWorldOptions { MaxLinearAccelerationMps2 = 1.0 });
        world.ApplyCommand(r, Drive(1.0));
        Run(world, 3.2);

        // 1 s ramp at 1 m/s^2 covers 0.5 m, then 2.2 s at 1 m/s covers 2.2 m.
        var s = world.GetRobot(r);
        Assert.Equal(1.5 + 2.7, s.X, 9);
        Assert.Equal(1.5, s.Y, 9);
        Assert.Equal(1.0, s.LinearMps, 9);
        Assert.Equal(world.Map.CellAt(1, 4), s.Cell);
    }

    [Fact]
    public void Positive_yaw_rate_turns_from_east_toward_south_in_the_world_angle_convention()
    {
        var (world, r) = Corridor(new SimWorldOptions { MaxAngularAccelerationRadps2 = 1000 });
        world.ApplyCommand(r, Drive(0, Math.PI / 2));
        Run(world, 1.0);

        var s = world.GetRobot(r);
        Assert.Equal(Math.PI / 2, s.ThetaRad, 2);
        Assert.Equal(Heading.South, s.DiscretePose.Heading);
        Assert.Equal(1.5, s.X, 9); // turned in place
    }

    [Fact]
    public void Speed_and_acceleration_limits_hold_for_any_command_sequence()
    {
        var options = new SimWorldOptions();
        var map = TestMaps.Open(40, 40);
        Gen.Select(Gen.Float[-10f, 10f], Gen.Float[-10f, 10f], Gen.Bool).Array[1, 40].Sample(commands =>
        {
            var world = new SimWorld(map, options);
            var r = world.AddRobot("r0", world.Map.CellAt(20, 20), Heading.East);
            var before = world.GetRobot(r);
            foreach (var (v, w, brake) in commands)
            {
                world.ApplyCommand(r, new MotorCommand { LinearMps = v, AngularRadps = w, Flags = brake ? MotorFlags.Brake : 0, TimeoutMs = 1000 });
                for (var k = 0; k < 5; k++)
                {
                    world.Step(Dt);
                    var after = world.GetRobot(r);
                    Assert.InRange(Math.Abs(after.LinearMps), 0, options.MaxLinearSpeedMps + 1e-9);
                    Assert.InRange(Math.Abs(after.AngularRadps), 0, options.MaxAngularSpeedRadps + 1e-9);
                    var maxDv = Math.Max(options.MaxLinearAccelerationMps2, options.BrakeDecelerationMps2) * Dt.TotalSeconds;
                    var maxDw = Math.Max(options.MaxAngularAccelerationRadps2, options.BrakeAngularDecelerationRadps2) * Dt.TotalSeconds;
                    Assert.InRange(Math.Abs(after.LinearMps - before.LinearMps), 0, maxDv + 1e-9);
                    Assert.InRange(Math.Abs(after.AngularRadps - before.AngularRadps), 0, maxDw + 1e-9);
                    before = after;
                }
            }
        }, iter: 100);
    }

    [Fact]
    public void Brake_stops_the_robot_within_v_squared_over_two_a()
    {
        var options = new SimWorldOptions { MaxLinearSpeedMps = 1.5, BrakeDecelerationMps2 = 2.0 };
        var (world, r) = Corridor(options);
        world.ApplyCommand(r, Drive(1.5));
        Run(world, 1.5); // reaches 1.5 m/s at 1 m/s^2
        var cruising = world.GetRobot(r);
        Assert.Equal(1.5, cruising.LinearMps, 9);

        world.ApplyCommand(r, new MotorCommand { LinearMps = 1.5f, Flags = MotorFlags.Brake, TimeoutMs = 60_000 });
        Run(world, 1.0);
        var stopped = world.GetRobot(r);

        Assert.True(stopped.IsStopped);
        Assert.True(stopped.Braked);
        Assert.Equal(1.5 * 1.5 / (2 * 2.0), stopped.X - cruising.X, 9);
    }

    [Fact]
    public void Watchdog_brakes_a_robot_whose_commands_stop()
    {
        var (world, r) = Corridor();
        world.ApplyCommand(r, Drive(1.0, timeoutMs: 300));
        Run(world, 0.29);
        Assert.False(world.GetRobot(r).WatchdogExpired);
        Assert.True(world.GetRobot(r).LinearMps > 0.25);

        Run(world, 0.02);
        var tripped = world.GetRobot(r);
        Assert.True(tripped.WatchdogExpired);
        Assert.True(tripped.Braked);

        Run(world, 0.5);
        var after = world.GetRobot(r);
        Assert.True(after.IsStopped);
        Assert.True(after.X - tripped.X <= (tripped.LinearMps * tripped.LinearMps / (2 * world.Options.BrakeDecelerationMps2)) + 1e-9);
    }

    [Fact]
    public void Fresh_commands_keep_the_watchdog_from_tripping()
    {
        var (world, r) = Corridor();
        for (var i = 0; i < 100; i++)
        {
            world.ApplyCommand(r, Drive(0.5, timeoutMs: 50));
            world.Step(Dt);
        }

        Assert.False(world.GetRobot(r).WatchdogExpired);
        Assert.Equal(0.5, world.GetRobot(r).LinearMps, 9);
    }

    [Fact]
    public void A_robot_without_any_command_stays_braked_where_it_is()
    {
        var (world, r) = Corridor();
        Run(world, 1.0);
        var s = world.GetRobot(r);
        Assert.True(s.Braked);
        Assert.Equal((1.5, 1.5), (s.X, s.Y));
    }

    [Fact]
    public void Emergency_stop_halts_at_once_and_holds_against_commands()
    {
        var (world, r) = Corridor();
        world.ApplyCommand(r, Drive(1.0));
        Run(world, 1.0);
        world.SetEmergencyStop(r, true);
        var at = world.GetRobot(r);
        Assert.True(at.IsStopped);

        for (var i = 0; i < 50; i++)
        {
            world.ApplyCommand(r, Drive(1.0));
            world.Step(Dt);
        }

        var held = world.GetRobot(r);
        Assert.Equal((at.X, at.Y), (held.X, held.Y));
        Assert.True(held.EmergencyStop);
        Assert.Null(world.FirstViolation);

        world.SetEmergencyStop(r, false);
        world.ApplyCommand(r, Drive(1.0));
        Run(world, 0.5);
        Assert.True(world.GetRobot(r).X > held.X);
    }

    [Fact]
    public void Odometry_counts_ticks_per_metre_of_wheel_travel()
    {
        var options = new SimWorldOptions { TicksPerMetre = 1000, WheelBaseMetres = 0.5, MaxAngularAccelerationRadps2 = 1000 };
        var (world, r) = Corridor(options);
        world.ApplyCommand(r, Drive(1.0));
        Run(world, 3.0);
        var straight = world.GetRobot(r);
        Assert.InRange(straight.LeftTicks, 2499, 2500);
        Assert.InRange(straight.RightTicks, 2499, 2500);

        world.ApplyCommand(r, new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = 60_000 });
        Run(world, 1.0);
        var rest = world.GetRobot(r);
        world.ApplyCommand(r, Drive(0, Math.PI / 2));
        Run(world, 1.0);
        var turned = world.GetRobot(r);

        // A quarter turn in place moves each wheel (pi/2) * b/2 ~ 0.3927 m, right forward and left back.
        var turn = turned.ThetaRad - rest.ThetaRad;
        var wheel = turn * 0.25 * 1000;
        Assert.InRange(turned.LeftTicks - rest.LeftTicks, -wheel - 1, -wheel + 1);
        Assert.InRange(turned.RightTicks - rest.RightTicks, wheel - 1, wheel + 1);
    }

    [Fact]
    public void Seeded_odometry_noise_repeats_exactly_and_differs_from_the_truth()
    {
        static RobotState RunNoisy(int seed)
        {
            var (world, r) = Corridor(new SimWorldOptions { OdometryNoiseFraction = 0.05, NoiseSeed = seed });
            world.ApplyCommand(r, Drive(1.0));
            Run(world, 2.0);
            return world.GetRobot(r);
        }

        var a = RunNoisy(5);
        var b = RunNoisy(5);
        var c = RunNoisy(6);
        Assert.Equal((a.LeftTicks, a.RightTicks), (b.LeftTicks, b.RightTicks));
        Assert.NotEqual((a.LeftTicks, a.RightTicks), (c.LeftTicks, c.RightTicks));
        Assert.NotEqual(a.LeftTicks, a.RightTicks);
    }

    [Fact]
    public void Bad_options_are_refused_naming_the_field()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SimWorld(TestMaps.Open(3, 3), new SimWorldOptions { MaxLinearSpeedMps = 0 }));
        Assert.Contains("MaxLinearSpeedMps", ex.Message, StringComparison.Ordinal);
        var radius = Assert.Throws<ArgumentOutOfRangeException>(() => new SimWorld(TestMaps.Open(3, 3), new SimWorldOptions { BodyRadiusMetres = 0.6 }));
        Assert.Contains("BodyRadiusMetres", radius.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_a_robot_on_an_obstacle_or_an_occupied_cell_is_refused()
    {
        var world = new SimWorld(TestMaps.FromRows("..@"));
        world.AddRobot("a", 0, Heading.East);
        Assert.Contains("occupied by robot 'a'", Assert.Throws<ArgumentException>(() => world.AddRobot("b", 0, Heading.East)).Message, StringComparison.Ordinal);
        Assert.Contains("obstacle cell 2", Assert.Throws<ArgumentException>(() => world.AddRobot("c", 2, Heading.East)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => world.AddRobot("a", 1, Heading.East));
    }
}
