using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;

namespace WarehouseHybrid.Planning.Jams;

/// <summary>
/// The planner's complete local fallback for jams (ADR 0007, "Deadlock in one-wide corridors")
/// where PIBT's own guarantee fails: at bridges of the map (<see cref="TreeCells"/>). Each step it checks, in one pass over the robots, whether some robot holding a task has gone
/// <see cref="JamAfterSteps"/> steps without a new least distance to its goal; for the longest
/// stalled such robots it takes the robots nearest it (at most <see cref="GroupSize"/>) and, when
/// none of those holding a task has made progress for half as long either (a jam, not a queue that
/// flows) and one of them, or the seed's goal, is at a bridge, solves them jointly with <see cref="JointSearch"/> in a window around them, every other
/// robot static. A plan found is a commitment: the group's robots follow it step by step (the
/// router holds them and keeps every other robot off the cells the plan still uses), then return
/// to normal planning. A commitment whose robots are not where the plan says (a step not carried
/// out, a robot stopped) is dropped. When no plan brings the lead nearer its goal, the group's
/// tasks that may still move (<see cref="Resolve"/>'s <c>mayExchange</c>) are offered to the
/// group's robots again, pair by pair (<see cref="Exchanges"/>): on a one-wide path two robots
/// can never pass, and a task beyond the other robot is feasible only for that robot.
/// Pure; not thread-safe; one per planner.
/// </summary>
public sealed class JamResolver
{
    private const int MaxSearchesPerStep = 2;
    private const int MaxWindowRadius = 32;

    private readonly GridMap _map;
    private readonly JointSearch _search;
    private readonly TreeCells _tree;
    private readonly List<Commitment> _active = new();
    private readonly bool[] _committed;
    private readonly long[] _retryAt;   // robot -> step before which it is not tried as a seed again
    private readonly long[] _followUp;  // robot -> last step it may seed a follow-up search (its group's plan just ended)
    private readonly int[] _occupant;   // cell -> robot + 1 (filled only while resolving)
    private readonly int[] _reserved;   // cell -> stamp when a commitment reserves it
    private readonly List<int> _keepOut = new();
    private readonly List<int> _group = new();
    private readonly List<int> _traders = new();
    private readonly List<(int A, int B)> _exchanges = new();
    private readonly List<(long Gain, int A, int B)> _pairs = new();
    private readonly List<int> _bfs = new();
    private readonly int[] _bfsSeen;
    private int _bfsStamp;
    private int _reserveStamp;
    private long _step;
    private int _members;      // robots this step that may be seeds or group members (the shortest span)

    /// <summary>
    /// Drops every commitment and keep-out cell, as after a planner fault: the plans were made on a state the
    /// planner no longer trusts, and a robot held by a plan nobody follows would stay held.
    /// </summary>
    public void Reset()
    {
        _active.Clear();
        Array.Clear(_committed);
        _keepOut.Clear();
        _exchanges.Clear();
    }

    /// <summary>Creates a resolver for <paramref name="robotCount"/> robots on <paramref name="map"/>.</summary>
    public JamResolver(GridMap map, int robotCount)
    {
        ArgumentNullException.ThrowIfNull(map);
        _map = map;
        _search = new JointSearch(map);
        _tree = new TreeCells(map);
        _committed = new bool[robotCount];
        _retryAt = new long[robotCount];
        _followUp = new long[robotCount];
        _occupant = new int[map.CellCount];
        _reserved = new int[map.CellCount];
        _bfsSeen = new int[map.CellCount];
    }

    /// <summary>Steps without a new least distance to the goal after which a robot counts as stalled (at least 2).</summary>
    public int JamAfterSteps { get; init; } = 10;

    /// <summary>Most robots solved together (1 to <see cref="JointSearch.MaxRobots"/>).</summary>
    public int GroupSize { get; init; } = 6;

    /// <summary>Cells around the group the joint search may use, in moves from its robots (a last try reaches up to 32 moves, to the lead's goal).</summary>
    public int WindowRadius { get; init; } = 6;

    /// <summary>Joint states one search may generate.</summary>
    public int NodeCap { get; init; } = 40_000;

    /// <summary>Longest plan (steps) one search may return.</summary>
    public int MaxPlanLength { get; init; } = 48;

