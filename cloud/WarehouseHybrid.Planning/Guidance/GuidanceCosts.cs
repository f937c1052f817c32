using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;

namespace WarehouseHybrid.Planning.Guidance;

/// <summary>
/// A guidance graph: the cost of each forward move (from a passable cell in one of the four
/// directions) that the distance tables charge, so that robots prefer some directions over
/// others (one-way "highways"). A move costs <see cref="WithCost"/> along its lane and
/// <see cref="AgainstCost"/> against it; a quarter turn costs <see cref="TurnCost"/>. With every
/// move at cost 1 and turns at 1 the tables are plain step counts. Immutable; safe to share.
/// </summary>
public sealed class GuidanceCosts
{
    private readonly byte[] _cost; // dense * 4 + direction -> cost of the forward move, 0 when there is none

    private GuidanceCosts(CompactGrid grid, byte[] cost, int turnCost, string description)
    {
        Grid = grid;
        _cost = cost;
        TurnCost = turnCost;
        Description = description;
        var max = 1;
        var min = int.MaxValue;
        foreach (var c in cost)
        {
            if (c > 0)
            {
                max = Math.Max(max, c);
                min = Math.Min(min, c);
            }
        }

        MaxMoveCost = max;
        MinMoveCost = min == int.MaxValue ? 1 : min;
    }

    /// <summary>The grid the costs are for.</summary>
    public CompactGrid Grid { get; }

    /// <summary>Cost of one quarter turn.</summary>
    public int TurnCost { get; }

    /// <summary>Largest forward-move cost.</summary>
    public int MaxMoveCost { get; }

    /// <summary>Smallest forward-move cost.</summary>
    public int MinMoveCost { get; }

    /// <summary>Cost of a move along a lane (1 for highways).</summary>
    public int WithCost { get; private init; } = 1;

    /// <summary>Cost of a move against a lane.</summary>
    public int AgainstCost { get; private init; } = 1;

    /// <summary>What the costs are, for logs.</summary>
    public string Description { get; }

    /// <summary>True when every move costs one step (no guidance).</summary>
    public bool IsUniform => MaxMoveCost == 1 && MinMoveCost == 1 && TurnCost == 1;

    /// <summary>The cost of moving forward from dense cell <paramref name="dense"/> in <paramref name="direction"/> (0 when blocked).</summary>
    public int MoveCost(int dense, int direction) => _cost[(dense * 4) + direction];

    /// <summary>Every move and turn at cost 1: plain step counts.</summary>
    public static GuidanceCosts Uniform(CompactGrid grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var cost = new byte[grid.Count * 4];
        for (var d = 0; d < grid.Count; d++)
        {
            for (var k = 0; k < 4; k++)
            {
                cost[(d * 4) + k] = (byte)(grid.Next(d, k) >= 0 ? 1 : 0);
            }
        }

        return new GuidanceCosts(grid, cost, 1, "uniform");
    }

    /// <summary>
    /// One-way lanes on every row and column: a move along its row's or column's lane costs 1,
    /// against it <paramref name="againstCost"/>. Lanes alternate between neighbouring "lane
    /// rows" (and columns), see <see cref="HighwayLanes"/>, so that two adjacent parallel lanes run
    /// in opposite directions, like a street grid.
    /// </summary>
    public static GuidanceCosts Highways(CompactGrid grid, int againstCost, HighwayLayout layout = HighwayLayout.Corridors)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentOutOfRangeException.ThrowIfLessThan(againstCost, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(againstCost, 64);
        var map = grid.Map;
        var lanes = HighwayLanes.Compute(map, layout);
        var cost = new byte[grid.Count * 4];
        for (var d = 0; d < grid.Count; d++)
        {
            var cell = grid.CellOf(d);
            var row = map.Row(cell);
            var col = map.Column(cell);
            for (var k = 0; k < 4; k++)
            {
                if (grid.Next(d, k) < 0)
                {
                    continue;
                }

                var lane = k is (int)Heading.East or (int)Heading.West ? lanes.RowDirection[row] : lanes.ColumnDirection[col];
                cost[(d * 4) + k] = (byte)(lane < 0 || lane == k ? 1 : againstCost);
            }
        }

        return new GuidanceCosts(grid, cost, 1, $"highways ({layout}, against {againstCost})") { WithCost = 1, AgainstCost = againstCost };
    }
}

/// <summary>How <see cref="GuidanceCosts.Highways"/> picks each lane's direction.</summary>
public enum HighwayLayout
{
    /// <summary>By coordinate parity: even rows east, odd rows west; even columns south, odd columns north.</summary>
    Parity = 0,

    /// <summary>
    /// Lanes alternate over the rows (columns) that are corridors (at least half as many
    /// moves along them as the busiest row), so that evenly spaced aisles alternate too; other
    /// rows (columns) keep the parity rule.
    /// </summary>
    Corridors = 1,
}

/// <summary>The lane direction of every row and column (a <see cref="Heading"/> value, or -1 for none).</summary>
public sealed class HighwayLanes
{
    private HighwayLanes(int[] rows, int[] columns)
    {
        RowDirection = rows;
        ColumnDirection = columns;
    }

    /// <summary>Per row: <see cref="Heading.East"/> or <see cref="Heading.West"/> (as int), or -1.</summary>
    public IReadOnlyList<int> RowDirection { get; }

    /// <summary>Per column: <see cref="Heading.South"/> or <see cref="Heading.North"/> (as int), or -1.</summary>
    public IReadOnlyList<int> ColumnDirection { get; }

    /// <summary>Derives the lanes of <paramref name="map"/>.</summary>
    public static HighwayLanes Compute(GridMap map, HighwayLayout layout)
    {
        ArgumentNullException.ThrowIfNull(map);
        var rowEdges = new int[map.Height];
        var colEdges = new int[map.Width];
        for (var r = 0; r < map.Height; r++)
        {
            for (var c = 0; c < map.Width; c++)
            {
                var cell = map.CellAt(r, c);
                if (!map.IsPassable(cell))
                {
                    continue;
                }

                if (c + 1 < map.Width && map.IsPassable(cell + 1))
                {
                    rowEdges[r]++;
                }

                if (r + 1 < map.Height && map.IsPassable(cell + map.Width))
                {
                    colEdges[c]++;
                }
            }
        }

        var rows = Alternate(rowEdges, layout, (int)Heading.East, (int)Heading.West);
        var cols = Alternate(colEdges, layout, (int)Heading.South, (int)Heading.North);
        return new HighwayLanes(rows, cols);
    }

    private static int[] Alternate(int[] edges, HighwayLayout layout, int even, int odd)
    {
        var dirs = new int[edges.Length];
        var max = edges.Length == 0 ? 0 : edges.Max();
        var corridorIndex = 0;
        for (var i = 0; i < edges.Length; i++)
        {
            if (edges[i] == 0)
            {
                dirs[i] = -1;
                continue;
            }

            var corridor = layout == HighwayLayout.Corridors && 2 * edges[i] >= max;
            var index = corridor ? corridorIndex++ : i;
            dirs[i] = (index & 1) == 0 ? even : odd;
        }

        return dirs;
    }
}
