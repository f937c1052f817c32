using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Tests.World;

/// <summary>People, dropped items, blocked cells, slowed drives and the new invariants.</summary>
public sealed class FloorTests
{
    private static readonly TimeSpan Dt = TimeSpan.FromMilliseconds(10);

    private static void Run(SimWorld world, int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            world.Step(Dt);
        }
    }

    [Fact]
    public void A_person_walks_between_waypoints_and_is_seen_by_the_range_sensor()
    {
        var world = new SimWorld(TestMaps.Open(10, 1));
        var r = world.AddRobot("r0", 0, Heading.East);
        Assert.Equal(9500, world.Scan(r)[0]); // the east edge at x = 10 m
        world.AddPerson("p", [(8, TimeSpan.Zero), (4, TimeSpan.FromSeconds(10))], speedMps: 1.0, radiusMetres: 0.25);
        Run(world, 400); // 4 s at 1 m/s: from x = 8.5 to 4.5

        var p = Assert.Single(world.People);
        Assert.Equal(4, p.Cell);
        Assert.Equal(4.5, p.X, 6);
        Assert.Equal(3750, world.Scan(r)[0]); // centre 0.5 m, person's surface at 4.25 m
    }

    [Fact]
    public void A_robot_driving_into_a_persons_cell_breaks_the_person_invariant()
    {
        var world = new SimWorld(TestMaps.Open(6, 1));
        var r = world.AddRobot("r0", 0, Heading.East);
        world.AddPerson("visitor", [(3, TimeSpan.FromMinutes(1))]);
        world.ApplyCommand(r, new MotorCommand { LinearMps = 1, TimeoutMs = 60_000 });
        Run(world, 400);

        var v = Assert.Single(world.Violations, x => x.Kind == InvariantKind.EnteredPersonCell);
        Assert.Equal(["r0", "visitor"], v.RobotIds);
        Assert.Contains(world.Violations, x => x.Kind == InvariantKind.Collision && x.RobotIds.Contains("visitor"));
    }

    [Fact]
    public void A_blocked_cell_is_a_wall_to_the_sensors_and_entering_it_is_a_violation()
    {
        var world = new SimWorld(TestMaps.Open(8, 1));
        var r = world.AddRobot("r0", 0, Heading.East);
        world.BlockCell(4);
        Assert.Equal(3500, world.Scan(r)[0]);
        world.ApplyCommand(r, new MotorCommand { LinearMps = 1, TimeoutMs = 60_000 });
        Run(world, 500);
        Assert.Contains(world.Violations, v => v.Kind == InvariantKind.InObstacle && v.Message.Contains("blocked cell 4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dropped_item_is_a_small_circle_in_its_cell()
    {
        var world = new SimWorld(TestMaps.Open(8, 1));
        var r = world.AddRobot("r0", 0, Heading.East);
        world.DropItem("box", 5, radiusMetres: 0.2);
        Assert.Equal(4800, world.Scan(r)[0]); // item centre 5.5 m, surface 5.3 m, from 0.5 m
        Assert.True(world.IsBlocked(5));
    }

    [Fact]
    public void A_slowed_drive_delivers_its_fraction_of_the_commanded_speed()
    {
        var world = new SimWorld(TestMaps.Open(10, 1), new SimWorldOptions { MaxLinearAccelerationMps2 = 1000 });
        var r = world.AddRobot("r0", 0, Heading.East);
        world.SetSpeedFactor(r, 0.25);
        world.ApplyCommand(r, new MotorCommand { LinearMps = 1, TimeoutMs = 60_000 });
        Run(world, 100);
        Assert.Equal(0.25, world.GetRobot(r).LinearMps, 6);
        Assert.Equal(0.75, world.GetRobot(r).X, 2);
    }

    [Fact]
    public void Brakes_weaker_than_the_shield_assumes_break_the_stop_envelope_and_matching_ones_do_not()
    {
        foreach (var (worldBrake, expectViolation) in new[] { (1.0, true), (3.0, false) })
        {
            var world = new SimWorld(TestMaps.Open(20, 1), new SimWorldOptions
            {
                MaxLinearAccelerationMps2 = 100, BrakeDecelerationMps2 = worldBrake, ShieldBrakeDecelerationMps2 = 2.0,
            });
            var r = world.AddRobot("r0", 0, Heading.East);
            world.ApplyCommand(r, new MotorCommand { LinearMps = 1.5f, TimeoutMs = 60_000 });
            Run(world, 100);
            world.ApplyCommand(r, new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = 60_000 });
            Run(world, 300);
            Assert.Equal(0, world.GetRobot(r).LinearMps);
            Assert.Equal(expectViolation, world.Violations.Any(v => v.Kind == InvariantKind.StopEnvelopeExceeded));
        }
    }

    [Fact]
    public void Sensor_bias_scales_ranges_and_offsets_the_heading()
    {
        var world = new SimWorld(TestMaps.Open(10, 1));
        var r = world.AddRobot("r0", 0, Heading.East);
        world.SetSensorBias(r, 0.5, 0.5);
        var frame = world.Sense(r);
        Assert.Equal(4750, frame.Ranges[0]);
        Assert.Equal(0.5, frame.HeadingRad, 5);
    }
}