    /// <summary>Refuse rotation cycles in joint plans (<see cref="Routing.EpibtRouter.NoCycles"/>).</summary>
    public bool NoCycles { get; init; }

    /// <summary>Per robot: true while it follows a joint plan (the router must hold it).</summary>
    public ReadOnlySpan<bool> Committed => _committed;

    /// <summary>Cells no robot outside a commitment may enter this step (the cells the active plans still use).</summary>
    public IReadOnlyList<int> KeepOut => _keepOut;

    /// <summary>Commitments being followed.</summary>
    public int ActiveCount => _active.Count;

    /// <summary>Joint searches run so far.</summary>
    public long Searches { get; private set; }

    /// <summary>Joint plans committed to so far.</summary>
    public long Plans { get; private set; }

    /// <summary>Commitments dropped because the robots were not where the plan said.</summary>
    public long Dropped { get; private set; }

    /// <summary>Task exchanges between two robots of a jam made so far (see <see cref="Exchanges"/>).</summary>
    public long Swaps { get; private set; }

    /// <summary>
    /// The pairs of robots whose tasks this step's <see cref="Resolve"/> exchanged, in order (an
    /// idle robot in a pair takes the other's task, which leaves that one idle). The resolver has
    /// already exchanged their entries of the goal tables it was given; the caller must exchange
    /// the tasks themselves the same way.
    /// </summary>
    public IReadOnlyList<(int A, int B)> Exchanges => _exchanges;

    /// <summary>
    /// One step: drops or advances the commitments against <paramref name="poses"/>, then looks for
    /// new jams. <paramref name="tables"/>: each robot's goal table (null: no task);
    /// <paramref name="noGain"/> / <paramref name="bestDistance"/>: steps since each robot's last
    /// new least distance to its goal and that distance; <paramref name="frozen"/>: robots that
    /// may not move (static for the search). <paramref name="shouldStop"/> bounds the searches.
    /// <paramref name="mayExchange"/> (null: never): whether a robot's task may move to another
    /// robot of its jam and the robot take another's task in exchange (an idle robot: whether it
    /// may take one); the caller answers it by its rules (not started, not pinned, reassignment
    /// allowed in this mode). Entries of <paramref name="tables"/> are exchanged with the tasks
    /// (<see cref="Exchanges"/>). Afterwards <see cref="Committed"/> and <see cref="KeepOut"/> describe this step.
    /// </summary>
    public void Resolve(
        ReadOnlySpan<RobotPose> poses,
        GoalDistanceTable?[] tables,
        ReadOnlySpan<int> noGain,
        ReadOnlySpan<int> bestDistance,
        ReadOnlySpan<bool> frozen,
        Func<bool> shouldStop,
        Func<int, bool>? mayExchange = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(shouldStop);
        _exchanges.Clear();
        _step++;

        // Robots past the end of a shorter span are never seeds nor group members; every robot on
        // the map is an obstacle to the searches all the same.
        var onMap = Math.Min(poses.Length, _committed.Length);
        var n = Math.Min(onMap, Math.Min(tables.Length, Math.Min(noGain.Length, bestDistance.Length)));
        _members = n;

        if (_active.Count > 0)
        {
            Advance(poses, frozen);
        }

        // Cheap path, every step: one pass for a stalled robot; nothing else unless one exists or a plan is active.
        var seeds = (Span<int>)stackalloc int[MaxSearchesPerStep];
        var found = FindSeeds(n, tables, noGain, seeds);
        if (found == 0 && _active.Count == 0)
        {
            _keepOut.Clear();
            return;
        }

        for (var i = 0; i < onMap; i++)
        {
            if (_map.InBounds(poses[i].Cell))
            {
                _occupant[poses[i].Cell] = i + 1;
            }
        }

        try
        {
            ReserveActive();
            for (var s = 0; s < found && !shouldStop(); s++)
            {
                TrySeed(seeds[s], poses, tables, noGain, bestDistance, frozen, shouldStop, mayExchange);
            }

            RebuildKeepOut();
        }
        finally
        {
            for (var i = 0; i < onMap; i++)
            {
                if (_map.InBounds(poses[i].Cell))
                {
                    _occupant[poses[i].Cell] = 0;
                }
            }
        }
    }

