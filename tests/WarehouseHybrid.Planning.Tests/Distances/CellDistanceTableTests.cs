using CsCheck;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Planning.Tests.Distances;

public sealed class CellDistanceTableTests
{
    private static readonly Heading[] Headings = Enum.GetValues<Heading>();

    [Fact]
    public void Per_cell_table_with_heading_correction_is_exact_in_a_corridor()
    {
        var map = TestData.ParseMap("""
            @@@@@@@@
            @......@
            @@@@@@@@
            """);
        var grid = new CompactGrid(map);
        foreach (var goalColumn in new[] { 1, 4, 6 })
        {
            var goal = map.CellAt(1, goalColumn);
            var cells = CellDistanceTable.Compute(grid, goal);
            var exact = HeadingDistanceTable.Compute(grid, goal);
            for (var c = 1; c <= 6; c++)
            {
                foreach (var h in Headings)
                {
                    Assert.Equal(exact.Distance(map.CellAt(1, c), h), cells.Distance(map.CellAt(1, c), h));
                }
            }
        }
    }

    [Fact]
    public void Correction_charges_the_turns_to_face_the_first_move()
    {
        var map = TestData.ParseMap("""
            .....
            """);
        var t = CellDistanceTable.Compute(new CompactGrid(map), 4);
        Assert.Equal(4, t.CellDistance(0));
        Assert.Equal(4, t.Distance(0, Heading.East));
        Assert.Equal(5, t.Distance(0, Heading.South));
        Assert.Equal(6, t.Distance(0, Heading.West));
        Assert.Equal(0, t.Distance(4, Heading.West));
        Assert.Equal(2 * 5, t.SizeBytes);
    }

    [Fact]
    public void Per_cell_estimate_is_admissible_and_at_least_the_cell_distance_on_random_maps()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            var map = RandomMaps.Create(rng, rng.Next(2, 12), rng.Next(2, 12), rng.Next(0, 40));
            var grid = new CompactGrid(map);
            var goal = RandomPassable(map, rng);
            var cells = CellDistanceTable.Compute(grid, goal);
            var exact = HeadingDistanceTable.Compute(grid, goal);
            for (var c = 0; c < map.CellCount; c++)
            {
                if (!map.IsPassable(c))
                {
                    Assert.Equal(GoalDistanceTable.Unreachable, cells.Distance(c, Heading.East));
                    continue;
                }

                // Unreachable exactly when the exact table says so; the cell distance is the exact best heading's lower bound.
                Assert.Equal(exact.MinOverHeadings(c) == GoalDistanceTable.Unreachable, cells.CellDistance(c) == GoalDistanceTable.Unreachable);
                Assert.True(cells.CellDistance(c) <= exact.MinOverHeadings(c));
                foreach (var h in Headings)
                {
                    var e = exact.Distance(c, h);
                    var est = cells.Distance(c, h);
                    Assert.True(est <= e, $"seed {seed}: cell {c} heading {h}: estimate {est} above exact {e}");
                    if (e != GoalDistanceTable.Unreachable)
                    {
                        Assert.True(est >= cells.CellDistance(c), $"seed {seed}: cell {c} heading {h}: estimate {est} below the cell distance");
                    }
                }
            }
        }, iter: 200);
    }

    [Fact]
    public void Manhattan_fallback_is_admissible_against_exact_tables_on_random_maps()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            var map = RandomMaps.Create(rng, rng.Next(2, 12), rng.Next(2, 12), rng.Next(0, 40));
            var goal = RandomPassable(map, rng);
            var exact = HeadingDistanceTable.Compute(new CompactGrid(map), goal);
            var est = new ManhattanEstimate(map, goal);
            for (var c = 0; c < map.CellCount; c++)
            {
                if (!map.IsPassable(c))
                {
                    continue;
                }

                Assert.True(est.MinOverHeadings(c) <= exact.MinOverHeadings(c));
                foreach (var h in Headings)
                {
                    Assert.True(est.Distance(c, h) <= exact.Distance(c, h), $"seed {seed}: cell {c} heading {h}: {est.Distance(c, h)} > {exact.Distance(c, h)}");
                }
            }

            Assert.Equal(0, est.Distance(goal, Heading.North));
        }, iter: 200);
    }

    [Fact]
    public void Manhattan_fallback_is_exact_on_an_open_floor()
    {
        var map = TestData.ParseMap("""
            .....
            .....
            .....
            """);
        var goal = map.CellAt(2, 4);
        var exact = HeadingDistanceTable.Compute(new CompactGrid(map), goal);
        var est = new ManhattanEstimate(map, goal);
        for (var c = 0; c < map.CellCount; c++)
        {
            foreach (var h in Headings)
            {
                Assert.Equal(exact.Distance(c, h), est.Distance(c, h));
            }
        }
    }

    [Fact]
    public void Manhattan_fallback_refuses_a_goal_off_the_map_naming_it()
    {
        var map = TestData.ParseMap("...");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ManhattanEstimate(map, 7));
        Assert.Contains("off the map", e.Message, StringComparison.Ordinal);
    }

    private static int RandomPassable(GridMap map, Random rng)
    {
        while (true)
        {
            var c = rng.Next(map.CellCount);
            if (map.IsPassable(c))
            {
                return c;
            }
        }
    }
}
