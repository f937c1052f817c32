namespace WarehouseHybrid.Planning.OneShot;

/// <summary>How a search ended.</summary>
public enum MapfStatus
{
    /// <summary>A solution was found.</summary>
    Solved = 0,
    /// <summary>The search proved that no solution exists.</summary>
    Unsolvable = 1,
    /// <summary>The time budget ran out (or the caller cancelled) before a solution was found.</summary>
    TimedOut = 2,
}

/// <summary>
/// LaCAM (lazy constraints addition search; Okumura, AAAI 2023): a depth-first search over
/// configurations (one cell per agent) whose successors are generated lazily by PIBT. Each
/// configuration keeps a breadth-first tree of constraints ("agent a goes to cell v next"), added
/// one agent at a time in the configuration's priority order; each visit pops the next constraint
/// set and asks PIBT for a successor honouring it. Reaching a known configuration sends the search
/// back to it (as LaCAM* does), so it escapes PIBT's livelocks; exhausting every constraint of every
/// configuration proves the instance unsolvable (LaCAM is complete). Priorities follow PIBT:
/// they grow each step an agent is away from its goal and fall back when it arrives.
/// </summary>
internal sealed class LacamSearch
{
    private const int None = -1;

    private readonly MapfProblem _problem;
    private readonly AgentDistances _dist;
    private readonly PibtGenerator _pibt;
    private readonly Random _rng;
    private readonly Dictionary<int[], HNode> _explored = new(ConfigComparer.Instance);
    private readonly float[] _sortKeys;

    public LacamSearch(MapfProblem problem, AgentDistances distances, int seed, bool swap)
    {
        _problem = problem;
        _dist = distances;
        _pibt = new PibtGenerator(problem, distances, seed, swap);
        _rng = new Random(seed ^ 0x5bd1e995);
        _sortKeys = new float[problem.AgentCount];
    }

    /// <summary>Configurations generated so far (high-level nodes).</summary>
    public int NodeCount => _explored.Count;

    /// <summary>Successors that were known configurations (PIBT going round in circles).</summary>
    public long Revisits { get; private set; }

    /// <summary>Constraint sets PIBT could not satisfy.</summary>
    public long Failures { get; private set; }

    /// <summary>Search iterations so far.</summary>
    public long Iterations { get; private set; }

    /// <summary>
    /// Searches until a solution is found, the instance is proved unsolvable, or
    /// <paramref name="shouldStop"/> (polled every iteration) says to stop. On success
    /// <paramref name="configurations"/> holds the configurations from start to goals.
    /// </summary>
    public MapfStatus Run(Func<bool> shouldStop, Action<LacamSearch>? progress, out List<int[]> configurations)
    {
        configurations = [];
        var n = _problem.AgentCount;
        var goals = _problem.GoalArray;
        var root = CreateNode((int[])_problem.StartArray.Clone(), null);
        var open = new Stack<HNode>();
        open.Push(root);
        while (open.Count > 0)
        {
            if (shouldStop())
            {
                return MapfStatus.TimedOut;
            }

            Iterations++;
            if ((Iterations & 15) == 0)
            {
                progress?.Invoke(this);
            }

            var h = open.Peek();
            if (h.Q.AsSpan().SequenceEqual(goals))
            {
                for (var node = h; node is not null; node = node.Parent)
                {
                    configurations.Add(node.Q);
                }

                configurations.Reverse();
                return MapfStatus.Solved;
            }

            var l = NextConstraints(h);
            if (l is null)
            {
                open.Pop();
                continue;
            }

            var to = new int[n];
            Array.Fill(to, None);
            for (var c = l; c.Depth > 0; c = c.Parent!)
            {
                to[c.Who] = c.Where;
            }

            if (!_pibt.Generate(h.Q, to, h.Order))
            {
                Failures++;
                continue;
            }

            if (_explored.TryGetValue(to, out var known))
            {
                Revisits++;
                open.Push(known);
            }
            else
            {
                open.Push(CreateNode(to, h));
            }
        }

        return MapfStatus.Unsolvable;
    }

    private HNode CreateNode(int[] q, HNode? parent)
    {
        var n = q.Length;
        var priority = new float[n];
        for (var i = 0; i < n; i++)
        {
            if (parent is null)
            {
                // Far agents first; the fraction only breaks ties and survives arrivals.
                priority[i] = _dist.Get(i, q[i]) / 100_000f;
            }
            else if (_dist.Get(i, q[i]) != 0)
            {
                priority[i] = parent.Priority[i] + 1;
            }
            else
            {
                priority[i] = parent.Priority[i] - MathF.Floor(parent.Priority[i]);
            }
        }

        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
            _sortKeys[i] = -priority[i];
        }

        Array.Sort(_sortKeys, order);
        var node = new HNode(q, parent, priority, order);
        _explored[q] = node;
        return node;
    }

    private LNode? NextConstraints(HNode h)
    {
        if (h.Tree.Count == 0)
        {
            return null;
        }

        var l = h.Tree.Dequeue();
        if (l.Depth < h.Q.Length)
        {
            var i = h.Order[l.Depth];
            var v = h.Q[i];
            var deg = _problem.Degree(v);
            Span<int> cands = stackalloc int[5];
            for (var k = 0; k < deg; k++)
            {
                cands[k] = _problem.Neighbour(v, k);
            }

            cands[deg] = v;
            var span = cands[..(deg + 1)];
            _rng.Shuffle(span);
            foreach (var u in span)
            {
                h.Tree.Enqueue(new LNode(l, i, u, l.Depth + 1));
            }
        }

        return l;
    }

    private sealed class HNode(int[] q, HNode? parent, float[] priority, int[] order)
    {
        public int[] Q { get; } = q;

        public HNode? Parent { get; } = parent;

        public float[] Priority { get; } = priority;

        public int[] Order { get; } = order;

        public Queue<LNode> Tree { get; } = new([LNode.Root]);
    }

    private sealed class LNode(LNode? parent, int who, int where, int depth)
    {
        public static readonly LNode Root = new(null, None, None, 0);

        public LNode? Parent { get; } = parent;

        public int Who { get; } = who;

        public int Where { get; } = where;

        public int Depth { get; } = depth;
    }
}

/// <summary>Value equality and hashing of configurations (cell per agent).</summary>
internal sealed class ConfigComparer : IEqualityComparer<int[]>
{
    public static readonly ConfigComparer Instance = new();

    public bool Equals(int[]? x, int[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    public int GetHashCode(int[] obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var h = 0x811C9DC5u;
        foreach (var c in obj)
        {
            h = (h ^ (uint)c) * 0x01000193u;
        }

        return (int)h;
    }
}