    /// <summary>Writes the committed robots' actions for this step into <paramref name="actions"/> and moves the plans on.</summary>
    public void Apply(Span<RobotAction> actions)
    {
        foreach (var c in _active)
        {
            for (var r = 0; r < c.Robots.Length; r++)
            {
                if ((uint)c.Robots[r] < (uint)actions.Length)
                {
                    actions[c.Robots[r]] = c.Plan.Actions[c.Cursor][r];
                }
            }

            c.Cursor++;
            c.Applied = true;
        }
    }

    // The stalled robots (holding a task, no new least distance for JamAfterSteps) with the most
    // steps stalled, skipping committed ones and those in their retry pause.
    private int FindSeeds(int n, GoalDistanceTable?[] tables, ReadOnlySpan<int> noGain, Span<int> seeds)
    {
        var count = 0;
        for (var i = 0; i < n; i++)
        {
            var followUp = _followUp[i] >= _step;
            if (noGain[i] < (followUp ? 1 : JamAfterSteps) || tables[i] is null || _committed[i] || (!followUp && _retryAt[i] > _step))
            {
                continue;
            }

            // Insert into the short list kept sorted by steps stalled, most first.
            var at = Math.Min(count, seeds.Length);
            while (at > 0 && noGain[seeds[at - 1]] < noGain[i])
            {
                at--;
            }

            if (at < seeds.Length)
            {
                for (var k = Math.Min(count, seeds.Length - 1); k > at; k--)
                {
                    seeds[k] = seeds[k - 1];
                }

                seeds[at] = i;
                count = Math.Min(count + 1, seeds.Length);
            }
        }

        return count;
    }

    // Each commitment's robots must stand where its plan says after the steps applied (a step
    // not carried out, e.g. an all-wait fallback, is retried); otherwise it is dropped.
    private void Advance(ReadOnlySpan<RobotPose> poses, ReadOnlySpan<bool> frozen)
    {
        for (var k = _active.Count - 1; k >= 0; k--)
        {
            var c = _active[k];
            if (c.Applied && !Matches(c, c.Cursor, poses) && Matches(c, c.Cursor - 1, poses))
            {
                c.Cursor--; // the last step was not executed
            }

            c.Applied = false;
            var keep = c.Cursor < c.Plan.Length && Matches(c, c.Cursor, poses);
            foreach (var robot in c.Robots)
            {
                keep &= robot >= frozen.Length || !frozen[robot];
            }

            if (!keep)
            {
                if (c.Cursor < c.Plan.Length)
                {
                    Dropped++;
                }
                else if (c.Plan.Status == JointSearchStatus.Solved)
                {
                    // Carried out, the lead on its goal: the rest of the group may still be jammed
                    // (the lead now stands at the end of the dead end the others want), so its
                    // robots that have not gained may seed the next search at once instead of
                    // stalling again first.
                    foreach (var robot in c.Robots)
                    {
                        _followUp[robot] = _step + 1;
                    }
                }

                Release(k);
            }
        }
    }

    private static bool Matches(Commitment c, int t, ReadOnlySpan<RobotPose> poses)
    {
        if (t < 0 || t >= c.Plan.Poses.Count)
        {
            return false;
        }

        var expected = c.Plan.Poses[t];
        for (var r = 0; r < c.Robots.Length; r++)
        {
            if (c.Robots[r] >= poses.Length || poses[c.Robots[r]] != expected[r])
            {
                return false;
            }
        }

        return true;
    }

    private void Release(int k)
    {
        foreach (var robot in _active[k].Robots)
        {
            _committed[robot] = false;
        }

        _active.RemoveAt(k);
    }

    // Marks the cells the active plans still use (from their current step on).
    private void ReserveActive()
    {
        _reserveStamp++;
        if (_reserveStamp == int.MaxValue)
        {
            Array.Clear(_reserved);
            _reserveStamp = 1;
        }

        foreach (var c in _active)
        {
            Reserve(c);
        }
    }

    private void Reserve(Commitment c)
    {
        for (var t = c.Cursor; t < c.Plan.Poses.Count; t++)
        {
            foreach (var p in c.Plan.Poses[t])
            {
                _reserved[p.Cell] = _reserveStamp;
            }
        }
    }

