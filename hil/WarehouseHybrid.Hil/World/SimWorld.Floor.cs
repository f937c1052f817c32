using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

/// <summary>A snapshot of a person on the floor.</summary>
/// <param name="Id">Name.</param>
/// <param name="X">Centre x, metres.</param>
/// <param name="Y">Centre y, metres.</param>
/// <param name="Cell">Cell of the centre.</param>
/// <param name="Gone">Whether the person has left the floor.</param>
public readonly record struct PersonState(string Id, double X, double Y, int Cell, bool Gone);

// People, dropped items and blocked cells, and the per-cell index of every body the range sensors see.
public sealed partial class SimWorld
{
    private readonly List<SimPerson> _people = [];
    private readonly List<SimItem> _items = [];
    private readonly bool[] _blocked;
    private readonly bool[] _itemCell;
    private bool[] _wall = [];

    // Bodies (robots, then people, then items) as circles, each listed in every cell its bounding box overlaps.
    private readonly int[] _cellHead;
    private double[] _bodyX = [];
    private double[] _bodyY = [];
    private double[] _bodyR = [];
    private int _bodyCount;
    private int[] _entryBody = [];
    private int[] _entryNext = [];
    private int _entryCount;
    private readonly List<int> _touchedCells = [];
    private bool _bodiesDirty = true;

    /// <summary>People on the floor now (snapshots).</summary>
    public IReadOnlyList<PersonState> People
    {
        get
        {
            lock (_gate)
            {
                return [.. _people.Select(p => new PersonState(p.Id, p.X, p.Y, p.Cell, p.Gone))];
            }
        }
    }

    /// <summary>Whether a cell is free floor now: passable on the map, not blocked, no dropped item.</summary>
    public bool IsFree(int cell) => Map.IsPassable(cell) && !_blocked[cell];

    /// <summary>Whether a range beam stops at the cell's face: a map obstacle or a blocked cell (an item is a circle, not a wall).</summary>
    private bool IsWall(int cell) => _wall[cell];

    private void UpdateWall(int cell) => _wall[cell] = !Map.IsPassable(cell) || (_blocked[cell] && !_itemCell[cell]);

    /// <summary>Whether a cell was blocked at run time (including by a dropped item).</summary>
    public bool IsBlocked(int cell)
    {
        lock (_gate)
        {
            return Map.InBounds(cell) && _blocked[cell];
        }
    }

    /// <summary>
    /// Blocks a free cell (a pallet left in an aisle): range sensors see it as a wall from now on, and a robot whose
    /// centre enters it breaks <see cref="InvariantKind.InObstacle"/>. A robot already inside may leave.
    /// </summary>
    public void BlockCell(int cell, bool blocked = true)
    {
        lock (_gate)
        {
            if (!Map.InBounds(cell) || !Map.IsPassable(cell))
            {
                throw new ArgumentOutOfRangeException(nameof(cell), cell, $"cell {cell} is not a passable cell of map '{Map.Name}'");
            }

            _blocked[cell] = blocked;
            UpdateWall(cell);
        }
    }

