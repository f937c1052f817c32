namespace WarehouseHybrid.Planning.OneShot;

/// <summary>How the refiner picks the agents it replans together.</summary>
internal enum NeighbourhoodKind
{
    /// <summary>
    /// MAPF-LNS's agent-based neighbourhood: a delayed agent and the agents met by random walks
    /// from its path toward its goal (the ones in its way).
    /// </summary>
    RandomWalk = 0,
    /// <summary>The agents around one point of space-time on a delayed agent's path (a local jam).</summary>
    Local = 1,
    /// <summary>Agents drawn uniformly.</summary>
    Uniform = 2,
}

/// <summary>
/// Anytime improvement of a feasible solution by large neighbourhood search (MAPF-LNS; Li et al.,
/// IJCAI 2021): each iteration removes the paths of a few agents, replans them one by one in random
/// order with <see cref="SippPlanner"/> against everyone else's fixed paths (prioritized planning),
/// and keeps the new paths when their sum of costs is not worse. Every intermediate state is a
/// valid solution, so the search can stop at any time. The neighbourhood kind is chosen adaptively
/// (ALNS): each kind's weight follows the cost it recently saved per agent replanned.
/// </summary>
internal sealed class LnsRefiner
{
    private const int KindCount = 3;
    private const double Reaction = 0.1;

    /// <summary>Largest neighbourhood the refiner accepts.</summary>
    public const int MaxNeighbourhood = 64;

    private readonly MapfProblem _problem;
    private readonly AgentDistances _dist;
    private readonly SpaceTimeTable _table;
    private readonly SippPlanner _sipp;
    private readonly GoalHoldRepair _holds;
    private readonly int[][] _paths;
    private readonly int[] _lowerBound;
    private readonly Random _rng;
    private readonly double[] _weights = [1, 1, 1];
    private readonly HashSet<int> _set = [];
    private readonly List<int> _agents = [];
    private readonly List<int> _members = [];
    private readonly int[][] _oldPaths;
    private readonly long[] _savedByKind = new long[KindCount];
    private readonly long[] _usedByKind = new long[KindCount];
    private long _expansions;
    private long _failures;

    public LnsRefiner(MapfProblem problem, AgentDistances distances, int[][] paths, int seed, Func<bool>? shouldStop = null)
    {
        _problem = problem;
        _dist = distances;
        _paths = paths;
        _rng = new Random(seed);
        _table = new SpaceTimeTable(problem.Map.CellCount);
        _lowerBound = new int[problem.AgentCount];
        for (var i = 0; i < paths.Length; i++)
        {
            _table.Add(i, paths[i]);
            _lowerBound[i] = distances.TrueDistance(i);
            SumOfCosts += paths[i].Length - 1;
        }

        _sipp = new SippPlanner(problem, distances, _table) { ShouldStop = shouldStop };
        _oldPaths = new int[MaxNeighbourhood][];
        _holds = new GoalHoldRepair(_table, _sipp, paths);
    }

    /// <summary>Counters of the goal-hold passes, for the log.</summary>
    public string HoldDetail => $"holds kept {Holds} of {_holds.Attempts} attempts; too many intruders {_holds.TooMany}, same-cost detours not found {_holds.WindowFailures}, longer paths taken {_holds.SuffixDetours}, intruders {_holds.IntrudersSeen}";

    /// <summary>Counters of the LNS iterations, for the log.</summary>
    public string Detail =>
        $"LNS iterations {Iterations}, kept {Accepted}; saved by walk/local/uniform {_savedByKind[0]}/{_savedByKind[1]}/{_savedByKind[2]} in {_usedByKind[0]}/{_usedByKind[1]}/{_usedByKind[2]} iterations; SIPP expansions {_expansions}, failures {_failures}";

    /// <summary>Goal holds kept so far.</summary>
    public long Holds { get; private set; }

