using CsCheck;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.OneShot;
using static WarehouseHybrid.Planning.Tests.OneShot.OneShotTestMaps;

namespace WarehouseHybrid.Planning.Tests.OneShot;

public sealed class AgentDistancesTests
{
    [Fact]
    public void Lazy_tables_asked_in_any_order_equal_a_reference_search_with_and_without_lanes()
    {
        var gen =
            from seed in Gen.Int
            from w in Gen.Int[2, 12]
            from h in Gen.Int[1, 9]
            from lane in Gen.Int[1, 3]
            select (seed, w, h, lane);
        gen.Sample(
            x =>
            {
                var rng = new Random(x.seed);
                var rows = Enumerable.Range(0, x.h).Select(_ => new string(Enumerable.Range(0, x.w).Select(_ => rng.Next(100) < 25 ? '@' : '.').ToArray())).ToArray();
                var map = Map(rows);
                var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
                if (free.Length < 2)
                {
                    return true;
                }

                var starts = free.OrderBy(_ => rng.Next()).Take(3).ToArray();
                var goals = free.OrderBy(_ => rng.Next()).Take(starts.Length).ToArray();
                var p = new MapfProblem(map, starts, goals);
                var d = AgentDistances.Compute(p, 2, () => false, x.lane)!;
                for (var i = 0; i < starts.Length; i++)
                {
                    var reference = Reference(map, goals[i], x.lane);
                    var exact = Reference(map, goals[i], 1);
                    if (d.TrueDistance(i) != exact[starts[i]])
                    {
                        return false;
                    }

                    foreach (var c in free.OrderBy(_ => rng.Next()))
                    {
                        if (d.Get(i, c) != reference[c])
                        {
                            return false;
                        }
                    }
                }

                return true;
            },
            iter: 400);
    }

    // Bellman-Ford over the documented rule: odd rows run east, even columns run south; a move
    // against the lane of the cell it leaves costs laneCost, unless that cell has no neighbour
    // across the move (a one-wide corridor).
    private static int[] Reference(GridMap map, int goal, int laneCost)
    {
        var dist = Enumerable.Repeat(AgentDistances.Unreachable, map.CellCount).ToArray();
        dist[goal] = 0;
        for (var changed = true; changed;)
        {
            changed = false;
            for (var c = 0; c < map.CellCount; c++)
            {
                if (!map.IsPassable(c))
                {
                    continue;
                }

                for (var h = 0; h < 4; h++)
                {
                    var n = map.Neighbour(c, (Heading)h);
                    if (n < 0 || dist[n] == AgentDistances.Unreachable)
                    {
                        continue;
                    }

                    var withLane = (Heading)h switch
                    {
                        Heading.East => (map.Row(c) & 1) == 1,
                        Heading.West => (map.Row(c) & 1) == 0,
                        Heading.South => (map.Column(c) & 1) == 0,
                        _ => (map.Column(c) & 1) == 1,
                    };
                    var horizontal = (Heading)h is Heading.East or Heading.West;
                    var across = horizontal
                        ? map.Neighbour(c, Heading.North) >= 0 || map.Neighbour(c, Heading.South) >= 0
                        : map.Neighbour(c, Heading.East) >= 0 || map.Neighbour(c, Heading.West) >= 0;
                    var cost = dist[n] + (withLane || !across ? 1 : laneCost);
                    if (cost < dist[c])
                    {
                        dist[c] = cost;
                        changed = true;
                    }
                }
            }
        }

        return dist;
    }
}
