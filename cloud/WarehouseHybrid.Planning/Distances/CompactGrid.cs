using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Distances;

/// <summary>
/// The passable cells of a <see cref="GridMap"/> renumbered densely (0..Count-1) with their forward
/// neighbours precomputed, so distance tables store nothing for obstacles and searches never test
/// bounds. Immutable; safe to share between threads.
/// </summary>
public sealed class CompactGrid
{
    private readonly int[] _denseOf;   // cell -> dense id, or -1 for obstacles
    private readonly int[] _cellOf;    // dense id -> cell
    private readonly int[] _next;      // dense * 4 + heading -> dense id one step forward, or -1

    /// <summary>Indexes the passable cells of <paramref name="map"/>.</summary>
    public CompactGrid(GridMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        Map = map;
        _denseOf = new int[map.CellCount];
        _cellOf = new int[map.PassableCount];
        var n = 0;
        for (var cell = 0; cell < map.CellCount; cell++)
        {
            if (map.IsPassable(cell))
            {
                _denseOf[cell] = n;
                _cellOf[n++] = cell;
            }
            else
            {
                _denseOf[cell] = -1;
            }
        }

        _next = new int[n * 4];
        for (var d = 0; d < n; d++)
        {
            for (var h = 0; h < 4; h++)
            {
                var nb = map.Neighbour(_cellOf[d], (Heading)h);
                _next[(d * 4) + h] = nb < 0 ? -1 : _denseOf[nb];
            }
        }
    }

    /// <summary>The map indexed.</summary>
    public GridMap Map { get; }

    /// <summary>Number of passable cells.</summary>
    public int Count => _cellOf.Length;

    /// <summary>The dense id of a cell, or -1 when it is off the map or an obstacle.</summary>
    public int DenseOf(int cell) => (uint)cell < (uint)_denseOf.Length ? _denseOf[cell] : -1;

    /// <summary>The cell of a dense id.</summary>
    public int CellOf(int dense) => _cellOf[dense];

    /// <summary>The dense id one forward step from <paramref name="dense"/> facing <paramref name="heading"/>, or -1.</summary>
    public int Next(int dense, int heading) => _next[(dense * 4) + heading];
}
