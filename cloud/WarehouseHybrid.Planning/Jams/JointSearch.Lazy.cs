namespace WarehouseHybrid.Planning.Jams;

/// <summary>
/// The lazy half of <see cref="JointSearch"/> (ADR 0007, "Complete local fallback"; the one-shot
/// LaCAM of ADR 0008 applied to a jam with headings). A high-level node is a joint (cell, heading)
/// configuration. Each visit of a node takes the next set of constraints ("robot r takes pose p
/// next") from the node's constraint tree, which grows one robot per level in the node's priority
/// order, every legal pose of that robot a child, best first; a PIBT step with headings completes
/// the configuration. Unlike LaCAM's depth-first order, the nodes are visited best-first (steps,
/// the lead's distance, the moves the robots ahead of it need to leave its path, plus one per
/// successor already tried), so PIBT's successor is followed greedily while it makes progress and
/// a node's other successors get their turn when it stops. A known configuration reached by a
/// shorter way moves it and everything reached from it to the shorter plan (LaCAM* rewiring), and
/// after the first solution the search goes on for as many visits again to shorten it. Every
/// constraint of every node eventually gets its turn, so within the window and the caps no joint
/// successor is left out; the work per visit is one PIBT call instead of 4^k successors.
/// </summary>
public sealed partial class JointSearch
{
    /// <summary>Group size from which <see cref="JointSearchMode.Auto"/> runs the lazy search.</summary>
    public const int LazyFromRobots = 4;

    /// <summary>Visits (PIBT calls) a lazy search may make per state of its node cap.</summary>
    public const int LazyVisitsPerNode = 4;

    private const int NoPose = -1;
    private const int FarFromClear = 1 << 12;
    private const int VisitPenalty = 1;
    private const int MaxClearPenalty = 32;

    // Action preference ranks on equal cost: the lead moves first, the others prefer to stay put.
    private static readonly int[] LeadRank = [0, 1, 2, 3];   // forward, cw, ccw, wait
    private static readonly int[] OtherRank = [1, 2, 3, 0];

    private readonly int[] _clearCost = new int[MaxWindowCells * 4]; // other robots: moves to a cell off the lead's path
    private readonly int[] _occNow = new int[MaxWindowCells];
    private readonly int[] _occNext = new int[MaxWindowCells];
    private readonly int[] _bfs = new int[MaxWindowCells * 4];
    private readonly Queue<int> _rewire = new();
    private readonly List<LowNode> _low = new();
    private readonly List<Edge> _edges = new();
    private int[] _queueHead = [];   // node -> first low-level node still to try, or -1
    private int[] _queueTail = [];
    private int[] _edgeHead = [];    // node -> first successor edge, or -1
    private int[] _order = [];       // node -> robots in priority order, 3 bits each
    private int[] _visits = [];      // node -> successors tried
    private float[] _priority = [];  // node * MaxRobots + robot
    private int[] _lowNext = [];     // low-level node -> next in its node's queue

    private JointPlan RunLazy(ulong rootKey, Func<bool> shouldStop)
    {
        EnsureLazyCapacity(_cap + 1);
        BuildClearCost();
        Array.Fill(_occNow, -1, 0, _windowCells);
        Array.Fill(_occNext, -1, 0, _windowCells);
        _low.Clear();
        _edges.Clear();
        var root = AddLazyNode(rootKey, -1);
        if (_found >= 0)
        {
            return Empty(JointSearchStatus.Solved, string.Empty);
        }

        var visits = 0;
        var visitCap = (long)_cap * LazyVisitsPerNode;
        var refineUntil = long.MaxValue; // after the first solution, as many visits again to shorten it
        Push(root);
        while (_open.Count > 0 && _generated < _cap && visits < Math.Min(visitCap, refineUntil))
        {
            if ((visits & 15) == 0 && shouldStop())
            {
                break;
            }

            var node = _open.Dequeue();
            // After a solution (or the best progress the window allows), only what may end shorter.
            var atFloor = _found < 0 && _bestCost <= _progressFloor;
            var goalDepth = _found >= 0 ? _depth[_found] : atFloor ? _depth[_best] : int.MaxValue;
            if (node == _found || _depth[node] >= _maxLength || _depth[node] + (atFloor ? 1 : LeadCost(node)) >= goalDepth)
            {
                continue;
            }

            var low = NextConstraints(node);
            if (low < 0)
            {
                continue;
            }

            visits++;
            _visits[node]++;
            if (_queueHead[node] >= 0)
            {
                Push(node); // back in line, a little later for each visit: its other successors wait their turn
            }

            Decode(_keys[node], _cur);
            Array.Fill(_next, NoPose, 0, _robots);
            for (var l = low; _low[l].Depth > 0; l = _low[l].Parent)
            {
                _next[_low[l].Who] = _low[l].Pose;
            }

            if (!Generate(_order[node]))
            {
                continue;
            }

            ulong key = 0;
            for (var r = 0; r < _robots; r++)
            {
                key |= (ulong)_next[r] << (BitsPerRobot * r);
            }

            var hadGoal = _found >= 0 || _bestCost <= _progressFloor;
            if (_seen.TryGetValue(key, out var known))
            {
                AddEdge(node, known);
                if (_depth[node] + 1 < _depth[known])
                {
                    Rewire(node, known);
                    Push(known);
                }
            }
            else
            {
                var child = AddLazyNode(key, node);
                AddEdge(node, child);
                Push(child);
            }

            if (!hadGoal && (_found >= 0 || _bestCost <= _progressFloor))
            {
                refineUntil = Math.Min(visitCap, 2L * visits);
            }
        }

        var end = _found >= 0 ? _found : _best;
        if (end < 0 || end == root)
        {
            return Empty(JointSearchStatus.NotFound, string.Empty, visits);
        }

        return Reconstruct(end, _found >= 0 ? JointSearchStatus.Solved : JointSearchStatus.Progress, visits);
    }

