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
        var costs = MoveCosts(problem, grid, laneCost);
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
                tables[i] = buffers.CostToGo(grid, costs, goal);
                trueFromStart[i] = laneCost == 1 ? tables[i][start] : buffers.Distance(grid, goal, start);
                return buffers;
            },
            _ => { });
        return stopped != 0 ? null : new AgentDistances(grid, tables, trueFromStart, laneCost);
    }

    // Cost of the move from dense cell d in heading k (CompactGrid's order: east, south, west, north).
    private static byte[] MoveCosts(MapfProblem problem, CompactGrid grid, int laneCost)
    {
        var costs = new byte[grid.Count * 4];
        var map = problem.Map;
        for (var d = 0; d < grid.Count; d++)
        {
            var cell = grid.CellOf(d);
            var eastbound = (map.Row(cell) & 1) == 1;
            var southbound = (map.Column(cell) & 1) == 0;
            costs[(d * 4) + 0] = (byte)(eastbound ? 1 : laneCost);
            costs[(d * 4) + 2] = (byte)(eastbound ? laneCost : 1);
            costs[(d * 4) + 1] = (byte)(southbound ? 1 : laneCost);
            costs[(d * 4) + 3] = (byte)(southbound ? laneCost : 1);
        }

        return costs;
    }

    /// <summary>Reusable per-thread search state: Dial's bucket queue over small integer move costs.</summary>
    private sealed class SearchBuffers
    {
        private readonly int[][] _buckets;
        private readonly int[] _bucketCount;
        private readonly int[] _bfs;
        private readonly int[] _seen;
        private int _stamp;

        public SearchBuffers(int cells, int laneCost)
        {
            _buckets = new int[laneCost + 1][];
            _bucketCount = new int[laneCost + 1];
            for (var b = 0; b <= laneCost; b++)
            {
                _buckets[b] = new int[cells];
            }

            _bfs = new int[cells];
            _seen = new int[cells];
        }

        // Cost to reach the goal from every cell: relax predecessors p of c with the cost of p -> c.
        public ushort[] CostToGo(CompactGrid grid, byte[] costs, int goal)
        {
            var dist = new ushort[grid.Count];
            Array.Fill(dist, (ushort)Unreachable);
            var width = _buckets.Length;
            Array.Clear(_bucketCount);
            dist[goal] = 0;
            _buckets[0][_bucketCount[0]++] = goal;
            var pending = 1;
            for (var level = 0; pending > 0; level++)
            {
                var b = level % width;
                var bucket = _buckets[b];
                for (var q = 0; q < _bucketCount[b]; q++)
                {
                    var c = bucket[q];
                    if (dist[c] != level)
                    {
                        continue; // improved after it was queued
                    }

                    for (var k = 0; k < 4; k++)
                    {
                        var p = grid.Next(c, k);
                        if (p < 0)
                        {
                            continue;
                        }

                        // p -> c is the move in the opposite heading, taken from p.
                        var nd = level + costs[(p * 4) + ((k + 2) & 3)];
                        if (nd < dist[p] && nd < Unreachable)
                        {
                            dist[p] = (ushort)nd;
                            var nb = nd % width;
                            _buckets[nb][_bucketCount[nb]++] = p;
                            pending++;
                        }
                    }
                }

                pending -= _bucketCount[b];
                _bucketCount[b] = 0;
            }

            return dist;
        }

        // Exact moves from goal to target (breadth-first, stops when the target is reached).
        public int Distance(CompactGrid grid, int goal, int target)
        {
            if (++_stamp == int.MaxValue)
            {
                Array.Clear(_seen);
                _stamp = 1;
            }

            int head = 0, tail = 0;
            _bfs[tail++] = goal;
            _seen[goal] = _stamp;
            for (var level = 0; head < tail; level++)
            {
                var end = tail;
                for (; head < end; head++)
                {
                    var c = _bfs[head];
                    if (c == target)
                    {
                        return level;
                    }

                    for (var k = 0; k < 4; k++)
                    {
                        var p = grid.Next(c, k);
                        if (p >= 0 && _seen[p] != _stamp)
                        {
                            _seen[p] = _stamp;
                            _bfs[tail++] = p;
                        }
                    }
                }
            }

            return Unreachable;
        }
    }
}
