namespace WarehouseHybrid.Domain.Grid;

/// <summary>
/// A warehouse floor as a 4-connected grid. A location is the linearised cell id
/// <c>row * Width + column</c> (row 0 is the first grid line), exactly as in LoRR files.
/// Immutable once built; safe to share between threads.
/// </summary>
public sealed class GridMap
{
    private readonly bool[] _passable;
    private readonly CellKind[] _kinds;

    /// <summary>Builds a map from per-cell kinds in row-major order.</summary>
    public GridMap(int width, int height, ReadOnlySpan<CellKind> kinds, string name = "")
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"map size must be positive, got {width}x{height}");
        }

        if (kinds.Length != width * height)
        {
            throw new ArgumentException($"expected {width * height} cells for {width}x{height}, got {kinds.Length}", nameof(kinds));
        }

        Width = width;
        Height = height;
        Name = name;
        _kinds = kinds.ToArray();
        _passable = new bool[_kinds.Length];
        var free = 0;
        for (var i = 0; i < _kinds.Length; i++)
        {
            _passable[i] = _kinds[i] != CellKind.Obstacle;
            if (_passable[i])
            {
                free++;
            }
        }

        PassableCount = free;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>A label for messages, usually the file name.</summary>
    public string Name { get; }

    /// <summary>Number of cells.</summary>
    public int CellCount => _kinds.Length;

    /// <summary>Number of traversable cells.</summary>
    public int PassableCount { get; }

    /// <summary>Row of a cell id.</summary>
    public int Row(int cell) => cell / Width;

    /// <summary>Column of a cell id.</summary>
    public int Column(int cell) => cell % Width;

    /// <summary>The cell id at a row and column (no bounds check).</summary>
    public int CellAt(int row, int column) => (row * Width) + column;

    /// <summary>Whether a row/column pair is on the map.</summary>
    public bool InBounds(int row, int column) => (uint)row < (uint)Height && (uint)column < (uint)Width;

    /// <summary>Whether a cell id is on the map.</summary>
    public bool InBounds(int cell) => (uint)cell < (uint)_kinds.Length;

    /// <summary>Whether a robot may occupy the cell (on the map and not an obstacle).</summary>
    public bool IsPassable(int cell) => (uint)cell < (uint)_passable.Length && _passable[cell];

    /// <summary>What the map file said of the cell.</summary>
    public CellKind KindOf(int cell) => _kinds[cell];

    /// <summary>
    /// The cell one forward step from <paramref name="cell"/> facing <paramref name="heading"/>,
    /// or -1 when that step leaves the map or enters an obstacle.
    /// </summary>
    public int Neighbour(int cell, Heading heading)
    {
        var (dr, dc) = heading.Delta();
        var r = Row(cell) + dr;
        var c = Column(cell) + dc;
        if (!InBounds(r, c))
        {
            return -1;
        }

        var next = CellAt(r, c);
        return _passable[next] ? next : -1;
    }

    /// <summary>Manhattan distance between two cells.</summary>
    public int Manhattan(int a, int b) => Math.Abs(Row(a) - Row(b)) + Math.Abs(Column(a) - Column(b));
}

/// <summary>What a map character means. '@' and 'T' are obstacles; '.', 'E', 'S' are traversable.</summary>
public enum CellKind : byte
{
    /// <summary>'.' free floor.</summary>
    Free = 0,
    /// <summary>'@' or 'T': not traversable.</summary>
    Obstacle = 1,
    /// <summary>'E': emitter / delivery point (traversable).</summary>
    Emitter = 2,
    /// <summary>'S': service / pick-up point (traversable).</summary>
    Service = 3,
}
