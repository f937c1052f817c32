using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Distances;

/// <summary>
/// The free fallback used while a goal's table is still being computed: Manhattan distance plus
/// the turns that any route must make, namely the turns to face a direction that reduces the
/// distance, plus one when the goal differs in both row and column (the robot must face both
/// axes at some point). Admissible (never above the exact (cell, heading) cost-to-go, since
/// obstacles only lengthen routes); holds no memory.
/// </summary>
public sealed class ManhattanEstimate : GoalDistanceTable
{
    private readonly GridMap _map;
    private readonly int _goalRow;
    private readonly int _goalColumn;

    /// <summary>Creates the estimate toward <paramref name="goalCell"/> on <paramref name="map"/>.</summary>
    public ManhattanEstimate(GridMap map, int goalCell)
        : base(goalCell)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!map.InBounds(goalCell))
        {
            throw new ArgumentOutOfRangeException(nameof(goalCell), goalCell, $"goal cell is off the map '{map.Name}' ({map.Width}x{map.Height})");
        }

        _map = map;
        _goalRow = map.Row(goalCell);
        _goalColumn = map.Column(goalCell);
    }

    /// <inheritdoc />
    public override long SizeBytes => 0;

    /// <inheritdoc />
    public override bool IsExact => false;

    /// <inheritdoc />
    public override int Distance(int cell, Heading heading)
    {
        if (!_map.InBounds(cell) || (uint)heading > 3)
        {
            return Unreachable;
        }

        var dr = _goalRow - _map.Row(cell);
        var dc = _goalColumn - _map.Column(cell);
        if (dr == 0 && dc == 0)
        {
            return 0;
        }

        var turns = 2;
        if (dc > 0)
        {
            turns = Math.Min(turns, HeadingMath.TurnsBetween(heading, Heading.East));
        }
        else if (dc < 0)
        {
            turns = Math.Min(turns, HeadingMath.TurnsBetween(heading, Heading.West));
        }

        if (dr > 0)
        {
            turns = Math.Min(turns, HeadingMath.TurnsBetween(heading, Heading.South));
        }
        else if (dr < 0)
        {
            turns = Math.Min(turns, HeadingMath.TurnsBetween(heading, Heading.North));
        }

        var bothAxes = dr != 0 && dc != 0 ? 1 : 0;
        return Math.Abs(dr) + Math.Abs(dc) + turns + bothAxes;
    }

    /// <inheritdoc />
    public override int MinOverHeadings(int cell)
    {
        if (!_map.InBounds(cell))
        {
            return Unreachable;
        }

        var dr = _goalRow - _map.Row(cell);
        var dc = _goalColumn - _map.Column(cell);
        return Math.Abs(dr) + Math.Abs(dc) + (dr != 0 && dc != 0 ? 1 : 0);
    }
}
