using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Guidance;

namespace WarehouseHybrid.Planning.Routing;

/// <summary>
/// One step of EPIBT (enhanced PIBT over multi-action operations, after Yukhnevich and
/// Andreychuk): every robot holds an operation of <see cref="Operations.Depth"/> actions (at first
/// all-wait) whose cells and edges are reserved at each of the next steps. In priority order each
/// robot takes the best operation by its goal table whose reservations clash with at most one
/// other robot; that robot (if it has not been placed in this pass) gives way and recursively
/// looks for an operation of its own that fits, and if it finds none the choice is undone (PIBT's
/// priority inheritance with backtracking, over operations instead of single moves). Turning then
/// moving is planned as one unit, so a robot that turns toward a free cell keeps it reserved, and
/// a robot may plan to wait a step for a cell to clear. A second pass lets every robot improve
/// against the others' choices; then, while time remains, a local search re-plans random robots
/// and keeps changes that do not lower the priority-weighted progress (large-neighbourhood search
/// in the small). Only the first action of each operation is returned; the reservations make
/// it free of vertex and swap conflicts by construction. When time runs out part-way, the robots not
/// placed yet keep the all-wait operation, which is still a valid step (never the all-wait fallback
/// for everyone). One instance per planner; not thread-safe.
/// </summary>
public sealed class EpibtRouter : IStepRouter
{
    private const int None = -1;
    private const int Several = -2;
    private const int Blocked = int.MinValue; // reservation of a robot that may not move (odd pose)
    private const long Reached = -1_000_000; // value of reaching the goal at step 0 (later steps add 1 each)

    private readonly GridMap _map;
    private readonly CompactGrid _grid;
    private readonly Operations _ops;
    private readonly int _depth;
    private readonly int[] _usedPos;  // cell * depth + d -> robot, None or Blocked
    private readonly int[] _usedEdge; // (edge id) * depth + d -> robot or None; edge id = min cell * 2 + (vertical ? 1 : 0)
    private readonly int[] _occNow;   // cell -> robot standing there now, or None
    private int _n;
    private RobotPose[] _poses = [];
    private GoalDistanceTable?[] _tables = [];
    private int[] _op = [];          // robot -> current operation
    private int[] _path = [];        // robot * depth + d -> cell after step d of the current operation
    private int[] _prefs = [];       // robot * ops -> operations, best first
    private int[] _prefCount = [];
    private long[] _value = [];      // robot * ops -> estimated cost after the operation (lower is better)
    private double[] _power = [];    // robot -> weight of its progress in the local search's score
    private int[] _visited = [];
    private bool[] _fixed = [];
    private int _stamp;
    private int _planStamp;        // robots' operations are evaluated once per Plan, when first needed
    private int[] _evaluated = [];
    private int[] _pushed = [];       // robot -> plan stamp when a protected robot's operation pushed it in the passes
    private Random _rng = new(0);
    private Func<bool> _stop = static () => false;
    private double _score;
    private bool _searching;

    /// <summary>Creates a router for one grid with operations of <paramref name="depth"/> actions.</summary>
    public EpibtRouter(CompactGrid grid, int depth = 3)
    {
        ArgumentNullException.ThrowIfNull(grid);
        _grid = grid;
        _map = grid.Map;
        _ops = new Operations(depth);
        _depth = depth;
        _usedPos = new int[_map.CellCount * depth];
        _usedEdge = new int[_map.CellCount * 2 * depth];
        _occNow = new int[_map.CellCount];
        Array.Fill(_usedPos, None);
        Array.Fill(_usedEdge, None);
        Array.Fill(_occNow, None);
    }

    /// <summary>Guidance move costs the goal tables were built with (null: unit moves).</summary>
    public GuidanceCosts? Costs { get; set; }

    /// <summary>Whether the local search runs after the passes until <c>shouldStop</c> (default true).</summary>
    public bool LocalSearch { get; set; } = true;

    /// <summary>Robots that must wait this step and may not be pushed (null: none); read by each <see cref="Plan"/>.</summary>
    public bool[]? Frozen { get; set; }

