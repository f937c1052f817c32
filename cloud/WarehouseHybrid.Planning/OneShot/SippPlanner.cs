namespace WarehouseHybrid.Planning.OneShot;

/// <summary>
/// Safe-interval path planning (SIPP; Phillips and Likhachev, ICRA 2011) for one agent against the
/// fixed paths of a <see cref="SpaceTimeTable"/>: a state is a cell and one of its safe intervals
/// (maximal times no other agent is there), reached at its earliest time; waiting is implicit.
/// A* ordered by arrival time plus the agent's exact distance to goal finds the earliest time the
/// agent can reach its goal in the goal's last, endless safe interval and stay, i.e. the least cost
/// under the sum-of-costs rule. Vertex and swap conflicts with the table are avoided; following is
/// allowed. Buffers are reused between searches; one instance per thread.
/// </summary>
internal sealed class SippPlanner
{
    private readonly MapfProblem _problem;
    private readonly AgentDistances _dist;
    private readonly SpaceTimeTable _table;
    private readonly int[] _cellStamp;
    private readonly int[] _cellOffset;
    private readonly int[] _cellCount;
    private readonly PriorityQueue<int, long> _open = new();
    private int _stamp;
    private int _used;
    private int _self;
    private int _blockedCell = -1;
    private int _blockedFrom;
    private int _lo;
    private int _hi = SpaceTimeTable.Forever;
    private int[] _ivStart = new int[1024];
    private int[] _ivEnd = new int[1024];
    private int[] _ivCell = new int[1024];
    private int[] _g = new int[1024];
    private int[] _parent = new int[1024];
    private bool[] _closed = new bool[1024];

    public SippPlanner(MapfProblem problem, AgentDistances distances, SpaceTimeTable table)
    {
        _problem = problem;
        _dist = distances;
        _table = table;
        var cells = problem.Map.CellCount;
        _cellStamp = new int[cells];
        _cellOffset = new int[cells];
        _cellCount = new int[cells];
    }

    /// <summary>Polled every 1,024 expansions; a search asked to stop returns null (the time budget is hard).</summary>
    public Func<bool>? ShouldStop { get; set; }

    /// <summary>States expanded by the last search.</summary>
    public int LastExpansions { get; private set; }

    /// <summary>
    /// The cheapest path of <paramref name="agent"/> from its start to its goal with cost at most
    /// <paramref name="maxCost"/>, or null when there is none or the search expands more than
    /// <paramref name="expansionLimit"/> states.
    /// </summary>
    public int[]? Plan(int agent, int maxCost, int expansionLimit) =>
        Search(agent, _problem.StartArray[agent], 0, _problem.GoalArray[agent], SpaceTimeTable.Forever, maxCost, expansionLimit, -1, 0);

    /// <summary>
    /// A path of <paramref name="agent"/> that is at <paramref name="fromCell"/> at time
    /// <paramref name="fromTime"/> and at <paramref name="toCell"/> at time <paramref name="toTime"/>
    /// (arriving early and waiting there), as the cells of times fromTime..toTime; null when there
    /// is none or the search expands more than <paramref name="expansionLimit"/> states.
    /// The agent's own runs in the table are ignored (its old path may stay there while it is
    /// replanned); <paramref name="blockedCell"/> counts as taken from <paramref name="blockedFrom"/>
    /// on (-1: none), for a goal about to be held by an agent not yet in the table.
    /// </summary>
    public int[]? PlanWindow(int agent, int fromCell, int fromTime, int toCell, int toTime, int expansionLimit, int blockedCell, int blockedFrom) =>
        Search(agent, fromCell, fromTime, toCell, toTime, toTime, expansionLimit, blockedCell, blockedFrom);

    /// <summary>
    /// A path of <paramref name="agent"/> that is at <paramref name="fromCell"/> at time
    /// <paramref name="fromTime"/> and then reaches its goal for good by <paramref name="maxArrival"/>,
    /// as the cells of times fromTime..arrival; own runs ignored and <paramref name="blockedCell"/>
    /// taken from <paramref name="blockedFrom"/> on, as in <see cref="PlanWindow"/>.
    /// </summary>
    public int[]? PlanSuffix(int agent, int fromCell, int fromTime, int maxArrival, int expansionLimit, int blockedCell, int blockedFrom) =>
        Search(agent, fromCell, fromTime, _problem.GoalArray[agent], SpaceTimeTable.Forever, maxArrival, expansionLimit, blockedCell, blockedFrom);