    /// <summary>Drops an item (a fallen box) at the centre of a cell; it blocks the cell like <see cref="BlockCell"/> and is seen as a circle.</summary>
    public void DropItem(string id, int cell, double radiusMetres = 0.2)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        lock (_gate)
        {
            if (!Map.InBounds(cell) || !Map.IsPassable(cell))
            {
                throw new ArgumentOutOfRangeException(nameof(cell), cell, $"item '{id}': cell {cell} is not a passable cell of map '{Map.Name}'");
            }

            if (!(radiusMetres > 0) || radiusMetres >= _cell / 2)
            {
                throw new ArgumentOutOfRangeException(nameof(radiusMetres), radiusMetres, $"item '{id}': radius must be in (0, {_cell / 2}) m");
            }

            var (x, y) = Geometry.CellCentre(Map, cell);
            _items.Add(new SimItem(id, cell, x, y, radiusMetres));
            _blocked[cell] = true;
            _itemCell[cell] = true;
            UpdateWall(cell);
            _bodiesDirty = true;
        }
    }

    /// <summary>
    /// Puts a person on the floor at the centre of the first cell of <paramref name="path"/>; the person walks at
    /// <paramref name="speedMps"/> from cell centre to cell centre, waits at each for its dwell time, and at the end
    /// stays (or leaves the floor when <paramref name="leaveAtEnd"/>). People ignore robots: they are what the robots'
    /// safety must cope with.
    /// </summary>
    public void AddPerson(string id, IReadOnlyList<(int Cell, TimeSpan Dwell)> path, double speedMps = 1.2, bool leaveAtEnd = false, double radiusMetres = 0.25)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(path);
        if (path.Count == 0)
        {
            throw new ArgumentException($"person '{id}': the path needs at least one cell", nameof(path));
        }

        if (!(speedMps > 0) || double.IsInfinity(speedMps))
        {
            throw new ArgumentOutOfRangeException(nameof(speedMps), speedMps, $"person '{id}': speed must be positive");
        }

        lock (_gate)
        {
            var person = new SimPerson(id, radiusMetres) { SpeedMps = speedMps, LeaveAtEnd = leaveAtEnd };
            foreach (var (cell, dwell) in path)
            {
                if (!Map.InBounds(cell) || !Map.IsPassable(cell))
                {
                    throw new ArgumentOutOfRangeException(nameof(path), cell, $"person '{id}': cell {cell} is not a passable cell of map '{Map.Name}'");
                }

                var (x, y) = Geometry.CellCentre(Map, cell);
                person.Path.Add((x, y, dwell));
            }

            person.X = person.Path[0].X;
            person.Y = person.Path[0].Y;
            person.Cell = path[0].Cell;
            person.WaitUntil = _now + path[0].Dwell;
            person.Next = 1;
            _people.Add(person);
            _bodiesDirty = true;
        }
    }

    private void MovePeople(double dt)
    {
        foreach (var p in _people)
        {
            if (p.Gone || _now < p.WaitUntil)
            {
                continue;
            }

            if (p.Next >= p.Path.Count)
            {
                p.Gone = p.LeaveAtEnd;
                continue;
            }

            var (tx, ty, dwell) = p.Path[p.Next];
            var dx = tx - p.X;
            var dy = ty - p.Y;
            var d = Math.Sqrt((dx * dx) + (dy * dy));
            var step = p.SpeedMps * dt;
            if (step >= d)
            {
                p.X = tx;
                p.Y = ty;
                p.WaitUntil = _now + dwell;
                p.Next++;
            }
            else
            {
                p.X += dx / d * step;
                p.Y += dy / d * step;
            }

            p.Cell = Geometry.CellAt(Map, p.X, p.Y);
        }
    }

    // Called under the lock after every move (and lazily after adds): O(bodies), no allocation once sized.
    private void RebuildBodies()
    {
        foreach (var c in _touchedCells)
        {
            _cellHead[c] = -1;
        }

        _touchedCells.Clear();
        var n = _robots.Count + _people.Count + _items.Count;
        if (_bodyX.Length < n)
        {
            var size = Math.Max(16, n * 2);
            Array.Resize(ref _bodyX, size);
            Array.Resize(ref _bodyY, size);
            Array.Resize(ref _bodyR, size);
            Array.Resize(ref _entryBody, size * 4);
            Array.Resize(ref _entryNext, size * 4);
        }

        _bodyCount = 0;
        _entryCount = 0;
        var radius = Options.BodyRadiusMetres;
        foreach (var r in _robots)
        {
            AddBody(r.X, r.Y, radius);
        }

        foreach (var p in _people)
        {
            AddBody(p.X, p.Y, p.Gone ? 0 : p.Radius);
        }

        foreach (var item in _items)
        {
            AddBody(item.X, item.Y, item.Radius);
        }

        _bodiesDirty = false;
    }

    private void AddBody(double x, double y, double radius)
    {
        var b = _bodyCount++;
        _bodyX[b] = x;
        _bodyY[b] = y;
        _bodyR[b] = radius;
        if (radius <= 0)
        {
            return;
        }

        var c0 = Math.Max(0, (int)Math.Floor((x - radius) / _cell));
        var c1 = Math.Min(Map.Width - 1, (int)Math.Floor((x + radius) / _cell));
        var r0 = Math.Max(0, (int)Math.Floor((y - radius) / _cell));
        var r1 = Math.Min(Map.Height - 1, (int)Math.Floor((y + radius) / _cell));
        for (var row = r0; row <= r1; row++)
        {
            for (var col = c0; col <= c1; col++)
            {
                var cell = Map.CellAt(row, col);
                if (_cellHead[cell] < 0)
                {
                    _touchedCells.Add(cell);
                }

                var e = _entryCount++;
                _entryBody[e] = b;
                _entryNext[e] = _cellHead[cell];
                _cellHead[cell] = e;
            }
        }
    }

    private string BodyName(int body)
    {
        if (body < _robots.Count)
        {
            return _robots[body].Id;
        }

        body -= _robots.Count;
        return body < _people.Count ? _people[body].Id : _items[body - _people.Count].Id;
    }
}