    private void EnsureLazyCapacity(int n)
    {
        if (_queueHead.Length < n)
        {
            _queueHead = new int[n];
            _queueTail = new int[n];
            _edgeHead = new int[n];
            _order = new int[n];
            _visits = new int[n];
            _priority = new float[n * MaxRobots];
        }
    }

    // Best-first order over the high-level nodes: steps so far, the lead's table distance, the moves
    // the robots ahead of it on its path need to get off it, and the successors already tried.
    private void Push(int node)
    {
        var key = _keys[node];
        var lead = (int)(key & ((1UL << BitsPerRobot) - 1));
        var leadIndex = _pathIndex[lead >> 2];
        long f = _depth[node] + (long)_leadCost[lead] + (VisitPenalty * (long)_visits[node]);
        for (var r = 1; r < _robots; r++)
        {
            var pose = (int)((key >> (BitsPerRobot * r)) & ((1UL << BitsPerRobot) - 1));
            if (_pathIndex[pose >> 2] > leadIndex)
            {
                f += Math.Min(_clearCost[pose], MaxClearPenalty);
            }
        }

        _open.Enqueue(node, (f << 16) | (long)(0xFFFF - Math.Min(_depth[node], 0xFFFF)));
    }

    private int LeadCost(int node) => _leadCost[(int)(_keys[node] & ((1UL << BitsPerRobot) - 1))];

    private int CostOf(int robot, int pose) => robot == 0 ? _leadCost[pose] : _clearCost[pose];

    // The other robots have no goal: they are guided off the lead's descent path (fewest moves to a
    // cell not on it), which is what making way means; the constraint tree covers every other choice.
    private void BuildClearCost()
    {
        var poses = _windowCells * 4;
        int head = 0, tail = 0;
        for (var p = 0; p < poses; p++)
        {
            if (_pathIndex[p >> 2] < 0)
            {
                _clearCost[p] = 0;
                _bfs[tail++] = p;
            }
            else
            {
                _clearCost[p] = FarFromClear;
            }
        }

        // Backwards over the action model: (c, h) is reached by a turn from (c, h +- 1) and by a
        // move forward from the cell behind it.
        while (head < tail)
        {
            var p = _bfs[head++];
            var cell = p >> 2;
            var h = p & 3;
            var d = _clearCost[p] + 1;
            var behind = _forward[(cell * 4) + ((h + 2) & 3)];
            Span<int> before = [(cell * 4) + ((h + 1) & 3), (cell * 4) + ((h + 3) & 3), behind >= 0 ? (behind * 4) + h : -1];
            foreach (var q in before)
            {
                if (q >= 0 && _clearCost[q] > d)
                {
                    _clearCost[q] = d;
                    _bfs[tail++] = q;
                }
            }
        }
    }