    /// <summary>
    /// One pass of <see cref="GoalHoldRepair"/> over the agents that left their goal after first
    /// reaching it, largest possible saving first, until <paramref name="shouldStop"/>.
    /// Returns the cost saved.
    /// </summary>
    public long HoldGoals(Func<bool> shouldStop, int margin = 16, int maxIntruders = 16, Action<LnsRefiner>? tick = null)
    {
        _holds.Margin = margin;
        _holds.MaxIntruders = maxIntruders;
        var candidates = new List<(int Gain, int Agent)>();
        for (var j = 0; j < _paths.Length; j++)
        {
            var gain = _paths[j].Length - 1 - _holds.FirstArrival(j);
            if (gain > 0)
            {
                candidates.Add((-gain, j));
            }
        }

        candidates.Sort();
        long saved = 0;
        foreach (var (_, j) in candidates)
        {
            if (shouldStop())
            {
                break;
            }

            var s = _holds.TryHold(j);
            if (s > 0)
            {
                Holds++;
                saved += s;
                SumOfCosts -= s;
            }

            tick?.Invoke(this);
        }

        return saved;
    }

    /// <summary>Current sum of costs (paths are trimmed: cost = length - 1).</summary>
    public long SumOfCosts { get; private set; }

    /// <summary>Iterations run.</summary>
    public long Iterations { get; private set; }

    /// <summary>Iterations whose new paths were kept.</summary>
    public long Accepted { get; private set; }

    /// <summary>Agents per neighbourhood.</summary>
    public int NeighbourhoodSize { get; set; } = 8;

    /// <summary>States one SIPP search may expand.</summary>
    public int ExpansionLimit { get; set; } = 200_000;

    /// <summary>Cost saved so far by each neighbourhood kind (diagnostics).</summary>
    public IReadOnlyList<long> SavedByKind => _savedByKind;

    /// <summary>Iterations of each neighbourhood kind (diagnostics).</summary>
    public IReadOnlyList<long> UsedByKind => _usedByKind;

    /// <summary>One destroy-and-repair iteration. Returns the cost saved (0 when nothing improved).</summary>
    public long Step()
    {
        Iterations++;
        var kind = PickKind();
        _usedByKind[(int)kind]++;
        _set.Clear();
        var size = Math.Clamp(NeighbourhoodSize, 1, Math.Min(MaxNeighbourhood, _problem.AgentCount));
        switch (kind)
        {
            case NeighbourhoodKind.RandomWalk:
                RandomWalkNeighbourhood(size);
                break;
            case NeighbourhoodKind.Local:
                LocalNeighbourhood(size);
                break;
            default:
                while (_set.Count < size)
                {
                    _set.Add(_rng.Next(_problem.AgentCount));
                }

                break;
        }

        if (_set.Count == 0)
        {
            UpdateWeight(kind, 0, 1);
            return 0;
        }

        _agents.Clear();
        _agents.AddRange(_set);
        var agents = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_agents);
        _rng.Shuffle(agents);
        long oldCost = 0;
        long remainingLb = 0;
        for (var k = 0; k < agents.Length; k++)
        {
            var a = agents[k];
            _oldPaths[k] = _paths[a];
            oldCost += _paths[a].Length - 1;
            remainingLb += _lowerBound[a];
            _table.Remove(a, _paths[a]);
        }

        long newCost = 0;
        var planned = 0;
        for (; planned < agents.Length; planned++)
        {
            var a = agents[planned];
            remainingLb -= _lowerBound[a];
            var budget = oldCost - newCost - remainingLb;
            var path = _sipp.Plan(a, (int)Math.Min(budget, int.MaxValue - 1), ExpansionLimit);
            _expansions += _sipp.LastExpansions;
            if (path is null)
            {
                _failures++;
                break;
            }

            newCost += path.Length - 1;
            _paths[a] = path;
            _table.Add(a, path);
        }

        if (planned == agents.Length && newCost <= oldCost)
        {
            Accepted++;
            var saved = oldCost - newCost;
            SumOfCosts -= saved;
            _savedByKind[(int)kind] += saved;
            UpdateWeight(kind, saved, agents.Length);
            return saved;
        }

        for (var k = 0; k < planned; k++)
        {
            _table.Remove(agents[k], _paths[agents[k]]);
        }

        for (var k = 0; k < agents.Length; k++)
        {
            _paths[agents[k]] = _oldPaths[k];
            _table.Add(agents[k], _oldPaths[k]);
        }