    private void RebuildKeepOut()
    {
        _keepOut.Clear();
        foreach (var c in _active)
        {
            for (var t = c.Cursor; t < c.Plan.Poses.Count; t++)
            {
                foreach (var p in c.Plan.Poses[t])
                {
                    _keepOut.Add(p.Cell);
                }
            }
        }
    }

    private void TrySeed(int seed, ReadOnlySpan<RobotPose> poses, GoalDistanceTable?[] tables, ReadOnlySpan<int> noGain, ReadOnlySpan<int> bestDistance, ReadOnlySpan<bool> frozen, Func<bool> shouldStop, Func<int, bool>? mayExchange)
    {
        // Not again for a while, whatever comes of it (a success resets the lead's stall anyway).
        var followUp = _followUp[seed] >= _step;
        _retryAt[seed] = _step + JamAfterSteps;
        _followUp[seed] = 0;
        if (_committed[seed] || tables[seed] is null || !_map.IsPassable(poses[seed].Cell) || _reserved[poses[seed].Cell] == _reserveStamp || (seed < frozen.Length && frozen[seed]))
        {
            return;
        }

        CollectGroup(seed, poses, frozen);

        // A jam: nobody of the group holding a task has gained for a while (else it is a queue that
        // flows), unless the group is the one whose plan just ended.
        foreach (var robot in _group)
        {
            if (!followUp && tables[robot] is not null && noGain[robot] < JamAfterSteps / 2)
            {
                return;
            }
        }

        // Only where the way runs over a bridge (a dead end, a one-wide tree corridor): elsewhere
        // every edge is on a cycle, PIBT's own guarantee holds, and a commitment would only hold
        // up the traffic around it (measured on the 10,000-robot warehouse; ADR 0007).
        var overBridge = _tree.OnBridge(tables[seed]!.GoalCell);
        foreach (var robot in _group)
        {
            overBridge |= _tree.OnBridge(poses[robot].Cell);
        }

        if (!overBridge)
        {
            return;
        }

        Searches++;
        var exchangesBefore = _exchanges.Count;
        var unlimited = long.MaxValue; // each of these searches has the whole node cap
        var plan = SmallestFirst(poses, tables[seed]!, bestDistance[seed], WindowRadius, ref unlimited, shouldStop, out var members);
        if (plan is null && mayExchange is not null && !shouldStop())
        {
            plan = TryExchanges(poses, tables, mayExchange, shouldStop, out members);
        }

        // Then, for a pair, the same search in a window that reaches the lead's goal: on a long
        // one-wide path the robot ahead of the lead has to back out beyond the default radius before
        // the lead can gain at all (e.g. a robot whose started task lies beyond another robot, which
        // no exchange may fix). Only now, with its own budget of NodeCap states, only for a group of
        // two with no other free robot within the wider window, and only a plan that reaches the goal:
        // a wider window in every search froze 7 of 96 six-robot pocket runs; this stage for groups of
        // any size froze 24 of 96 four-robot T-corridor runs, and for a pair with other robots around
        // 6 of 24 (its plan's cells, kept from every other robot while it runs, held them over 40 steps).
        if (plan is null && _group.Count <= 2 && _exchanges.Count == exchangesBefore && tables[seed] is { } leadTable
            && WideRadius(leadTable, poses[seed]) is var wide && wide > WindowRadius && GoalOutsideWindow(leadTable, poses) && AloneWithin(seed, poses, frozen, wide) && !shouldStop())
        {
            long budget = NodeCap;
            plan = SmallestFirst(poses, leadTable, bestDistance[seed], wide, ref budget, shouldStop, out members, solvedOnly: true);
        }

        if (plan is null || plan.Length == 0)
        {
            return;
        }

        _group.RemoveRange(members, _group.Count - members);
        var c = new Commitment(_group.ToArray(), plan);
        foreach (var robot in c.Robots)
        {
            _committed[robot] = true;
        }

        _active.Add(c);
        Reserve(c);
        Plans++;
    }

