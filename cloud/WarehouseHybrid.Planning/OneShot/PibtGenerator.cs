namespace WarehouseHybrid.Planning.OneShot;

/// <summary>
/// PIBT (priority inheritance with backtracking; Okumura et al., AIJ 2022) as LaCAM's configuration
/// generator: from one configuration, every agent in priority order picks its next cell (a neighbour
/// or its own, nearest to its goal first, random tie-breaks); an agent whose wanted cell is occupied
/// lends its priority to the occupant, which must move away first, and backtracks when that fails.
/// With <see cref="Swap"/> on, the swap technique of LaCAM* (Okumura, IJCAI 2023): when two agents
/// face each other in a corridor where neither can give way, the pusher retreats and pulls the other
/// behind it until they reach a branch where they can pass, instead of both waiting forever.
/// Vertex and swap conflicts never arise; following and rotations are allowed.
/// One instance per thread; the recursion is as deep as the longest push chain, so callers run it
/// on a thread with a large stack.
/// </summary>
internal sealed class PibtGenerator
{
    private const int None = -1;

    private readonly AgentDistances _dist;
    private readonly int[] _goals;
    private readonly int[] _nbr;
    private readonly byte[] _deg;
    private readonly int[] _occNow;
    private readonly int[] _occNext;
    private readonly int[] _cand;   // agent * 5 + k: candidate cells of the agent's current decision
    private readonly float[] _tie;  // cell -> random tie-break of the current decision
    private readonly Random _rng;
    private int[] _from = [];
    private int[] _to = [];

    public PibtGenerator(MapfProblem problem, AgentDistances distances, int seed, bool swap)
    {
        _dist = distances;
        _goals = problem.GoalArray;
        _nbr = problem.NeighbourArray;
        _deg = problem.DegreeArray;
        _occNow = new int[problem.Map.CellCount];
        _occNext = new int[problem.Map.CellCount];
        Array.Fill(_occNow, None);
        Array.Fill(_occNext, None);
        _cand = new int[problem.AgentCount * 5];
        _tie = new float[problem.Map.CellCount];
        _rng = new Random(seed);
        Swap = swap;
    }

    /// <summary>Whether the swap technique is used.</summary>
    public bool Swap { get; }