        UpdateWeight(kind, 0, agents.Length);
        return 0;
    }

    private NeighbourhoodKind PickKind()
    {
        var total = _weights[0] + _weights[1] + _weights[2];
        var x = _rng.NextDouble() * total;
        for (var k = 0; k < KindCount - 1; k++)
        {
            x -= _weights[k];
            if (x < 0)
            {
                return (NeighbourhoodKind)k;
            }
        }

        return (NeighbourhoodKind)(KindCount - 1);
    }

    private void UpdateWeight(NeighbourhoodKind kind, long saved, int agents)
    {
        ref var w = ref _weights[(int)kind];
        w = (Reaction * saved / Math.Max(1, agents)) + ((1 - Reaction) * w);
        w = Math.Max(w, 0.01); // every kind keeps a chance
    }

    private int Delay(int a) => _paths[a].Length - 1 - _lowerBound[a];

    // A delayed agent: the most delayed of a few drawn at random (cheap, and never stuck on one agent).
    private int PickDelayedAgent()
    {
        var best = _rng.Next(_problem.AgentCount);
        for (var k = 0; k < 15; k++)
        {
            var a = _rng.Next(_problem.AgentCount);
            if (Delay(a) > Delay(best))
            {
                best = a;
            }
        }

        return best;
    }

    private void RandomWalkNeighbourhood(int size)
    {
        var a = PickDelayedAgent();
        if (Delay(a) == 0)
        {
            return;
        }

        _set.Add(a);
        _members.Clear();
        _members.Add(a);
        for (var attempt = 0; attempt < 10 && _set.Count < size; attempt++)
        {
            // Walk from a random point of a random member's path, only where it could still improve.
            var who = _members[_rng.Next(_members.Count)];
            var path = _paths[who];
            var cost = path.Length - 1;
            if (cost <= 0)
            {
                continue;
            }

            var t = _rng.Next(cost);
            var loc = path[t];
            for (; t < cost && _set.Count < size; t++)
            {
                var next = RandomStep(who, loc, t, cost);
                if (next < 0)
                {
                    break;
                }

                var other = _table.OccupantAt(next, t + 1);
                if (other >= 0 && other != who && _set.Add(other))
                {
                    _members.Add(other);
                }

                loc = next;
            }
        }
    }

    // A random neighbour or wait from (loc, t) from which agent a could reach its goal before time cost.
    private int RandomStep(int a, int loc, int t, int cost)
    {
        Span<int> options = stackalloc int[5];
        var n = 0;
        var deg = _problem.Degree(loc);
        for (var k = 0; k < deg; k++)
        {
            var u = _problem.Neighbour(loc, k);
            if (t + 1 + LowerBound(a, u) < cost)
            {
                options[n++] = u;
            }
        }

        if (t + 1 + LowerBound(a, loc) < cost)
        {
            options[n++] = loc;
        }

        return n == 0 ? -1 : options[_rng.Next(n)];
    }

    // Admissible moves-to-goal: the table when it is exact, else Manhattan (guidance overestimates).
    private int LowerBound(int a, int cell) =>
        _dist.IsExact ? _dist.Get(a, cell) : _problem.Map.Manhattan(cell, _problem.GoalArray[a]);

    private void LocalNeighbourhood(int size)
    {
        var a = PickDelayedAgent();
        var path = _paths[a];
        var t = _rng.Next(path.Length);
        var centre = path[t];
        _set.Add(a);

        // Breadth-first over cells around the centre; take the agents there within a time window.
        const int window = 4;
        Span<int> ring = stackalloc int[64];
        var count = 0;
        ring[count++] = centre;
        for (var head = 0; head < count && _set.Count < size; head++)
        {
            var cell = ring[head];
            for (var tt = Math.Max(0, t - window); tt <= t + window && _set.Count < size; tt++)
            {
                var o = _table.OccupantAt(cell, tt);
                if (o >= 0)
                {
                    _set.Add(o);
                }
            }

            var deg = _problem.Degree(cell);
            for (var k = 0; k < deg && count < ring.Length; k++)
            {
                var u = _problem.Neighbour(cell, k);
                if (!ring[..count].Contains(u))
                {
                    ring[count++] = u;
                }
            }
        }
    }
}
