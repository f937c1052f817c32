using CsCheck;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Guidance;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Planning.Tests.Guidance;

public sealed class GuidanceCostsTests
{
    [Fact]
    public void Evenly_spaced_aisles_alternate_directions_even_when_their_spacing_is_even()
    {
        // Aisles every 4 columns (all odd): the parity rule would make them all one-way the same way.
        var map = TestData.ParseMap("""
            .............
            .@@@.@@@.@@@.
            .@@@.@@@.@@@.
            .@@@.@@@.@@@.
            .............
            """);
        var parity = HighwayLanes.Compute(map, HighwayLayout.Parity);
        Assert.Equal(parity.ColumnDirection[4], parity.ColumnDirection[8]);

        var lanes = HighwayLanes.Compute(map, HighwayLayout.Corridors);
        var aisles = new[] { 0, 4, 8, 12 }.Select(c => lanes.ColumnDirection[c]).ToArray();
        Assert.Equal([(int)Heading.South, (int)Heading.North, (int)Heading.South, (int)Heading.North], aisles);
        Assert.Equal((int)Heading.East, lanes.RowDirection[0]);
        Assert.Equal((int)Heading.West, lanes.RowDirection[4]);
    }

    [Fact]
    public void A_move_along_its_lane_costs_one_and_against_it_the_penalty()
    {
        var map = TestData.ParseMap("""
            .....
            .....
            """);
        var grid = new CompactGrid(map);
        var costs = GuidanceCosts.Highways(grid, againstCost: 4);
        var d = grid.DenseOf(map.CellAt(0, 2));
        Assert.Equal(1, costs.MoveCost(d, (int)Heading.East));   // row 0 runs east
        Assert.Equal(4, costs.MoveCost(d, (int)Heading.West));
        Assert.Equal(0, costs.MoveCost(d, (int)Heading.North)); // off the map: no move
        Assert.Equal(4, costs.MaxMoveCost);
        Assert.False(costs.IsUniform);
        Assert.True(GuidanceCosts.Uniform(grid).IsUniform);
    }

    [Fact]
    public void Weighted_tables_match_a_reference_search_on_random_maps_and_the_per_cell_one_stays_admissible()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            var map = RandomMaps.Create(rng, rng.Next(2, 10), rng.Next(2, 10), rng.Next(0, 35));
            var grid = new CompactGrid(map);
            var costs = GuidanceCosts.Highways(grid, rng.Next(1, 7), rng.Next(2) == 0 ? HighwayLayout.Parity : HighwayLayout.Corridors);
            var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
            var goal = free[rng.Next(free.Length)];
            var exact = HeadingDistanceTable.Compute(grid, goal, costs);
            var cells = CellDistanceTable.Compute(grid, goal, costs);
            var reference = ReferenceStateCosts(grid, goal, costs);
            foreach (var c in free)
            {
                var d = grid.DenseOf(c);
                var bestHeading = int.MaxValue;
                for (var h = 0; h < 4; h++)
                {
                    Assert.Equal(reference[(d * 4) + h], exact.Distance(c, (Heading)h));
                    bestHeading = Math.Min(bestHeading, reference[(d * 4) + h]);
                    var est = cells.Distance(c, (Heading)h);
                    Assert.True(est <= reference[(d * 4) + h], $"seed {seed}: cell {c} heading {h}: per-cell {est} above exact {reference[(d * 4) + h]}");
                }

                Assert.True(cells.CellDistance(c) <= bestHeading, $"seed {seed}: cell {c}: cell distance above the best heading's");
            }
        });
    }

    // Bellman-Ford over (cell, heading) states: forward costs the move's guidance cost, a quarter turn TurnCost.
    private static int[] ReferenceStateCosts(CompactGrid grid, int goal, GuidanceCosts costs)
    {
        var n = grid.Count * 4;
        var dist = Enumerable.Repeat(GoalDistanceTable.Unreachable, n).ToArray();
        var g = grid.DenseOf(goal);
        for (var h = 0; h < 4; h++)
        {
            dist[(g * 4) + h] = 0;
        }

        for (var changed = true; changed;)
        {
            changed = false;
            for (var s = 0; s < n; s++)
            {
                var cell = s >> 2;
                var h = s & 3;
                var best = dist[s];
                best = Math.Min(best, Add(dist[(cell * 4) + ((h + 1) & 3)], costs.TurnCost));
                best = Math.Min(best, Add(dist[(cell * 4) + ((h + 3) & 3)], costs.TurnCost));
                var next = grid.Next(cell, h);
                if (next >= 0)
                {
                    best = Math.Min(best, Add(dist[(next * 4) + h], costs.MoveCost(cell, h)));
                }

                if (best < dist[s])
                {
                    dist[s] = best;
                    changed = true;
                }
            }
        }

        return dist;
    }

    private static int Add(int d, int cost) => d == GoalDistanceTable.Unreachable ? d : d + cost;
}
