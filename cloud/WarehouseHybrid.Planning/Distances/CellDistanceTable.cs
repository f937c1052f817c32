using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Guidance;

namespace WarehouseHybrid.Planning.Distances;

/// <summary>
/// Exact shortest number of forward steps from every passable cell to one goal cell (one
/// breadth-first search over cells, one <see cref="ushort"/> per passable cell: a quarter of a
/// <see cref="HeadingDistanceTable"/>), read with a one-step heading correction:
/// <c>Distance(c, h) = min over neighbours n of c in direction k of turns(h, k) + 1 + cells(n)</c>,
/// and 0 on the goal. The correction charges the turns to face the first move exactly but not the
/// turns later on the path, so the value is admissible (never above the exact (cell, heading)
/// cost-to-go), never below the cell distance, and exact whenever some shortest continuation
/// from the first move needs no further turn (straight aisles, the last leg to a goal).
/// </summary>
public sealed class CellDistanceTable : GoalDistanceTable
{
    [ThreadStatic]
    private static int[]? t_queue;

    private readonly ushort[] _dist;
    private readonly CompactGrid _grid;
    private readonly GuidanceCosts? _costs;

    private CellDistanceTable(CompactGrid grid, int goalCell, ushort[] dist, GuidanceCosts? costs)
        : base(goalCell)
    {
        _grid = grid;
        _dist = dist;
        _costs = costs;
    }

    /// <summary>The table's array, for a store that recycles the arrays of evicted tables.</summary>
    internal ushort[] Values => _dist;

    // Tables live long and are many: the pinned heap keeps the collector from copying them between generations.
    private static ushort[] NewArray(int n) => GC.AllocateUninitializedArray<ushort>(n, pinned: true);

    /// <summary>The move costs the table was computed with (null: every move costs 1).</summary>
    public GuidanceCosts? Costs => _costs;

    /// <inheritdoc />
    public override long SizeBytes => (long)_dist.Length * sizeof(ushort);

    /// <inheritdoc />
    public override bool IsExact => false;

    /// <summary>Bytes one table for <paramref name="grid"/> holds.</summary>
    public static long SizeFor(CompactGrid grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        return (long)grid.Count * sizeof(ushort);
    }

    /// <summary>Forward steps from <paramref name="cell"/> to the goal ignoring headings, or <see cref="GoalDistanceTable.Unreachable"/>.</summary>
    public int CellDistance(int cell)
    {
        var d = _grid.DenseOf(cell);
        return d < 0 ? Unreachable : _dist[d];
    }

    /// <inheritdoc />
    public override int Distance(int cell, Heading heading)
    {
        var d = _grid.DenseOf(cell);
        if (d < 0 || (uint)heading > 3)
        {
            return Unreachable;
        }

        var here = _dist[d];
        if (here == 0 || here == Unreachable)
        {
            return here;
        }

        var best = Unreachable;
        var h = (int)heading;
        var costs = _costs;
        var turnCost = costs?.TurnCost ?? 1;
        for (var k = 0; k < 4; k++)
        {
            var n = _grid.Next(d, k);
            if (n < 0)
            {
                continue;
            }

            var rest = _dist[n];
            if (rest == Unreachable)
            {
                continue;
            }

            var turns = (k - h) & 3;
            var cost = ((turns == 3 ? 1 : turns) * turnCost) + (costs?.MoveCost(d, k) ?? 1) + rest;
            if (cost < best)
            {
                best = cost;
            }
        }

        return Math.Min(best, Unreachable - 1);
    }

    /// <inheritdoc />
    public override int MinOverHeadings(int cell) => CellDistance(cell);

    /// <summary>
    /// Runs the search from <paramref name="goalCell"/>: breadth-first with unit moves, or a
    /// bucket-queue Dijkstra over <paramref name="costs"/> (guidance). An impassable goal yields an
    /// all-unreachable table.
    /// </summary>
    public static CellDistanceTable Compute(CompactGrid grid, int goalCell, GuidanceCosts? costs = null) => Compute(grid, goalCell, costs, null);

    /// <summary>As <see cref="Compute(CompactGrid, int, GuidanceCosts?)"/>, filling <paramref name="buffer"/> (of <see cref="CompactGrid.Count"/> entries, no longer used by any table) when given.</summary>
    internal static CellDistanceTable Compute(CompactGrid grid, int goalCell, GuidanceCosts? costs, ushort[]? buffer)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (buffer is not null && buffer.Length != grid.Count)
        {
            throw new ArgumentException("the buffer does not match the grid", nameof(buffer));
        }

        if (costs is not null && !costs.IsUniform)
        {
            if (!ReferenceEquals(costs.Grid, grid))
            {
                throw new ArgumentException("the guidance costs are for another grid", nameof(costs));
            }

            return ComputeWeighted(grid, goalCell, costs, buffer);
        }

        var n = grid.Count;
        var dist = buffer ?? NewArray(n);
        Array.Fill(dist, (ushort)Unreachable);
        var goal = grid.DenseOf(goalCell);
        if (goal < 0)
        {
            return new CellDistanceTable(grid, goalCell, dist, null);
        }

        var queue = t_queue;
        if (queue is null || queue.Length < n)
        {
            queue = new int[n];
            t_queue = queue;
        }

        int head = 0, tail = 0;
        dist[goal] = 0;
        queue[tail++] = goal;
        while (head < tail)
        {
            var c = queue[head++];
            var nd = Math.Min(dist[c] + 1, Unreachable - 1);

            // The grid is 4-connected and symmetric: a neighbour of c can step into c.
            for (var k = 0; k < 4; k++)
            {
                var p = grid.Next(c, k);
                if (p >= 0 && dist[p] == Unreachable)
                {
                    dist[p] = (ushort)nd;
                    queue[tail++] = p;
                }
            }
        }

        return new CellDistanceTable(grid, goalCell, dist, null);
    }

    // Dijkstra over small integer costs (Dial's bucket queue).
    private static CellDistanceTable ComputeWeighted(CompactGrid grid, int goalCell, GuidanceCosts costs, ushort[]? buffer)
    {
        var dist = buffer ?? NewArray(grid.Count);
        Array.Fill(dist, (ushort)Unreachable);
        var goal = grid.DenseOf(goalCell);
        if (goal < 0)
        {
            return new CellDistanceTable(grid, goalCell, dist, costs);
        }

        var queue = BucketQueue.ForThread(costs.MaxMoveCost);
        dist[goal] = 0;
        queue.Push(goal, 0);
        while (queue.TryPop(out var c, out var level))
        {
            if (dist[c] != level)
            {
                continue; // stale: improved after it was queued
            }

            // Predecessors p of c: p steps into c moving in direction k, i.e. p = Next(c, opposite of k).
            for (var k = 0; k < 4; k++)
            {
                var p = grid.Next(c, (k + 2) & 3);
                if (p < 0)
                {
                    continue;
                }

                var nd = level + costs.MoveCost(p, k);
                if (nd < dist[p] && nd < Unreachable)
                {
                    dist[p] = (ushort)nd;
                    queue.Push(p, nd);
                }
            }
        }

        return new CellDistanceTable(grid, goalCell, dist, costs);
    }
}