    /// <summary>
    /// Cells no robot that is not frozen may occupy at any step of this plan (null: none), e.g. the
    /// cells a committed joint plan still uses (<see cref="Jams.JamResolver"/>); read by each
    /// <see cref="Plan"/>. A listed cell some unfrozen robot stands on is ignored (that robot's
    /// own cell stays its own).
    /// </summary>
    public IReadOnlyList<int>? KeepOut { get; set; }

    /// <summary>
    /// Refuse operations that close a rotation cycle (robots moving into each other's cells in a
    /// ring at the same step). Synchronous execution allows such cycles, but an executor that lets a
    /// robot enter a cell only after its occupant has left (delays, action-dependency grants)
    /// would deadlock on them. Swaps are always refused.
    /// </summary>
    public bool NoCycles { get; set; }

    /// <summary>
    /// Robots whose operation from the priority passes the local search may neither change nor
    /// evict (null: none); read by each <see cref="Plan"/>. The passes are PIBT with priority
    /// inheritance: the lead robot pushes the ones in its way back, and those pushes cost the
    /// pushed robots more progress than they gain the lead, so the search's weighted score would
    /// undo them and put everyone back on waiting, a state that repeats every step (a deadlock).
    /// The planner protects the lead robot and robots stuck for a while with their goal taken; the
    /// robots a protected robot pushed in the passes (its whole push chain) are protected as well
    /// (ADR 0007).
    /// </summary>
    public bool[]? Protected { get; set; }

    /// <summary>
    /// Robots without a goal that should leave the cell they stand on (null: none), e.g. an idle
    /// robot parked on another robot's goal in a dead end; read by each <see cref="Plan"/>. Such a
    /// robot prefers any operation that ends elsewhere instead of staying unless pushed.
    /// </summary>
    public bool[]? Evacuate { get; set; }

    /// <summary>Stops the local search (on top of <c>shouldStop</c>); null: only <c>shouldStop</c>.</summary>
    public Func<bool>? SearchStop { get; set; }

    /// <summary>Longest eviction chain followed from one robot before it gives up an operation.</summary>
    public int MaxChain { get; set; } = 2000;

    /// <summary>The operation pool.</summary>
    public Operations Pool => _ops;

    /// <summary>Clock used to time the local search (<see cref="LastSearchTime"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Time the local search of the last <see cref="Plan"/> took.</summary>
    public TimeSpan LastSearchTime { get; private set; }

    /// <summary>True when the last <see cref="Plan"/> ran out of time before every robot was placed (the rest waited).</summary>
    public bool Stopped { get; private set; }

    /// <summary>Local-search moves tried in the last <see cref="Plan"/>.</summary>
    public long LastSearchMoves { get; private set; }

    /// <summary>Local-search moves kept in the last <see cref="Plan"/>.</summary>
    public long LastSearchAccepted { get; private set; }