    private int AddLazyNode(ulong key, int parent)
    {
        var node = _generated++;
        _keys[node] = key;
        _parent[node] = parent;
        _depth[node] = parent < 0 ? 0 : _depth[parent] + 1;
        _seen[key] = node;
        _edgeHead[node] = -1;
        _visits[node] = 0;
        var rootLow = NewLow(-1, -1, NoPose, 0);
        _queueHead[node] = rootLow;
        _queueTail[node] = rootLow;

        // Priorities as in PIBT: a robot's grows while it is away from where it wants to be and falls
        // back (keeping its fraction, a tie-break) when it gets there; the lead always comes first.
        Span<int> pose = stackalloc int[MaxRobots];
        Span<float> key2 = stackalloc float[MaxRobots];
        Span<int> order = stackalloc int[MaxRobots];
        for (var r = 0; r < _robots; r++)
        {
            pose[r] = (int)((key >> (BitsPerRobot * r)) & ((1UL << BitsPerRobot) - 1));
            var cost = CostOf(r, pose[r]);
            float prio;
            if (parent < 0)
            {
                prio = cost / (float)(FarFromClear * 2);
            }
            else
            {
                var before = _priority[(parent * MaxRobots) + r];
                prio = cost != 0 ? before + 1 : before - MathF.Floor(before);
            }

            _priority[(node * MaxRobots) + r] = prio;
            order[r] = r;
            key2[r] = r == 0 ? float.NegativeInfinity : -prio;
        }

        key2[.._robots].Sort(order[.._robots]);
        var packed = 0;
        for (var k = 0; k < _robots; k++)
        {
            packed |= order[k] << (3 * k);
        }

        _order[node] = packed;
        var lead = pose[0];
        if (lead >> 2 == _goalLocal)
        {
            if (_found < 0 || _depth[node] < _depth[_found])
            {
                _found = node;
            }

            return node;
        }

        TrackBest(node);
        return node;
    }

    private void TrackBest(int node)
    {
        var cost = LeadCost(node);
        var depth = _depth[node];
        if (depth > 0 && cost < _threshold && (cost < _bestCost || (cost == _bestCost && depth < _depth[_best])))
        {
            _best = node;
            _bestCost = cost;
        }
    }

    private int NewLow(int parent, int who, int pose, int depth)
    {
        _low.Add(new LowNode(parent, who, pose, depth));
        var index = _low.Count - 1;
        if (_lowNext.Length <= index)
        {
            Array.Resize(ref _lowNext, Math.Max(1024, _lowNext.Length * 2));
        }

        _lowNext[index] = -1;
        return index;
    }

    // The node's next constraint set (breadth-first over its constraint tree), adding the children
    // of the one taken: every legal pose of the next robot in the node's order, preferred first.
    private int NextConstraints(int node)
    {
        var low = _queueHead[node];
        if (low < 0)
        {
            return -1;
        }

        _queueHead[node] = _lowNext[low];
        var depth = _low[low].Depth;
        if (depth < _robots)
        {
            var who = (_order[node] >> (3 * depth)) & 7;
            var pose = (int)((_keys[node] >> (BitsPerRobot * who)) & ((1UL << BitsPerRobot) - 1));
            Span<int> options = stackalloc int[4];
            var count = Options(who, pose, options);
            for (var k = 0; k < count; k++)
            {
                var child = NewLow(low, who, options[k], depth + 1);
                if (_queueHead[node] < 0)
                {
                    _queueHead[node] = child;
                }
                else
                {
                    _lowNext[_queueTail[node]] = child;
                }

                _queueTail[node] = child;
            }
        }

        return low;
    }

    // The robot's next poses under the LoRR actions (forward only inside the window), best first by
    // its own cost, ties by its action rank.
    private int Options(int robot, int pose, Span<int> into)
    {
        var cell = pose >> 2;
        var h = pose & 3;
        var rank = robot == 0 ? LeadRank : OtherRank;
        Span<int> keys = stackalloc int[4];
        var count = 0;
        for (var a = 0; a < 4; a++)
        {
            int to;
            if (a == 0)
            {
                var nb = _forward[(cell * 4) + h];
                if (nb < 0)
                {
                    continue;
                }

                to = (nb * 4) + h;
            }
            else
            {
                to = a switch { 1 => (cell * 4) + ((h + 1) & 3), 2 => (cell * 4) + ((h + 3) & 3), _ => pose };
            }

            var sortKey = (CostOf(robot, to) * 4) + rank[a];
            var at = count++;
            while (at > 0 && keys[at - 1] > sortKey)
            {
                keys[at] = keys[at - 1];
                into[at] = into[at - 1];
                at--;
            }

            keys[at] = sortKey;
            into[at] = to;
        }

        return count;
    }