    // The smallest jam first: the group's nearest 2, 3, ... robots, where only a plan that brings
    // the lead (_group[0]) to its goal counts, then the whole group, where progress counts too. A
    // small group's state space is far smaller (up to 4^k successors a state), so the node cap goes
    // much further, and fewer robots are committed. Each search generates at most NodeCap states
    // and what is left of `budget`, which is charged with them. Null when nothing counts.
    private JointPlan? SmallestFirst(ReadOnlySpan<RobotPose> poses, GoalDistanceTable leadTable, int leadBest, int radius, ref long budget, Func<bool> shouldStop, out int members, bool solvedOnly = false)
    {
        members = 0;
        for (var k = Math.Min(2, _group.Count); k <= _group.Count && budget > 0 && !shouldStop(); k++)
        {
            var attempt = Search(k, poses, leadTable, leadBest, radius, (int)Math.Min(NodeCap, budget), shouldStop);
            budget -= Math.Max(1, attempt.Generated);
            if (attempt.Status == JointSearchStatus.Solved || (!solvedOnly && k == _group.Count && attempt.Found && attempt.Length > 0))
            {
                members = k;
                return attempt;
            }
        }

        return null;
    }

    // No plan brings the lead nearer its goal: offer the tasks that may move to the group's robots
    // again. Each pair of the group's robots that may exchange (at least one holding a task) whose
    // exchange lowers the sum of their distances to their goals (the relaxed cost, other robots
    // ignored) is a candidate, the largest gain first; a candidate is kept when the joint search,
    // led by one of the pair on its new goal, finds a plan that counts (or that robot already stands
    // on it). All candidates together generate at most NodeCap states, as much as one search.
    // On success _group starts with the plan's lead and `members` robots; otherwise tables and group are as before.
    private JointPlan? TryExchanges(ReadOnlySpan<RobotPose> poses, GoalDistanceTable?[] tables, Func<int, bool> mayExchange, Func<bool> shouldStop, out int members)
    {
        members = 0;
        _traders.Clear();
        foreach (var robot in _group)
        {
            if (mayExchange(robot))
            {
                _traders.Add(robot);
            }
        }

        _pairs.Clear();
        for (var i = 0; i < _traders.Count; i++)
        {
            for (var j = i + 1; j < _traders.Count; j++)
            {
                int a = _traders[i], b = _traders[j];
                if (tables[a]?.GoalCell == tables[b]?.GoalCell)
                {
                    continue; // both idle, or the same goal: nothing to exchange
                }

                var before = Cost(tables[a], poses[a]) + Cost(tables[b], poses[b]);
                var after = Cost(tables[b], poses[a]) + Cost(tables[a], poses[b]);
                if (after < before)
                {
                    _pairs.Add((after - before, a, b));
                }
            }
        }

        if (_pairs.Count == 0)
        {
            return null;
        }

        _pairs.Sort();
        long budget = NodeCap;
        var order = _group.ToArray();
        foreach (var (_, a, b) in _pairs)
        {
            if (budget <= 0 || shouldStop())
            {
                break;
            }

            (tables[a], tables[b]) = (tables[b], tables[a]);

            // The robot of the pair nearer its new goal leads first.
            var first = Cost(tables[a], poses[a]) <= Cost(tables[b], poses[b]) ? a : b;
            foreach (var lead in (ReadOnlySpan<int>)[first, first == a ? b : a])
            {
                if (tables[lead] is not { } table || budget <= 0)
                {
                    continue;
                }

                var here = table.Distance(poses[lead].Cell, poses[lead].Heading);
                if (poses[lead].Cell == table.GoalCell)
                {
                    Exchanged(a, b);
                    return null; // on its new goal already: the exchange alone is the way out
                }

                // The group led by this robot, the others in their order of nearness to the seed.
                _group.Remove(lead);
                _group.Insert(0, lead);
                var plan = SmallestFirst(poses, table, here, Math.Max(WindowRadius, WideRadius(table, poses[lead])), ref budget, shouldStop, out members);
                if (plan is not null)
                {
                    Exchanged(a, b);
                    return plan;
                }

                _group.Clear();
                _group.AddRange(order);
            }

            (tables[a], tables[b]) = (tables[b], tables[a]);
        }

        return null;
    }

    private void Exchanged(int a, int b)
    {
        _exchanges.Add((a, b));
        Swaps++;
    }

