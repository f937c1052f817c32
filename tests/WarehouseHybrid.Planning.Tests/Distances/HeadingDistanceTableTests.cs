using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Tests.Support;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Planning.Tests.Distances;

public sealed class HeadingDistanceTableTests
{
    private static readonly GridMap Corridor = TestData.ParseMap("""
        @@@@@@@
        @.....@
        @@@@@@@
        """);

    [Fact]
    public void Goal_cell_is_zero_in_every_heading()
    {
        var t = HeadingDistanceTable.Compute(new CompactGrid(Corridor), Corridor.CellAt(1, 3));
        foreach (var h in Enum.GetValues<Heading>())
        {
            Assert.Equal(0, t.Distance(Corridor.CellAt(1, 3), h));
        }
    }

    [Fact]
    public void Distance_counts_forward_steps_and_quarter_turns()
    {
        var t = HeadingDistanceTable.Compute(new CompactGrid(Corridor), Corridor.CellAt(1, 5));
        Assert.Equal(4, t.Distance(Corridor.CellAt(1, 1), Heading.East));
        Assert.Equal(5, t.Distance(Corridor.CellAt(1, 1), Heading.North)); // one turn first
        Assert.Equal(6, t.Distance(Corridor.CellAt(1, 1), Heading.West));  // two turns first
        Assert.Equal(4, t.MinOverHeadings(Corridor.CellAt(1, 1)));
    }

    [Fact]
    public void Obstacles_and_disconnected_cells_are_unreachable()
    {
        var map = TestData.ParseMap("""
            ..@..
            ..@..
            """);
        var t = HeadingDistanceTable.Compute(new CompactGrid(map), map.CellAt(0, 0));
        Assert.Equal(HeadingDistanceTable.Unreachable, t.Distance(map.CellAt(0, 4), Heading.East));
        Assert.Equal(HeadingDistanceTable.Unreachable, t.Distance(map.CellAt(0, 2), Heading.East));
        Assert.Equal(HeadingDistanceTable.Unreachable, t.Distance(-5, Heading.East));
        var onWall = HeadingDistanceTable.Compute(new CompactGrid(map), map.CellAt(1, 2));
        Assert.Equal(HeadingDistanceTable.Unreachable, onWall.Distance(map.CellAt(0, 0), Heading.East));
    }

    [Fact]
    public void Every_state_on_a_real_map_satisfies_the_bellman_equation()
    {
        var map = TestData.LoadMap(RepoPaths.Data("movingai/mapf-map/random-32-32-20.map"));
        var grid = new CompactGrid(map);
        foreach (var goal in TestData.RandomCells(map, 5, seed: 3))
        {
            var t = HeadingDistanceTable.Compute(grid, goal);
            for (var cell = 0; cell < map.CellCount; cell++)
            {
                if (!map.IsPassable(cell))
                {
                    continue;
                }

                foreach (var h in Enum.GetValues<Heading>())
                {
                    var d = t.Distance(cell, h);
                    if (cell == goal)
                    {
                        Assert.Equal(0, d);
                        continue;
                    }

                    var ahead = map.Neighbour(cell, h);
                    var best = Math.Min(t.Distance(cell, h.RotateClockwise()), t.Distance(cell, h.RotateCounterClockwise()));
                    if (ahead >= 0)
                    {
                        best = Math.Min(best, t.Distance(ahead, h));
                    }

                    var expected = best >= HeadingDistanceTable.Unreachable ? HeadingDistanceTable.Unreachable : best + 1;
                    Assert.Equal(expected, d);
                }
            }
        }
    }
}
