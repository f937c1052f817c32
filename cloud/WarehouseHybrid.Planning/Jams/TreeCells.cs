using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Jams;

/// <summary>
/// The cells of a map at the end of a bridge: a move between two passable cells that lies on no
/// cycle of the grid graph (a one-wide corridor of a tree, the mouth of a dead end or pocket).
/// PIBT's guarantee that the lead reaches its goal holds where every edge is on a cycle; where the
/// way runs over bridges, robots may have to back out in a coordinated way that no per-step rule
/// gives, which is where <see cref="JamResolver"/> acts. Found once per map (Tarjan's bridge
/// search, iterative so that long corridors do not overflow the stack). Immutable after construction.
/// </summary>
public sealed class TreeCells
{
    private readonly bool[] _onBridge;

    /// <summary>Finds the bridges of <paramref name="map"/>'s 4-connected passable cells.</summary>
    public TreeCells(GridMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var n = map.CellCount;
        _onBridge = new bool[n];
        var order = new int[n];   // discovery time + 1 (0: not visited)
        var low = new int[n];
        var parent = new int[n];
        var nextDir = new byte[n];
        var stack = new Stack<int>();
        var time = 0;
        for (var root = 0; root < n; root++)
        {
            if (!map.IsPassable(root) || order[root] != 0)
            {
                continue;
            }

            parent[root] = -1;
            order[root] = low[root] = ++time;
            stack.Push(root);
            while (stack.Count > 0)
            {
                var v = stack.Peek();
                if (nextDir[v] < 4)
                {
                    var w = map.Neighbour(v, (Heading)nextDir[v]++);
                    if (w < 0 || !map.IsPassable(w) || w == parent[v])
                    {
                        continue;
                    }

                    if (order[w] == 0)
                    {
                        parent[w] = v;
                        order[w] = low[w] = ++time;
                        stack.Push(w);
                    }
                    else
                    {
                        low[v] = Math.Min(low[v], order[w]);
                    }

                    continue;
                }

                stack.Pop();
                var p = parent[v];
                if (p >= 0)
                {
                    low[p] = Math.Min(low[p], low[v]);
                    if (low[v] > order[p])
                    {
                        _onBridge[v] = true;
                        _onBridge[p] = true;
                        Count++;
                    }
                }
            }
        }
    }

    /// <summary>Bridges found.</summary>
    public int Count { get; }

    /// <summary>Whether <paramref name="cell"/> is an end of some bridge.</summary>
    public bool OnBridge(int cell) => (uint)cell < (uint)_onBridge.Length && _onBridge[cell];
}