    /// <summary>
    /// Fills <paramref name="to"/> (entries already set, i.e. not -1, are LaCAM's constraints and are
    /// kept) with the next configuration from <paramref name="from"/>, planning agents in
    /// <paramref name="order"/>. False when the constraints conflict or some agent cannot be placed.
    /// </summary>
    public bool Generate(int[] from, int[] to, int[] order)
    {
        _from = from;
        _to = to;
        var n = from.Length;
        var ok = true;
        for (var i = 0; i < n; i++)
        {
            _occNow[from[i]] = i;
        }

        for (var i = 0; i < n && ok; i++)
        {
            var t = to[i];
            if (t == None)
            {
                continue;
            }

            // Constraints must themselves be free of vertex and swap conflicts.
            var j = _occNow[t];
            if (_occNext[t] != None || (j != None && j != i && to[j] == from[i]))
            {
                ok = false;
            }
            else
            {
                _occNext[t] = i;
            }
        }

        if (ok)
        {
            foreach (var i in order)
            {
                if (to[i] == None && !Plan(i))
                {
                    ok = false;
                    break;
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            _occNow[from[i]] = None;
            if (to[i] != None)
            {
                _occNext[to[i]] = None;
            }
        }

        return ok;
    }

    private bool Plan(int i)
    {
        var v = _from[i];
        var k0 = i * 5;
        var deg = _deg[v];
        for (var k = 0; k < deg; k++)
        {
            var u = _nbr[(v * 4) + k];
            _cand[k0 + k] = u;
            _tie[u] = _rng.NextSingle();
        }

        _cand[k0 + deg] = v;
        _tie[v] = _rng.NextSingle();
        var count = deg + 1;
        SortCandidates(i, k0, count);

        var swapAgent = None;
        if (Swap)
        {
            swapAgent = SwapPartner(i, _cand[k0]);
            if (swapAgent != None)
            {
                Array.Reverse(_cand, k0, count);
            }
        }

        for (var k = 0; k < count; k++)
        {
            var u = _cand[k0 + k];
            if (_occNext[u] != None)
            {
                continue;
            }

            var j = _occNow[u];
            if (j != None && _to[j] == v)
            {
                continue; // j already moves into v: taking u would swap
            }

            _occNext[u] = i;
            _to[i] = u;
            if (j != None && u != v && _to[j] == None && !Plan(j))
            {
                continue;
            }

            if (k == 0 && swapAgent != None && _to[swapAgent] == None && _occNext[v] == None)
            {
                // Pull the partner into the cell this agent leaves.
                _occNext[v] = swapAgent;
                _to[swapAgent] = v;
            }

            return true;
        }

        _occNext[v] = i;
        _to[i] = v;
        return false;
    }

    private void SortCandidates(int i, int k0, int count)
    {
        // Insertion sort of at most five cells by distance to goal plus tie-break; each key is read
        // once (a table read is a likely cache miss with thousands of tables).
        Span<float> keys = stackalloc float[5];
        for (var a = 0; a < count; a++)
        {
            var c = _cand[k0 + a];
            keys[a] = _dist.Get(i, c) + _tie[c];
        }

        for (var a = 1; a < count; a++)
        {
            var c = _cand[k0 + a];
            var key = keys[a];
            var b = a - 1;
            while (b >= 0 && keys[b] > key)
            {
                _cand[k0 + b + 1] = _cand[k0 + b];
                keys[b + 1] = keys[b];
                b--;
            }

            _cand[k0 + b + 1] = c;
            keys[b + 1] = key;
        }
    }

    // The agent whose swap with i is needed and feasible, or None: either the occupant of i's wanted
    // cell, or (the "clear" case) a neighbour that would have to swap with i once i advanced.
    private int SwapPartner(int i, int wanted)
    {
        var here = _from[i];
        var j = _occNow[wanted];
        if (j != None && j != i && _to[j] == None && SwapRequired(i, j, here, _from[j]) && SwapPossible(_from[j], here))
        {
            return j;
        }

        if (wanted != here)
        {
            var deg = _deg[here];
            for (var k = 0; k < deg; k++)
            {
                var u = _nbr[(here * 4) + k];
                var a = _occNow[u];
                if (a != None && wanted != _from[a] && SwapRequired(a, i, here, wanted) && SwapPossible(wanted, here))
                {
                    return a;
                }
            }
        }

        return None;
    }

    // Walks the corridor ahead of the pusher: the two must swap when no branch (a cell with two or
    // more ways out besides the way in, not counting dead ends held by agents at their goals) lies
    // ahead while the pusher keeps approaching its goal, and the puller wants to come the other way.
    private bool SwapRequired(int pusher, int puller, int vPusher, int vPuller)
    {
        var guard = _occNow.Length;
        while (_dist.Get(pusher, vPuller) < _dist.Get(pusher, vPusher) && guard-- > 0)
        {
            var exits = ExitsBeyond(vPuller, vPusher, out var next);
            if (exits >= 2)
            {
                return false;
            }

            if (exits <= 0)
            {
                break;
            }

            vPusher = vPuller;
            vPuller = next;
        }

        return _dist.Get(puller, vPusher) < _dist.Get(puller, vPuller)
            && (_dist.Get(pusher, vPusher) == 0 || _dist.Get(pusher, vPuller) < _dist.Get(pusher, vPusher));
    }

    // Walks backwards from the puller: the swap can happen when a branch is reached before a dead end.
    private bool SwapPossible(int vPusher, int vPuller)
    {
        var origin = vPusher;
        var guard = _occNow.Length;
        while (vPuller != origin && guard-- > 0)
        {
            var exits = ExitsBeyond(vPuller, vPusher, out var next);
            if (exits >= 2)
            {
                return true;
            }

            if (exits <= 0)
            {
                return false;
            }

            vPusher = vPuller;
            vPuller = next;
        }

        return false;
    }

    private int ExitsBeyond(int cell, int cameFrom, out int next)
    {
        next = None;
        var deg = _deg[cell];
        var exits = deg;
        for (var k = 0; k < deg; k++)
        {
            var u = _nbr[(cell * 4) + k];
            var a = _occNow[u];
            if (u == cameFrom || (_deg[u] == 1 && a != None && _goals[a] == u))
            {
                exits--;
            }
            else
            {
                next = u;
            }
        }

        return exits;
    }
}
