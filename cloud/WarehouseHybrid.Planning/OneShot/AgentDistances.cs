using WarehouseHybrid.Planning.Distances;

namespace WarehouseHybrid.Planning.OneShot;

/// <summary>
/// Per-agent cost-to-goal tables, one <see cref="ushort"/> per passable cell (10,000 agents on
/// 38,756 cells is 775 MB). With <see cref="LaneCost"/> 1 they are exact 4-connected shortest
/// distances. Above 1 they are guidance: rows and columns alternate a preferred direction (so every
/// two-wide aisle gets two opposite lanes, and open floor becomes a grid of one-way streets), a move
/// against its row's or column's direction costs <see cref="LaneCost"/> instead of 1 where a parallel
/// lane exists (the cell it leaves has a neighbour across the move; one-wide corridors stay two-way), and PIBT,
/// following these costs, keeps opposite flows apart. Guidance tables are not admissible;
/// <see cref="TrueDistance"/> stays exact.
/// Tables are lazy: each is a reverse resumable A* from the goal toward the agent's start, run on
/// all cores only until the start is settled (about the start-goal rectangle instead of the map),
/// and resumed when a cell not yet settled is asked for. Thread-safe.
/// </summary>
public sealed class AgentDistances
{
    /// <summary>The value of a cell from which the goal cannot be reached.</summary>
    public const int Unreachable = ushort.MaxValue;

    private const ushort Unsettled = ushort.MaxValue - 1;
    private const int Largest = ushort.MaxValue - 2;

    private readonly CompactGrid _grid;
    private readonly DenseGraph _graph;
    private readonly ushort[][] _tables;
    private readonly LazySearch?[] _searches;
    private readonly int[] _trueFromStart;

    private AgentDistances(CompactGrid grid, DenseGraph graph, ushort[][] tables, LazySearch?[] searches, int[] trueFromStart, int laneCost)
    {
        _grid = grid;
        _graph = graph;
        _tables = tables;
        _searches = searches;
        _trueFromStart = trueFromStart;
        LaneCost = laneCost;
    }

    /// <summary>Cost of a move against its lane (1: no lanes, exact distances).</summary>
    public int LaneCost { get; }

    /// <summary>Bytes held by the tables.</summary>
    public long SizeBytes => (long)_tables.Length * _grid.Count * sizeof(ushort);

    /// <summary>Cost from <paramref name="cell"/> (passable) to agent <paramref name="agent"/>'s goal, or <see cref="Unreachable"/>.</summary>
    public int Get(int agent, int cell)
    {
        var d = _grid.DenseOf(cell);
        var v = _tables[agent][d];
        return v != Unsettled ? v : Resume(agent, d);
    }

    /// <summary>Share of all tables' cells settled so far.</summary>
    public double SettledFraction => _tables.Length == 0 ? 1 : (double)SettledCells / ((long)_tables.Length * _grid.Count);

