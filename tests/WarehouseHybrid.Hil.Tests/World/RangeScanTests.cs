using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Hil.World;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.World;

public sealed class RangeScanTests
{
    // Beam i points at world angle heading + i * 22.5 degrees: facing east, beam 4 = south, 8 = west, 12 = north.
    private const int Ahead = 0;
    private const int RightHandSouth = 4;
    private const int Behind = 8;
    private const int North = 12;

    [Fact]
    public void Beam_zero_reads_the_distance_from_the_centre_to_the_face_of_a_wall_three_cells_ahead()
    {
        var world = new SimWorld(TestMaps.FromRows(
            "........",
            ".....@..",
            "........"));
        var r = world.AddRobot("r0", world.Map.CellAt(1, 2), Heading.East);

        // Centre at x = 2.5 m; the obstacle cell's west face is at x = 5 m.
        Assert.Equal(2500, world.Scan(r)[Ahead]);
    }

    [Fact]
    public void Beams_follow_the_world_angle_convention_and_see_the_map_edge()
    {
        var world = new SimWorld(TestMaps.Open(8, 6));
        var r = world.AddRobot("r0", world.Map.CellAt(1, 2), Heading.East);
        var scan = world.Scan(r);

        Assert.Equal(5500, scan[Ahead]);           // east edge at x = 8 m
        Assert.Equal(4500, scan[RightHandSouth]);  // bottom edge at y = 6 m
        Assert.Equal(2500, scan[Behind]);          // west edge at x = 0
        Assert.Equal(1500, scan[North]);           // top edge at y = 0

        // The 45-degree beam (east-south) leaves through the bottom edge at 4.5 * sqrt 2.
        Assert.Equal((ushort)Math.Round(4.5 * Math.Sqrt(2) * 1000), scan[2]);
    }

    [Fact]
    public void Turning_the_robot_turns_the_scan_with_it()
    {
        var world = new SimWorld(TestMaps.Open(8, 6));
        var r = world.AddRobot("r0", world.Map.CellAt(1, 2), Heading.South);
        var scan = world.Scan(r);
        Assert.Equal(4500, scan[Ahead]);
        Assert.Equal(2500, scan[4]); // south + 90 degrees = west
    }

    [Fact]
    public void Another_robot_is_seen_at_its_body_surface()
    {
        var options = new SimWorldOptions { BodyRadiusMetres = 0.3 };
        var world = new SimWorld(TestMaps.Open(10, 3), options);
        var me = world.AddRobot("me", world.Map.CellAt(1, 1), Heading.East);
        var other = world.AddRobot("other", world.Map.CellAt(1, 4), Heading.West);

        Assert.Equal(2700, world.Scan(me)[Ahead]);    // 3 m between centres minus the 0.3 m radius
        Assert.Equal(2700, world.Scan(other)[Ahead]); // and it sees us
        Assert.Equal(1500, world.Scan(me)[Behind]);   // the map edge behind
    }

    [Fact]
    public void Nothing_within_the_maximum_range_reads_no_echo()
    {
        var world = new SimWorld(TestMaps.Open(30, 3), new SimWorldOptions { MaxRangeMetres = 5 });
        var r = world.AddRobot("r0", world.Map.CellAt(1, 1), Heading.East);
        var scan = world.Scan(r);
        Assert.Equal(RangeScanLayout.NoEchoMillimetres, scan[Ahead]);
        Assert.Equal(1500, scan[Behind]);
    }

    [Fact]
    public void Sensor_frame_carries_the_scan_heading_and_flags()
    {
        var world = new SimWorld(TestMaps.FromRows("...@"));
        var r = world.AddRobot("r0", 0, Heading.East);
        var frame = world.Sense(r);
        Assert.Equal(2500, frame.Ranges[Ahead]);
        Assert.Equal(0f, frame.HeadingRad);
        Assert.True(frame.Flags.HasFlag(SensorFlags.Braked)); // no command yet
        Assert.False(frame.Flags.HasFlag(SensorFlags.Bumper));
        Assert.Equal(100, frame.BatteryPercent);
    }

    [Fact]
    public void Real_warehouse_map_scan_matches_a_brute_force_march_along_each_beam()
    {
        var map = GridMapReader.Load(RepoPaths.Data("lorr/2026-example/warehouse.domain/maps/warehouse_small.map"));
        var world = new SimWorld(map);
        var rnd = new Random(11);
        for (var n = 0; n < 8; n++)
        {
            int cell;
            do
            {
                cell = rnd.Next(map.CellCount);
            }
            while (!map.IsPassable(cell) || world.IndexOf("r" + n) >= 0);

            var r = world.AddRobot("r" + n, cell, (Heading)rnd.Next(4));
            world.Teleport(r, world.GetRobot(r).X + (rnd.NextDouble() * 0.4) - 0.2, world.GetRobot(r).Y + (rnd.NextDouble() * 0.4) - 0.2, rnd.NextDouble() * 2 * Math.PI);
        }

        for (var r = 0; r < world.RobotCount; r++)
        {
            var s = world.GetRobot(r);
            for (var b = 0; b < RangeScanLayout.BeamCount; b++)
            {
                var angle = s.ThetaRad + (b * RangeScanLayout.BeamSpacingRad);
                var expected = March(world, r, s.X, s.Y, angle);
                Assert.InRange(world.CastRay(r, angle), expected - 0.002, expected + 0.002);
            }
        }
    }

    // Reference: small steps along the ray until a blocked cell, the edge or another body (1 mm resolution).
    private static double March(SimWorld world, int self, double x, double y, double angle)
    {
        var max = world.Options.MaxRangeMetres;
        var others = world.GetRobots().Where(o => o.Index != self).ToArray();
        for (var t = 0.0; t < max; t += 0.001)
        {
            var px = x + (t * Math.Cos(angle));
            var py = y + (t * Math.Sin(angle));
            var cell = world.Geometry.CellAt(world.Map, px, py);
            if (cell < 0 || !world.Map.IsPassable(cell))
            {
                return t;
            }

            foreach (var o in others)
            {
                if (((px - o.X) * (px - o.X)) + ((py - o.Y) * (py - o.Y)) <= world.Options.BodyRadiusMetres * world.Options.BodyRadiusMetres)
                {
                    return t;
                }
            }
        }

        return max;
    }
}