    // Completes _next (constraints already set) from _cur by PIBT in the node's order; false when the
    // constraints conflict, a robot cannot be placed or, under NoCycles, the step has a rotation cycle.
    private bool Generate(int packedOrder)
    {
        var ok = true;
        for (var r = 0; r < _robots; r++)
        {
            _occNow[_cur[r] >> 2] = r;
        }

        for (var r = 0; r < _robots && ok; r++)
        {
            if (_next[r] == NoPose)
            {
                continue;
            }

            var toCell = _next[r] >> 2;
            var occupant = _occNow[toCell];
            if (_occNext[toCell] >= 0 || (occupant >= 0 && occupant != r && _next[occupant] != NoPose && _next[occupant] >> 2 == _cur[r] >> 2))
            {
                ok = false;
            }
            else
            {
                _occNext[toCell] = r;
            }
        }

        for (var k = 0; k < _robots && ok; k++)
        {
            var r = (packedOrder >> (3 * k)) & 7;
            if (_next[r] == NoPose && !Plan(r))
            {
                ok = false;
            }
        }

        for (var r = 0; r < _robots; r++)
        {
            _occNow[_cur[r] >> 2] = -1;
            if (_next[r] != NoPose)
            {
                _occNext[_next[r] >> 2] = -1;
            }
        }

        return ok && !(_noCycles && HasCycle());
    }

    // PIBT with headings: the robot tries its poses best first; moving into an occupied cell makes
    // the occupant plan first and leave (priority inheritance), which it can only do forward; a
    // pushed robot that cannot leave stays and turns toward where it wants to be, so the next
    // configuration can move it.
    private bool Plan(int r)
    {
        var from = _cur[r];
        var fromCell = from >> 2;
        Span<int> options = stackalloc int[4];
        var count = Options(r, from, options);
        for (var k = 0; k < count; k++)
        {
            var to = options[k];
            var toCell = to >> 2;
            if (_occNext[toCell] >= 0)
            {
                continue;
            }

            var occupant = toCell == fromCell ? -1 : _occNow[toCell];
            if (occupant >= 0 && _next[occupant] != NoPose && (_next[occupant] >> 2 == fromCell || (_noCycles && ClosesCycle(r, toCell))))
            {
                continue; // a swap, or a ring of robots following each other
            }

            _occNext[toCell] = r;
            _next[r] = to;
            if (occupant >= 0 && _next[occupant] == NoPose && !Plan(occupant))
            {
                continue; // the occupant stays (Plan took its cell back): try the next pose
            }

            return true;
        }

        // Nothing left: stay, turning the way it prefers (a turn or a wait never leaves the cell).
        var stay = from;
        for (var k = count - 1; k >= 0; k--)
        {
            if (options[k] >> 2 == fromCell)
            {
                stay = options[k];
            }
        }

        _occNext[fromCell] = r;
        _next[r] = stay;
        return false;
    }

    // Whether robot r moving into toCell closes a ring: following the decided moves from toCell's
    // occupant leads back into r's own cell.
    private bool ClosesCycle(int r, int toCell)
    {
        var fromCell = _cur[r] >> 2;
        var cell = toCell;
        for (var hops = 0; hops <= _robots; hops++)
        {
            var k = _occNow[cell];
            if (k < 0 || _next[k] == NoPose || _next[k] >> 2 == cell)
            {
                return false;
            }

            cell = _next[k] >> 2;
            if (cell == fromCell)
            {
                return true;
            }
        }

        return false;
    }

    private void AddEdge(int from, int to)
    {
        _edges.Add(new Edge(to, _edgeHead[from]));
        _edgeHead[from] = _edges.Count - 1;
    }

    // LaCAM*: a shorter way into a known state shortens the plans of every state reached from it.
    private void Rewire(int from, int to)
    {
        _parent[to] = from;
        _depth[to] = _depth[from] + 1;
        _rewire.Clear();
        _rewire.Enqueue(to);
        while (_rewire.Count > 0)
        {
            var n = _rewire.Dequeue();
            if (n == _found)
            {
                continue;
            }

            TrackBest(n);
            for (var e = _edgeHead[n]; e >= 0; e = _edges[e].Next)
            {
                var m = _edges[e].To;
                if (_depth[n] + 1 < _depth[m])
                {
                    _parent[m] = n;
                    _depth[m] = _depth[n] + 1;
                    _rewire.Enqueue(m);
                }
            }
        }
    }

    private readonly record struct LowNode(int Parent, int Who, int Pose, int Depth);

    private readonly record struct Edge(int To, int Next);
}
