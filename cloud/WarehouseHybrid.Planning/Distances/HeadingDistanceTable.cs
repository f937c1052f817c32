using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Guidance;

namespace WarehouseHybrid.Planning.Distances;

/// <summary>
/// Exact cost-to-go from every (cell, heading) state to one goal cell under the LoRR action model:
/// a forward step costs 1 and each quarter turn costs 1; the goal is reached in any heading.
/// Built by one backward breadth-first search; one <see cref="ushort"/> per state (8 bytes per
/// passable cell). Immutable once built; safe to share between threads and robots.
/// </summary>
public sealed class HeadingDistanceTable : GoalDistanceTable
{
    [ThreadStatic]
    private static int[]? t_queue;

    private readonly ushort[] _dist;
    private readonly CompactGrid _grid;

    private HeadingDistanceTable(CompactGrid grid, int goalCell, ushort[] dist)
        : base(goalCell)
    {
        _grid = grid;
        _dist = dist;
    }

    /// <summary>Bytes held by the table.</summary>
    public override long SizeBytes => (long)_dist.Length * sizeof(ushort);

    /// <inheritdoc />
    public override bool IsExact => true;

    /// <summary>Bytes one table for <paramref name="grid"/> holds (all tables of a grid are the same size).</summary>
    public static long SizeFor(CompactGrid grid) => (long)grid.Count * 4 * sizeof(ushort);

    /// <inheritdoc />
    public override int Distance(int cell, Heading heading)
    {
        var d = _grid.DenseOf(cell);
        return d < 0 || (uint)heading > 3 ? Unreachable : _dist[(d * 4) + (int)heading];
    }

    /// <summary>Steps from a dense state (dense id * 4 + heading).</summary>
    internal int DistanceOfState(int state) => _dist[state];

    /// <inheritdoc />
    public override int MinOverHeadings(int cell)
    {
        var d = _grid.DenseOf(cell);
        if (d < 0)
        {
            return Unreachable;
        }

        var b = d * 4;
        return Math.Min(Math.Min(_dist[b], _dist[b + 1]), Math.Min(_dist[b + 2], _dist[b + 3]));
    }

    /// <summary>
    /// Runs the backward search from <paramref name="goalCell"/>: breadth-first with unit costs, or
    /// a bucket-queue Dijkstra over guidance <paramref name="costs"/>. An impassable goal yields an
    /// all-unreachable table.
    /// </summary>
    public static HeadingDistanceTable Compute(CompactGrid grid, int goalCell, GuidanceCosts? costs = null)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (costs is not null && !costs.IsUniform)
        {
            if (!ReferenceEquals(costs.Grid, grid))
            {
                throw new ArgumentException("the guidance costs are for another grid", nameof(costs));
            }

            return ComputeWeighted(grid, goalCell, costs);
        }

        var states = grid.Count * 4;
        var dist = new ushort[states];
        Array.Fill(dist, (ushort)Unreachable);
        var goal = grid.DenseOf(goalCell);
        if (goal < 0)
        {
            return new HeadingDistanceTable(grid, goalCell, dist);
        }

        var queue = t_queue;
        if (queue is null || queue.Length < states)
        {
            queue = new int[states];
            t_queue = queue;
        }

        int head = 0, tail = 0;
        for (var h = 0; h < 4; h++)
        {
            dist[(goal * 4) + h] = 0;
            queue[tail++] = (goal * 4) + h;
        }

        while (head < tail)
        {
            var s = queue[head++];
            var nd = dist[s] + 1;
            if (nd >= Unreachable)
            {
                nd = Unreachable - 1; // saturate on absurdly large maps rather than wrap
            }

            var cell = s >> 2;
            var h = s & 3;

            // Predecessors of (cell, h): the two headings that turn into h, and the cell behind
            // (forward from it in heading h lands here).
            var p = (cell * 4) + ((h + 3) & 3);
            if (dist[p] == Unreachable)
            {
                dist[p] = (ushort)nd;
                queue[tail++] = p;
            }

            p = (cell * 4) + ((h + 1) & 3);
            if (dist[p] == Unreachable)
            {
                dist[p] = (ushort)nd;
                queue[tail++] = p;
            }

            var behind = grid.Next(cell, (h + 2) & 3);
            if (behind >= 0)
            {
                p = (behind * 4) + h;
                if (dist[p] == Unreachable)
                {
                    dist[p] = (ushort)nd;
                    queue[tail++] = p;
                }
            }
        }

        return new HeadingDistanceTable(grid, goalCell, dist);
    }

    private static HeadingDistanceTable ComputeWeighted(CompactGrid grid, int goalCell, GuidanceCosts costs)
    {
        var dist = new ushort[grid.Count * 4];
        Array.Fill(dist, (ushort)Unreachable);
        var goal = grid.DenseOf(goalCell);
        if (goal < 0)
        {
            return new HeadingDistanceTable(grid, goalCell, dist);
        }

        var queue = BucketQueue.ForThread(Math.Max(costs.MaxMoveCost, costs.TurnCost));
        for (var h = 0; h < 4; h++)
        {
            dist[(goal * 4) + h] = 0;
            queue.Push((goal * 4) + h, 0);
        }

        while (queue.TryPop(out var s, out var level))
        {
            if (dist[s] != level)
            {
                continue;
            }

            var cell = s >> 2;
            var h = s & 3;
            Relax(dist, queue, (cell * 4) + ((h + 3) & 3), level + costs.TurnCost);
            Relax(dist, queue, (cell * 4) + ((h + 1) & 3), level + costs.TurnCost);
            var behind = grid.Next(cell, (h + 2) & 3);
            if (behind >= 0)
            {
                Relax(dist, queue, (behind * 4) + h, level + costs.MoveCost(behind, h));
            }
        }

        return new HeadingDistanceTable(grid, goalCell, dist);
    }

    private static void Relax(ushort[] dist, BucketQueue queue, int state, int d)
    {
        if (d < dist[state] && d < Unreachable)
        {
            dist[state] = (ushort)d;
            queue.Push(state, d);
        }
    }
}