    // Whether the pair of the group are the only free robots within `radius` of the seed (the group is left as it was).
    private bool AloneWithin(int seed, ReadOnlySpan<RobotPose> poses, ReadOnlySpan<bool> frozen, int radius)
    {
        var pair = _group.ToArray();
        CollectGroup(seed, poses, frozen, radius);
        var alone = _group.Count <= pair.Length;
        _group.Clear();
        _group.AddRange(pair);
        return alone;
    }

    // Moves from the robot to its goal (the table's, turns included: an upper bound), at most MaxWindowRadius.
    private static int WideRadius(GoalDistanceTable table, RobotPose pose) => Math.Min(table.MinOverHeadings(pose.Cell), MaxWindowRadius);

    // Whether the lead's goal may lie outside the default window (every robot of the group farther
    // from it than the radius, turns counted: so a goal just inside may count as outside).
    private bool GoalOutsideWindow(GoalDistanceTable table, ReadOnlySpan<RobotPose> poses)
    {
        foreach (var robot in _group)
        {
            if (table.MinOverHeadings(poses[robot].Cell) <= WindowRadius)
            {
                return false;
            }
        }

        return true;
    }

    // A robot's relaxed distance to its goal (0 without a task).
    private static long Cost(GoalDistanceTable? table, RobotPose pose) => table is null ? 0 : table.Distance(pose.Cell, pose.Heading);

    // A joint search over the group's first k robots; every other robot is a static obstacle.
    private JointPlan Search(int k, ReadOnlySpan<RobotPose> poses, GoalDistanceTable leadTable, int leadBest, int radius, int nodeCap, Func<bool> shouldStop)
    {
        var starts = (Span<RobotPose>)stackalloc RobotPose[k];
        for (var r = 0; r < k; r++)
        {
            starts[r] = poses[_group[r]];
        }

        var occupant = _occupant;
        var reserved = _reserved;
        var stamp = _reserveStamp;
        var members = _group.GetRange(0, k);
        return _search.Solve(
            starts,
            cell => reserved[cell] == stamp || (occupant[cell] > 0 && !members.Contains(occupant[cell] - 1)),
            radius,
            leadTable,
            leadBest,
            NoCycles,
            nodeCap,
            MaxPlanLength,
            shouldStop);
    }

    // The seed and the robots nearest it (breadth-first over passable cells within the window
    // radius), not frozen and not in another commitment, at most GroupSize.
    private void CollectGroup(int seed, ReadOnlySpan<RobotPose> poses, ReadOnlySpan<bool> frozen) => CollectGroup(seed, poses, frozen, WindowRadius);

    private void CollectGroup(int seed, ReadOnlySpan<RobotPose> poses, ReadOnlySpan<bool> frozen, int radius)
    {
        _group.Clear();
        _group.Add(seed);
        _bfsStamp++;
        if (_bfsStamp == int.MaxValue)
        {
            Array.Clear(_bfsSeen);
            _bfsStamp = 1;
        }

        _bfs.Clear();
        _bfs.Add(poses[seed].Cell);
        _bfsSeen[poses[seed].Cell] = _bfsStamp;
        var ringStart = 0;
        for (var ring = 0; ring < radius && _group.Count < GroupSize; ring++)
        {
            var ringEnd = _bfs.Count;
            for (var q = ringStart; q < ringEnd && _group.Count < GroupSize; q++)
            {
                for (var h = 0; h < 4 && _group.Count < GroupSize; h++)
                {
                    var nb = _map.Neighbour(_bfs[q], (Heading)h);
                    if (nb < 0 || !_map.IsPassable(nb) || _bfsSeen[nb] == _bfsStamp || _reserved[nb] == _reserveStamp)
                    {
                        continue;
                    }

                    _bfsSeen[nb] = _bfsStamp;
                    _bfs.Add(nb);
                    var o = _occupant[nb] - 1;
                    if (o >= 0 && o < _members && !_committed[o] && !(o < frozen.Length && frozen[o]))
                    {
                        _group.Add(o);
                    }
                }
            }

            ringStart = ringEnd;
        }
    }

    private sealed class Commitment(int[] robots, JointPlan plan)
    {
        public int[] Robots { get; } = robots;

        public JointPlan Plan { get; } = plan;

        public int Cursor { get; set; }

        public bool Applied { get; set; }
    }
}