    /// <inheritdoc />
    public int Plan(
        ReadOnlySpan<RobotPose> poses,
        ReadOnlySpan<int> order,
        GoalDistanceTable?[] tables,
        Random rng,
        Span<RobotAction> actions,
        Func<bool> shouldStop)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(shouldStop);
        var n = poses.Length;
        EnsureCapacity(n);
        _n = n;
        _rng = rng;
        _stop = shouldStop;
        _tables = tables;
        poses.CopyTo(_poses);
        actions[..n].Fill(RobotAction.Wait);
        LastSearchMoves = 0;
        LastSearchAccepted = 0;
        LastSearchTime = TimeSpan.Zero;
        Stopped = false;
        var illegal = 0;
        try
        {
            illegal = Reserve(n);
            Weigh(order);
            _planStamp++;

            // Two passes in priority order (the second lets each robot improve against the others' choices).
            for (var pass = 0; pass < 2; pass++)
            {
                _stamp++;
                for (var k = 0; k < order.Length; k++)
                {
                    // Out of time: every robot holds a conflict-free operation at all times (those
                    // not reached yet keep all-wait), so what has been decided so far is a valid step.
                    if ((k & 63) == 0 && shouldStop())
                    {
                        Stopped = true;
                        goto Done;
                    }

                    var i = order[k];
                    if ((uint)i >= (uint)n || _fixed[i] || _visited[i] == _stamp)
                    {
                        continue;
                    }

                    Rebuild(i, improveOnly: false);
                }
            }

            if (LocalSearch)
            {
                var searchStart = TimeProvider.GetTimestamp();
                _searching = true;
                Search();
                _searching = false;
                LastSearchTime = TimeProvider.GetElapsedTime(searchStart);
            }

        Done:
            for (var i = 0; i < n; i++)
            {
                actions[i] = FirstAction(i);
            }

            return illegal;
        }
        finally
        {
            Clear(n);
        }
    }

    private void EnsureCapacity(int n)
    {
        if (_op.Length < n)
        {
            _op = new int[n];
            _path = new int[n * _depth];
            _prefs = new int[n * _ops.Count];
            _value = new long[n * _ops.Count];
            _prefCount = new int[n];
            _power = new double[n];
            _visited = new int[n];
            _evaluated = new int[n];
            _pushed = new int[n];
            _fixed = new bool[n];
            _poses = new RobotPose[n];
        }
    }

    // Everyone starts on the all-wait operation; robots on odd poses are pinned where they are.
    private int Reserve(int n)
    {
        var illegal = 0;
        for (var i = 0; i < n; i++)
        {
            _op[i] = 0;
            _visited[i] = 0;
            _fixed[i] = false;
            var c = _poses[i].Cell;
            var ok = _map.IsPassable(c) && (uint)_poses[i].Heading <= 3;
            if (ok && _usedPos[c * _depth] != None)
            {
                // Two robots in one cell: both stay, and nobody may enter it.
                var other = _usedPos[c * _depth];
                if (other >= 0)
                {
                    _fixed[other] = true;
                    illegal++;
                }

                ok = false;
            }

            for (var d = 0; d < _depth; d++)
            {
                _path[(i * _depth) + d] = c;
            }

            if (!ok)
            {
                _fixed[i] = true;
                illegal++;
                if (_map.InBounds(c))
                {
                    for (var d = 0; d < _depth; d++)
                    {
                        _usedPos[(c * _depth) + d] = Blocked;
                    }
                }

                continue;
            }

            for (var d = 0; d < _depth; d++)
            {
                _usedPos[(c * _depth) + d] = i;
            }
        }

        var frozen = Frozen;
        for (var i = 0; i < n && frozen is not null; i++)
        {
            if (i < frozen.Length && frozen[i])
            {
                _fixed[i] = true;
            }
        }

        for (var i = 0; i < n; i++)
        {
            var c = _poses[i].Cell;
            if (_map.InBounds(c))
            {
                _occNow[c] = i;
            }

            if (_fixed[i] && _map.InBounds(c))
            {
                for (var d = 0; d < _depth; d++)
                {
                    _usedPos[(c * _depth) + d] = Blocked;
                }
            }
        }

        if (KeepOut is { } keepOut)
        {
            foreach (var c in keepOut)
            {
                if (_map.IsPassable(c) && (_occNow[c] == None || _fixed[_occNow[c]]))
                {
                    for (var d = 0; d < _depth; d++)
                    {
                        _usedPos[(c * _depth) + d] = Blocked;
                    }
                }
            }
        }

        return illegal;
    }

    private void Clear(int n)
    {
        if (KeepOut is { } keepOut)
        {
            foreach (var c in keepOut)
            {
                if (_map.IsPassable(c) && _usedPos[c * _depth] == Blocked)
                {
                    for (var d = 0; d < _depth; d++)
                    {
                        _usedPos[(c * _depth) + d] = None;
                    }
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            var c = _poses[i].Cell;
            if (_map.InBounds(c))
            {
                _occNow[c] = None;
                for (var d = 0; d < _depth; d++)
                {
                    _usedPos[(c * _depth) + d] = None;
                }
            }

            if (!_fixed[i])
            {
                Remove(i, scoreToo: false);
            }
        }
    }

    // Rank-based weights: the local search trades a lower robot's progress for a higher one's.
    private void Weigh(ReadOnlySpan<int> order)
    {
        _power.AsSpan(0, _n).Clear();
        var m = order.Length + 1.0;
        for (var k = 0; k < order.Length; k++)
        {
            if ((uint)order[k] < (uint)_n)
            {
                var p = (m - k) / m;
                _power[order[k]] = _tables[order[k]] is null ? 0 : p * p;
            }
        }

        _score = 0;
    }

    private void EnsureEvaluated(int i)
    {
        if (_evaluated[i] != _planStamp)
        {
            _evaluated[i] = _planStamp;
            Evaluate(i);
        }
    }

    // Values and preference list of robot i's valid operations.
    private void Evaluate(int i)
    {
        var count = 0;
        var baseIndex = i * _ops.Count;
        Span<int> cells = stackalloc int[_depth];
        Span<int> heads = stackalloc int[_depth];
        for (var o = 0; o < _ops.Count; o++)
        {
            if (!Simulate(i, o, cells, heads))
            {
                continue;
            }

            _value[baseIndex + o] = Value(i, o, cells, heads);
            _prefs[baseIndex + count++] = o;
        }

        // Insertion sort by value; ties keep pool order, except that more forward steps win (keeps robots flowing).
        for (var a = 1; a < count; a++)
        {
            var o = _prefs[baseIndex + a];
            var b = a;
            while (b > 0 && Better(i, o, _prefs[baseIndex + b - 1]))
            {
                _prefs[baseIndex + b] = _prefs[baseIndex + b - 1];
                b--;
            }

            _prefs[baseIndex + b] = o;
        }

        _prefCount[i] = count;
    }

    private bool Better(int i, int a, int b)
    {
        var va = _value[(i * _ops.Count) + a];
        var vb = _value[(i * _ops.Count) + b];
        return va < vb || (va == vb && _ops.Moves[a] > _ops.Moves[b]);
    }

    // The cells and headings after each step of operation o from robot i's pose; false if it leaves the grid.
    private bool Simulate(int i, int o, Span<int> cells, Span<int> heads)
    {
        var cell = _poses[i].Cell;
        var h = (int)_poses[i].Heading;
        for (var d = 0; d < _depth; d++)
        {
            switch (_ops[o, d])
            {
                case RobotAction.Forward:
                    var next = _grid.Next(_grid.DenseOf(cell), h);
                    if (next < 0)
                    {
                        return false;
                    }

                    cell = _grid.CellOf(next);
                    break;
                case RobotAction.RotateClockwise:
                    h = (h + 1) & 3;
                    break;
                case RobotAction.RotateCounterClockwise:
                    h = (h + 3) & 3;
                    break;
            }

            cells[d] = cell;
            heads[d] = h;
        }

        return true;
    }

    private long Value(int i, int o, ReadOnlySpan<int> cells, ReadOnlySpan<int> heads)
    {
        var table = _tables[i];
        if (table is null)
        {
            if (Evacuate is { } evacuate && i < evacuate.Length && evacuate[i])
            {
                // Asked to make way: anything that ends off this cell, fewer moves first.
                return cells[_depth - 1] == _poses[i].Cell ? _depth + 1 : _ops.Moves[o];
            }

            // No goal: stay unless pushed; among the rest prefer fewer moves.
            return o == 0 ? 0 : 1 + _ops.Moves[o];
        }

        if (table.GoalCell == _poses[i].Cell)
        {
            return o == 0 ? Reached - 1 : Reached; // already there (an errand repeating its cell): stay
        }

        for (var d = 0; d < _depth; d++)
        {
            if (cells[d] == table.GoalCell)
            {
                return Reached + d;
            }
        }

        // Trailing waits could have been spent turning toward the best heading.
        var end = cells[_depth - 1];
        var h = heads[_depth - 1];
        long best = table.Distance(end, (Heading)h);
        var spare = _ops.TrailingWaits[o];
        if (spare >= 1)
        {
            best = Math.Min(best, table.Distance(end, (Heading)((h + 1) & 3)));
            best = Math.Min(best, table.Distance(end, (Heading)((h + 3) & 3)));
        }

        if (spare >= 2)
        {
            best = Math.Min(best, table.Distance(end, (Heading)((h + 2) & 3)));
        }

        return best >= GoalDistanceTable.Unreachable ? GoalDistanceTable.Unreachable * 4L : best;
    }

    private int Edge(int from, int to)
    {
        var a = Math.Min(from, to);
        var vertical = Math.Abs(from - to) != 1;
        return (a * 2) + (vertical ? 1 : 0);
    }

    // Who clashes with robot i's current operation: None, one robot, or Several (or a pinned robot).
    private int Clash(int i)
    {
        var answer = None;
        var prev = _poses[i].Cell;
        var pb = i * _depth;
        for (var d = 0; d < _depth; d++)
        {
            var cell = _path[pb + d];
            var u = _usedPos[(cell * _depth) + d];
            if (u != None && u != i)
            {
                if (u == Blocked || (answer != None && answer != u))
                {
                    return Several;
                }

                answer = u;
            }

            if (cell != prev)
            {
                var e = _usedEdge[(Edge(prev, cell) * _depth) + d];
                if (e != None && e != i)
                {
                    if (answer != None && answer != e)
                    {
                        return Several;
                    }

                    answer = e;
                }
            }

            prev = cell;
        }

        return answer;
    }

    private void SetPath(int i, int o)
    {
        _op[i] = o;
        Span<int> heads = stackalloc int[_depth];
        Simulate(i, o, _path.AsSpan(i * _depth, _depth), heads); // valid: only operations that passed Simulate are chosen
    }

    // Whether robot i's path (not yet added) closes a ring of robots that each move, at the same
    // step, into the cell the next one leaves. Long chains of followers count as closing one
    // (conservative), so the check stays cheap.
    private bool ClosesCycle(int i)
    {
        var prev = _poses[i].Cell;
        var pb = i * _depth;
        for (var d = 0; d < _depth; d++)
        {
            var to = _path[pb + d];
            if (to != prev)
            {
                var x = to;
                for (var hops = 0; ; hops++)
                {
                    if (hops >= 64)
                    {
                        return true;
                    }

                    var q = d == 0 ? _occNow[x] : _usedPos[(x * _depth) + d - 1];
                    if (q < 0 || q == i)
                    {
                        break; // free (or only i itself was there): a chain of followers ends
                    }

                    var next = _path[(q * _depth) + d];
                    if (next == x)
                    {
                        break; // the occupant stays: no ring through it
                    }

                    if (next == prev)
                    {
                        return true; // the chain comes back to the cell i leaves
                    }

                    x = next;
                }
            }

            prev = to;
        }

        return false;
    }

    private void Add(int i)
    {
        var prev = _poses[i].Cell;
        var pb = i * _depth;
        for (var d = 0; d < _depth; d++)
        {
            var cell = _path[pb + d];
            _usedPos[(cell * _depth) + d] = i;
            if (cell != prev)
            {
                _usedEdge[(Edge(prev, cell) * _depth) + d] = i;
            }

            prev = cell;
        }

        _score += _power[i] * Gain(i);
    }

    private void Remove(int i, bool scoreToo = true)
    {
        var prev = _poses[i].Cell;
        var pb = i * _depth;
        for (var d = 0; d < _depth; d++)
        {
            var cell = _path[pb + d];
            if (_usedPos[(cell * _depth) + d] == i)
            {
                _usedPos[(cell * _depth) + d] = None;
            }

            if (cell != prev)
            {
                var e = (Edge(prev, cell) * _depth) + d;
                if (_usedEdge[e] == i)
                {
                    _usedEdge[e] = None;
                }
            }

            prev = cell;
        }

        if (scoreToo)
        {
            _score -= _power[i] * Gain(i);
        }
    }

    // Progress of the current operation over waiting, in table units.
    private double Gain(int i)
    {
        if (_evaluated[i] != _planStamp)
        {
            return 0; // still on all-wait, values not computed
        }

        var b = i * _ops.Count;
        return _value[b] - _value[b + _op[i]];
    }

    private enum Outcome
    {
        Failed,
        Accepted,
        Rejected,
    }

    // Robot i (its reservations removed) takes its best operation that fits, evicting at most one
    // unplaced robot at a time; on failure everything is as before.
    private Outcome Build(int i, ref int chain, double? floor)
    {
        // Long eviction chains poll the clock; short ones (nearly all) do not.
        if (chain > 0 && (chain & 15) == 0 && (_stop() || (_searching && SearchStop is { } searchStop && searchStop())))
        {
            return Outcome.Rejected;
        }

        _visited[i] = _stamp;
        EnsureEvaluated(i);
        var old = _op[i];
        var b = i * _ops.Count;
        for (var k = 0; k < _prefCount[i]; k++)
        {
            var o = _prefs[b + k];
            SetPath(i, o);
            var other = Clash(i);
            if (other == None)
            {
                if (NoCycles && ClosesCycle(i))
                {
                    continue;
                }

                Add(i);
                if (floor is { } f && _score < f - 1e-9)
                {
                    Remove(i);
                    SetPath(i, old);
                    return Outcome.Rejected;
                }

                return Outcome.Accepted;
            }

            if (other == Several || _visited[other] == _stamp || chain >= MaxChain || (floor is not null && (IsProtected(other) || _rng.Next(10) < 3)))
            {
                continue;
            }

            Remove(other);
            if (NoCycles && ClosesCycle(i))
            {
                Add(other);
                continue;
            }

            Add(i);
            chain++;
            var result = Build(other, ref chain, floor);
            if (result == Outcome.Accepted)
            {
                if (!_searching && IsProtected(i))
                {
                    _pushed[other] = _planStamp; // the push chain of a protected robot is protected too
                }

                return result;
            }

            Remove(i);
            Add(other);
            if (result == Outcome.Rejected)
            {
                SetPath(i, old);
                return result;
            }
        }

        SetPath(i, old);
        _visited[i] = 0;
        return Outcome.Failed;
    }

    private void Rebuild(int i, bool improveOnly)
    {
        Remove(i);
        var chain = 0;
        if (Build(i, ref chain, improveOnly ? _score + (_power[i] * Gain(i)) : null) != Outcome.Accepted)
        {
            Add(i);
        }
    }

    // Re-plans random robots while time remains; keeps a change only if the weighted progress does not drop.
    private void Search()
    {
        var candidates = 0;
        for (var i = 0; i < _n; i++)
        {
            candidates += _fixed[i] ? 0 : 1;
        }

        if (candidates == 0)
        {
            return;
        }

        var limit = (long)_n * 20;
        var searchStop = SearchStop;
        while (LastSearchMoves < limit)
        {
            if ((LastSearchMoves & 3) == 0 && (_stop() || (searchStop is not null && searchStop())))
            {
                break;
            }

            var i = _rng.Next(_n);
            LastSearchMoves++;
            if (_fixed[i] || IsProtected(i))
            {
                continue;
            }

            EnsureEvaluated(i);
            if (_prefCount[i] == 0 || _op[i] == _prefs[i * _ops.Count])
            {
                continue; // already on its best operation
            }

            _stamp++;
            var before = _op[i];
            Rebuild(i, improveOnly: true);
            if (_op[i] != before)
            {
                LastSearchAccepted++;
            }
        }
    }

    // Protected by the caller, or pushed in this Plan's passes by a protected robot (transitively:
    // the whole push chain), whose new operation is what lets the protected one move.
    private bool IsProtected(int i) => (Protected is { } p && i < p.Length && p[i]) || _pushed[i] == _planStamp;

    private RobotAction FirstAction(int i)
    {
        if (_fixed[i])
        {
            return RobotAction.Wait;
        }

        var o = _op[i];
        var first = _ops[o, 0];
        var table = _tables[i];
        if (table is null)
        {
            return first;
        }

        var pose = _poses[i];
        if (o == 0)
        {
            // Staying put for the whole window: turn toward the goal meanwhile if that helps.
            var here = table.Distance(pose.Cell, pose.Heading);
            if (here == 0)
            {
                return RobotAction.Wait;
            }

            var cw = table.Distance(pose.Cell, pose.Heading.RotateClockwise());
            var ccw = table.Distance(pose.Cell, pose.Heading.RotateCounterClockwise());
            if (cw < here && cw <= ccw)
            {
                return RobotAction.RotateClockwise;
            }

            return ccw < here ? RobotAction.RotateCounterClockwise : RobotAction.Wait;
        }

        if (first == RobotAction.RotateClockwise && _ops[o, 1] == RobotAction.RotateClockwise)
        {
            // About-turn: either way round takes two steps; take the side the table prefers.
            var cw = table.Distance(pose.Cell, pose.Heading.RotateClockwise());
            var ccw = table.Distance(pose.Cell, pose.Heading.RotateCounterClockwise());
            return ccw < cw ? RobotAction.RotateCounterClockwise : RobotAction.RotateClockwise;
        }

        return first;
    }
}