    /// <summary>Cells settled so far over all tables (the lazy searches' work).</summary>
    public long SettledCells
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _searches.Length; i++)
            {
                var s = _searches[i];
                total += s is null ? _grid.Count : Volatile.Read(ref s.Settled);
            }

            return total;
        }
    }

    private int Resume(int agent, int dense)
    {
        var search = _searches[agent];
        if (search is null)
        {
            return Unreachable; // finished: whatever is left unsettled cannot reach the goal
        }

        lock (search)
        {
            var table = _tables[agent];
            search.RunUntilSettled(_graph, table, dense);
            if (search.Done)
            {
                _searches[agent] = null;
            }

            var v = table[dense];
            return v == Unsettled ? Unreachable : v;
        }
    }

    /// <summary>Exact shortest number of moves from the agent's start to its goal, or <see cref="Unreachable"/>.</summary>
    public int TrueDistance(int agent) => _trueFromStart[agent];

    /// <summary>Whether the table's value is an exact distance (no lanes), usable as an admissible heuristic.</summary>
    public bool IsExact => LaneCost == 1;

    /// <summary>
    /// Computes the tables on up to <paramref name="threads"/> threads. Returns null when
    /// <paramref name="shouldStop"/> (polled between tables) asks to stop first.
    /// </summary>
    public static AgentDistances? Compute(MapfProblem problem, int threads, Func<bool> shouldStop, int laneCost = 1)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(shouldStop);
        ArgumentOutOfRangeException.ThrowIfLessThan(laneCost, 1);
        var grid = new CompactGrid(problem.Map);
        var n = problem.AgentCount;
        var tables = new ushort[n][];
        var searches = new LazySearch?[n];
        var trueFromStart = new int[n];
        var graph = new DenseGraph(problem, grid, laneCost);
        var stopped = 0;
        Parallel.For(
            0,
            n,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
            () => new ExactSearch(grid.Count),
            (i, state, exact) =>
            {
                if (Volatile.Read(ref stopped) != 0 || ((i & 63) == 0 && shouldStop()))
                {
                    Volatile.Write(ref stopped, 1);
                    state.Stop();
                    return exact;
                }

                var goal = grid.DenseOf(problem.GoalArray[i]);
                var start = grid.DenseOf(problem.StartArray[i]);

                // The tables live on the pinned object heap: kept for the whole solve, they would
                // otherwise be copied from generation to generation by the collector.
                var table = GC.AllocateUninitializedArray<ushort>(grid.Count, pinned: true);
                table.AsSpan().Fill(Unsettled);
                var search = new LazySearch(graph, laneCost, goal, start);
                search.RunUntilSettled(graph, table, start);
                tables[i] = table;
                searches[i] = search.Done ? null : search;
                var fromStart = table[start] == Unsettled ? Unreachable : table[start];
                trueFromStart[i] = laneCost == 1 || fromStart == Unreachable ? fromStart : exact.Distance(graph, start, goal);
                return exact;
            },
            _ => { });
        return stopped != 0 ? null : new AgentDistances(grid, graph, tables, searches, trueFromStart, laneCost);
    }

    /// <summary>The passable cells as dense ids with neighbours, move costs and coordinates, for tight loops.</summary>
    private sealed class DenseGraph
    {
        public DenseGraph(MapfProblem problem, CompactGrid grid, int laneCost)
        {
            var map = problem.Map;
            Count = grid.Count;
            Next = new int[Count * 4];
            InCost = new byte[Count * 4];
            Row = new int[Count];
            Column = new int[Count];
            for (var d = 0; d < Count; d++)
            {
                var cell = grid.CellOf(d);
                Row[d] = map.Row(cell);
                Column[d] = map.Column(cell);
                for (var k = 0; k < 4; k++)
                {
                    Next[(d * 4) + k] = grid.Next(d, k);
                }
            }

            // InCost[c * 4 + k]: cost of the move into c from its neighbour in heading k, i.e. a
            // move in the opposite heading, judged by the lanes of the cell it starts from.
            for (var c = 0; c < Count; c++)
            {
                for (var k = 0; k < 4; k++)
                {
                    var p = Next[(c * 4) + k];
                    if (p < 0)
                    {
                        continue;
                    }

                    var heading = (k + 2) & 3; // 0 east, 1 south, 2 west, 3 north
                    var eastbound = (Row[p] & 1) == 1;
                    var southbound = (Column[p] & 1) == 0;
                    var withLane = heading switch
                    {
                        0 => eastbound,
                        2 => !eastbound,
                        1 => southbound,
                        _ => !southbound,
                    };

                    // A lane only means something where a parallel one exists: in a one-wide
                    // corridor both directions must share the cell, and a penalty there only makes
                    // agents shy of the corridor (and PIBT livelock at its ends).
                    var horizontal = (heading & 1) == 0;
                    var parallel = horizontal
                        ? Next[(p * 4) + 1] >= 0 || Next[(p * 4) + 3] >= 0
                        : Next[(p * 4) + 0] >= 0 || Next[(p * 4) + 2] >= 0;
                    withLane |= !parallel;
                    InCost[(c * 4) + k] = (byte)(withLane ? 1 : laneCost);
                }
            }
        }

        public int Count { get; }

        public int[] Next { get; }

        public byte[] InCost { get; }

        public int[] Row { get; }

        public int[] Column { get; }
    }

    /// <summary>
    /// One table's resumable search from the goal toward the agent's start (reverse resumable A*,
    /// Silver 2005): f = cost from the goal + Manhattan distance to the start, which is consistent
    /// for move costs of at least 1, so a cell's cost is exact once it is taken from the open list.
    /// The open list is a ring of buckets by f (an edge raises f by at most laneCost + 1); the
    /// current bucket is a stack, so ties go deeper first. A cell is settled (written to the table)
    /// when first taken; later copies are skipped, so no tentative values are kept.
    /// </summary>
    private sealed class LazySearch
    {
        private readonly int[][] _cells;
        private readonly int[][] _costs;
        private readonly int[] _count;
        private readonly int _startRow;
        private readonly int _startColumn;
        private int _current; // bucket of the smallest f
        private int _pending;

        public LazySearch(DenseGraph g, int laneCost, int goal, int start)
        {
            var width = laneCost + 2;
            _cells = new int[width][];
            _costs = new int[width][];
            _count = new int[width];
            for (var b = 0; b < width; b++)
            {
                _cells[b] = new int[64];
                _costs[b] = new int[64];
            }

            _startRow = g.Row[start];
            _startColumn = g.Column[start];
            _cells[0][0] = goal;
            _count[0] = 1;
            _pending = 1;
        }

        public int Settled;

        public bool Done => _pending == 0;

        public void RunUntilSettled(DenseGraph g, ushort[] table, int target)
        {
            var next = g.Next;
            var inCost = g.InCost;
            var row = g.Row;
            var col = g.Column;
            var width = _cells.Length;
            while (_pending > 0 && table[target] == Unsettled)
            {
                var n = _count[_current];
                if (n == 0)
                {
                    _current = _current + 1 == width ? 0 : _current + 1;
                    continue;
                }

                // Pop the newest entry of the smallest f.
                n--;
                _count[_current] = n;
                _pending--;
                var c = _cells[_current][n];
                if (table[c] != Unsettled)
                {
                    continue;
                }

                var cost = _costs[_current][n];
                table[c] = (ushort)Math.Min(cost, Largest);
                Settled++;
                var hc = Math.Abs(row[c] - _startRow) + Math.Abs(col[c] - _startColumn);
                var at = c * 4;
                for (var k = 0; k < 4; k++)
                {
                    var p = next[at + k];
                    if (p < 0 || table[p] != Unsettled)
                    {
                        continue;
                    }

                    var step = inCost[at + k];
                    var hp = Math.Abs(row[p] - _startRow) + Math.Abs(col[p] - _startColumn);
                    var b = _current + step + hp - hc; // f rises by step + (hp - hc), in 0..laneCost + 1
                    if (b >= width)
                    {
                        b -= width;
                    }

                    var m = _count[b];
                    if (m == _cells[b].Length)
                    {
                        Array.Resize(ref _cells[b], m * 2);
                        Array.Resize(ref _costs[b], m * 2);
                    }

                    _cells[b][m] = p;
                    _costs[b][m] = cost + step;
                    _count[b] = m + 1;
                    _pending++;
                }
            }
        }
    }

    /// <summary>Reusable per-thread exact search state.</summary>
    private sealed class ExactSearch
    {
        private readonly int[] _seen;
        private readonly int[] _g;
        private readonly List<int>[] _byF = [[], [], []];
        private int _stamp;

        public ExactSearch(int cells)
        {
            _seen = new int[cells];
            _g = new int[cells];
        }

        // Exact moves from start to goal: A* with the Manhattan distance. On a grid each move changes
        // f by 0 or 2, so three lists (f, f + 1, f + 2) are the whole open list; last in, first out
        // within a list prefers deeper nodes.
        public int Distance(DenseGraph graph, int start, int goal)
        {
            if (++_stamp == int.MaxValue)
            {
                Array.Clear(_seen);
                _stamp = 1;
            }

            var next = graph.Next;
            var row = graph.Row;
            var col = graph.Column;
            var gr = row[goal];
            var gcl = col[goal];
            foreach (var list in _byF)
            {
                list.Clear();
            }

            var f = Math.Abs(row[start] - gr) + Math.Abs(col[start] - gcl);
            _byF[0].Add(start);
            _seen[start] = _stamp;
            _g[start] = 0;
            while (true)
            {
                var current = _byF[0];
                if (current.Count == 0)
                {
                    if (_byF[1].Count == 0 && _byF[2].Count == 0)
                    {
                        return Unreachable;
                    }

                    (_byF[0], _byF[1], _byF[2]) = (_byF[1], _byF[2], _byF[0]);
                    f++;
                    continue;
                }

                var c = current[^1];
                current.RemoveAt(current.Count - 1);
                if (c == goal)
                {
                    return _g[c];
                }

                var gp = _g[c] + 1;
                for (var k = 0; k < 4; k++)
                {
                    var p = next[(c * 4) + k];
                    if (p < 0 || (_seen[p] == _stamp && _g[p] <= gp))
                    {
                        continue;
                    }

                    _seen[p] = _stamp;
                    _g[p] = gp;
                    _byF[gp + Math.Abs(row[p] - gr) + Math.Abs(col[p] - gcl) - f].Add(p);
                }
            }
        }
    }
}
