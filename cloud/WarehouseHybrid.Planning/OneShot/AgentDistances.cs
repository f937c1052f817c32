using WarehouseHybrid.Planning.Distances;

namespace WarehouseHybrid.Planning.OneShot;

/// <summary>
/// Per-agent cost-to-goal tables, one <see cref="ushort"/> per passable cell (10,000 agents on
/// 38,756 cells is 775 MB), computed up front on all the cores given because PIBT asks every
/// agent's table from the first step. With <see cref="LaneCost"/> 1 they are exact 4-connected
/// shortest distances. Above 1 they are guidance: rows and columns alternate a preferred direction
/// (so every two-wide aisle gets two opposite lanes, and open floor becomes a grid of one-way
/// streets), a move against its row's or column's direction costs <see cref="LaneCost"/> instead
/// of 1, and PIBT, following these costs, keeps opposite flows apart. Guidance tables are not
/// admissible; <see cref="TrueDistance"/> stays exact. Immutable once computed; thread-safe.
/// </summary>
public sealed class AgentDistances
{
    /// <summary>The value of a cell from which the goal cannot be reached.</summary>
    public const int Unreachable = ushort.MaxValue;

    private readonly CompactGrid _grid;
    private readonly ushort[][] _tables;
    private readonly int[] _trueFromStart;

    private AgentDistances(CompactGrid grid, ushort[][] tables, int[] trueFromStart, int laneCost)
    {
        _grid = grid;
        _tables = tables;
        _trueFromStart = trueFromStart;
        LaneCost = laneCost;
    }

    /// <summary>Cost of a move against its lane (1: no lanes, exact distances).</summary>
    public int LaneCost { get; }

    /// <summary>Bytes held by the tables.</summary>
    public long SizeBytes => (long)_tables.Length * _grid.Count * sizeof(ushort);

    /// <summary>Cost from <paramref name="cell"/> (passable) to agent <paramref name="agent"/>'s goal, or <see cref="Unreachable"/>.</summary>
    public int Get(int agent, int cell) => _tables[agent][_grid.DenseOf(cell)];

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
        var trueFromStart = new int[n];
        var graph = new DenseGraph(problem, grid, laneCost);
        var stopped = 0;
        Parallel.For(
            0,
            n,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
            () => new SearchBuffers(grid.Count, laneCost),
            (i, state, buffers) =>
            {
                if (Volatile.Read(ref stopped) != 0 || ((i & 63) == 0 && shouldStop()))
                {
                    Volatile.Write(ref stopped, 1);
                    state.Stop();
                    return buffers;
                }

                var goal = grid.DenseOf(problem.GoalArray[i]);
                var start = grid.DenseOf(problem.StartArray[i]);
                tables[i] = buffers.CostToGo(graph, goal);
                trueFromStart[i] = laneCost == 1 ? tables[i][start] : buffers.Distance(graph, start, goal);
                return buffers;
            },
            _ => { });
        return stopped != 0 ? null : new AgentDistances(grid, tables, trueFromStart, laneCost);
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

    /// <summary>Reusable per-thread search state.</summary>
    private sealed class SearchBuffers
    {
        private readonly int[][] _buckets;
        private readonly int[] _bucketCount;
        private readonly int[] _seen;
        private readonly int[] _g;
        private readonly List<int>[] _byF = [[], [], []];
        private int _stamp;

        public SearchBuffers(int cells, int laneCost)
        {
            _buckets = new int[laneCost + 1][];
            _bucketCount = new int[laneCost + 1];
            for (var b = 0; b <= laneCost; b++)
            {
                _buckets[b] = new int[cells];
            }

            _seen = new int[cells];
            _g = new int[cells];
        }

        // Cost to reach the goal from every cell (Dial's algorithm: one bucket per cost level, a
        // ring of laneCost + 1). The tables live on the pinned object heap: kept for the whole solve,
        // they would otherwise be copied from generation to generation by the collector.
        public ushort[] CostToGo(DenseGraph g, int goal)
        {
            var dist = GC.AllocateUninitializedArray<ushort>(g.Count, pinned: true);
            dist.AsSpan().Fill(Unreachable);
            var next = g.Next;
            var inCost = g.InCost;
            var width = _buckets.Length;
            Array.Clear(_bucketCount);
            dist[goal] = 0;
            _buckets[0][_bucketCount[0]++] = goal;
            var pending = 1;
            for (var level = 0; pending > 0; level++)
            {
                var b = level % width;
                var bucket = _buckets[b];
                var count = _bucketCount[b];
                for (var q = 0; q < count; q++)
                {
                    var c = bucket[q];
                    if (dist[c] != level)
                    {
                        continue; // improved after it was queued
                    }

                    var at = c * 4;
                    for (var k = 0; k < 4; k++)
                    {
                        var p = next[at + k];
                        if (p < 0)
                        {
                            continue;
                        }

                        var nd = level + inCost[at + k];
                        if (nd < dist[p])
                        {
                            dist[p] = (ushort)Math.Min(nd, Unreachable - 1);
                            var nb = nd % width;
                            _buckets[nb][_bucketCount[nb]++] = p;
                            pending++;
                        }
                    }
                }

                pending -= count;
                _bucketCount[b] = 0;
            }

            return dist;
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