    // toTime == Forever: reach toCell in its endless last safe interval (the goal), distances from
    // the agent's table; otherwise be at toCell at toTime, Manhattan distances.
    private int[]? Search(int agent, int fromCell, int fromTime, int toCell, int toTime, int maxArrival, int expansionLimit, int blockedCell, int blockedFrom)
    {
        var final = toTime == SpaceTimeTable.Forever;
        _self = agent;
        _blockedCell = blockedCell;
        _blockedFrom = blockedFrom;
        _lo = fromTime;
        _hi = toTime;
        var map = _problem.Map;
        LastExpansions = 0;
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_cellStamp);
            _stamp = 1;
        }

        _used = 0;
        _open.Clear();
        // Order by the agent's table (guidance when lanes are on); prune only by an admissible bound.
        var exact = _dist.IsExact;
        var h0 = final ? _dist.Get(agent, fromCell) : map.Manhattan(fromCell, toCell);
        if ((long)fromTime + (final && !exact ? map.Manhattan(fromCell, toCell) : h0) > maxArrival)
        {
            return null;
        }

        Intervals(fromCell, out var off0, out var cnt0);
        var s0 = -1;
        for (var q = 0; q < cnt0; q++)
        {
            if (_ivStart[off0 + q] <= fromTime && fromTime <= _ivEnd[off0 + q])
            {
                s0 = off0 + q;
                break;
            }
        }

        if (s0 < 0)
        {
            return null; // someone else holds the start cell at the start time
        }

        _g[s0] = fromTime;
        _parent[s0] = -1;
        _open.Enqueue(s0, Key(fromTime + h0, fromTime));
        var nbr = _problem.NeighbourArray;
        var deg = _problem.DegreeArray;
        while (_open.TryDequeue(out var s, out _))
        {
            if (_closed[s])
            {
                continue;
            }

            _closed[s] = true;
            var v = _ivCell[s];
            var t = _g[s];
            var b = _ivEnd[s];
            if (v == toCell && (final ? b == SpaceTimeTable.Forever : b >= toTime))
            {
                return Reconstruct(s, fromTime, final ? t : toTime);
            }

            if (++LastExpansions > expansionLimit || ((LastExpansions & 1023) == 0 && ShouldStop is { } stop && stop()))
            {
                return null;
            }

            // Latest arrival at a neighbour: one step after the last moment v is safe.
            var latest = b == SpaceTimeTable.Forever ? SpaceTimeTable.Forever : b + 1;
            for (var k = 0; k < deg[v]; k++)
            {
                var u = nbr[(v * 4) + k];
                var h = final ? _dist.Get(agent, u) : map.Manhattan(u, toCell);
                var bound = final && !exact ? map.Manhattan(u, toCell) : h;
                if ((long)t + 1 + bound > maxArrival)
                {
                    continue;
                }

                Intervals(u, out var off, out var cnt);
                for (var q = 0; q < cnt; q++)
                {
                    var c = _ivStart[off + q];
                    var d = _ivEnd[off + q];
                    if (c > latest)
                    {
                        break;
                    }

                    if (d <= t)
                    {
                        continue;
                    }

                    var arrive = Math.Max(t + 1, c);
                    if ((long)arrive + bound > maxArrival)
                    {
                        break;
                    }

                    // A swap is only possible when u was taken just before and v is taken just after.
                    if (arrive == c && arrive == latest && b != SpaceTimeTable.Forever)
                    {
                        var other = _table.OccupantAt(u, arrive - 1);
                        if (other >= 0 && other != agent && _table.OccupantAt(v, arrive) == other)
                        {
                            continue;
                        }
                    }

                    var s2 = off + q;
                    if (_closed[s2] || _g[s2] <= arrive)
                    {
                        continue;
                    }

                    _g[s2] = arrive;
                    _parent[s2] = s;
                    _open.Enqueue(s2, Key(arrive + h, arrive));
                }
            }
        }

        return null;
    }

    // f first; among equal f, later arrivals first (closer to the goal).
    private static long Key(int f, int g) => ((long)f << 32) | (uint)(int.MaxValue - g);

    // The cells of times fromTime..untilTime, waiting at each state's cell until the next arrival.
    private int[] Reconstruct(int s, int fromTime, int untilTime)
    {
        var path = new int[untilTime - fromTime + 1];
        var end = path.Length;
        while (s >= 0)
        {
            var arrive = _g[s] - fromTime;
            path.AsSpan(arrive, end - arrive).Fill(_ivCell[s]);
            end = arrive;
            s = _parent[s];
        }

        return path;
    }

    private void Intervals(int cell, out int offset, out int count)
    {
        if (_cellStamp[cell] == _stamp)
        {
            offset = _cellOffset[cell];
            count = _cellCount[cell];
            return;
        }

        // Only the search's time range matters: gaps are clipped to [_lo, _hi] (and before a
        // blocked goal), which keeps window searches independent of the horizon.
        offset = _used;
        var prevEnd = _lo - 1;
        var runs = _table.RunCount(cell);
        var cap = cell == _blockedCell ? Math.Min(_hi, _blockedFrom - 1) : _hi;
        for (var k = Math.Max(0, _table.LastStartingAtOrBefore(cell, _lo)); k < runs && prevEnd < cap; k++)
        {
            ref readonly var r = ref _table.RunAt(cell, k);
            if (r.Agent == _self || r.End < _lo)
            {
                continue; // the agent's own old path is being replaced
            }

            if (r.Start > prevEnd + 1)
            {
                Append(cell, prevEnd + 1, Math.Min(r.Start - 1, cap));
            }

            prevEnd = Math.Max(prevEnd, r.End);
        }

        if (prevEnd < cap)
        {
            Append(cell, prevEnd + 1, cap);
        }

        count = _used - offset;
        _cellStamp[cell] = _stamp;
        _cellOffset[cell] = offset;
        _cellCount[cell] = count;
    }

    private void Append(int cell, int start, int end)
    {
        if (_used == _ivStart.Length)
        {
            var size = _used * 2;
            Array.Resize(ref _ivStart, size);
            Array.Resize(ref _ivEnd, size);
            Array.Resize(ref _ivCell, size);
            Array.Resize(ref _g, size);
            Array.Resize(ref _parent, size);
            Array.Resize(ref _closed, size);
        }

        _ivStart[_used] = start;
        _ivEnd[_used] = end;
        _ivCell[_used] = cell;
        _g[_used] = int.MaxValue;
        _closed[_used] = false;
        _used++;
    }
}
