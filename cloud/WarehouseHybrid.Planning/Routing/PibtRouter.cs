using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Guidance;

namespace WarehouseHybrid.Planning.Routing;

/// <summary>
/// One step of PIBT (priority inheritance with backtracking, Okumura et al.) adapted to robots
/// with headings, as in the LoRR Start-Kit: robots in priority order each pick a next cell among
/// {stay, 4 neighbours} ranked by their (cell, heading) distance table; a robot that wants a cell
/// held by an unplanned robot pushes it first (recursively); the pushed robot may not take its
/// pusher's cell (no swaps). A chosen cell that is not straight ahead becomes a rotation toward
/// it, so that robot stays put; any robot that planned to follow into a cell whose occupant now
/// stays is stopped too (cascading). The result has no vertex and no swap conflicts by
/// construction. Sequential by design (PIBT's core is inherently ordered); one instance per
/// planner, not thread-safe, no allocation per step once warmed up.
/// </summary>
public sealed class PibtRouter : IStepRouter
{
    /// <summary>Deepest push chain followed before a push counts as failed (keeps the stack bounded).</summary>
    public const int MaxPushDepth = 4096;

    private const int None = -1;
    private const int KeptOut = int.MinValue; // _occNext mark of a cell no robot may enter this step
    private readonly GridMap _map;
    private readonly CompactGrid _grid;
    private readonly int[] _occNow;   // cell -> robot occupying it now, or -1
    private readonly int[] _occNext;  // cell -> robot reserving it for the next step, or -1
    private readonly int[] _moverInto; // cell -> robot moving forward into it (fix-up), or -1
    private int[] _next = [];
    private int[] _queue = [];
    private GoalDistanceTable?[] _tables = [];
    private RobotPose[] _poses = [];
    private bool[] _fixed = [];
    private Random _rng = new(0);

    /// <summary>Break ties between equally good cells in favour of cells no robot occupies now (default false; see <see cref="Fleet.PlannerOptions.PreferFreeCellsOnTies"/>).</summary>
    public bool PreferFreeCellsOnTies { get; set; }

    /// <summary>Robots that must wait this step and may not be pushed (null: none); read by each <see cref="Plan"/>.</summary>
    public bool[]? Frozen { get; set; }

    /// <summary>
    /// Cells no robot that is not frozen may end this step on (null: none), e.g. the cells a
    /// committed joint plan still uses (<see cref="Jams.JamResolver"/>); read by each <see cref="Plan"/>.
    /// A listed cell some unfrozen robot stands on is ignored.
    /// </summary>
    public IReadOnlyList<int>? KeepOut { get; set; }

    /// <summary>Guidance move costs the goal tables were built with (null: unit moves); scores charge the first move with them.</summary>
    public GuidanceCosts? Costs { get; set; }

    /// <summary>Creates a router for one grid.</summary>
    public PibtRouter(CompactGrid grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        _grid = grid;
        _map = grid.Map;
        _occNow = new int[_map.CellCount];
        _occNext = new int[_map.CellCount];
        _moverInto = new int[_map.CellCount];
        Array.Fill(_occNow, None);
        Array.Fill(_occNext, None);
        Array.Fill(_moverInto, None);
    }

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
        _rng = rng;
        _tables = tables;
        poses.CopyTo(_poses);
        actions[..n].Fill(RobotAction.Wait);
        var illegal = 0;
        try
        {
            for (var i = 0; i < n; i++)
            {
                _next[i] = None;
                _fixed[i] = false;
                var c = poses[i].Cell;
                if (!_map.IsPassable(c) || (uint)poses[i].Heading > 3 || _occNow[c] != None)
                {
                    // Odd input: the robot waits where it is; its cell (if real) stays blocked.
                    _fixed[i] = true;
                    illegal++;
                    if (_map.InBounds(c) && _occNow[c] != None && !_fixed[_occNow[c]])
                    {
                        _fixed[_occNow[c]] = true;
                        illegal++;
                    }

                    continue;
                }

                _occNow[c] = i;
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
                if (_fixed[i])
                {
                    _next[i] = _poses[i].Cell;
                    if (_map.InBounds(_poses[i].Cell))
                    {
                        _occNext[_poses[i].Cell] = i;
                    }
                }
            }

            if (KeepOut is { } keepOut)
            {
                foreach (var c in keepOut)
                {
                    if (_map.IsPassable(c) && _occNext[c] == None && (_occNow[c] == None || _fixed[_occNow[c]]))
                    {
                        _occNext[c] = KeptOut;
                    }
                }
            }

            for (var k = 0; k < order.Length; k++)
            {
                var i = order[k];
                if ((uint)i >= (uint)n || _next[i] != None)
                {
                    continue;
                }

                if ((k & 63) == 0 && shouldStop())
                {
                    return -1;
                }

                Pibt(i, None, 0);
            }

            // Robots the order forgot still need a decision.
            for (var i = 0; i < n; i++)
            {
                if (_next[i] == None)
                {
                    Pibt(i, None, 0);
                }
            }

            ToActions(n, actions);
            return illegal;
        }
        finally
        {
            if (KeepOut is { } keepOut)
            {
                foreach (var c in keepOut)
                {
                    if (_map.IsPassable(c) && _occNext[c] == KeptOut)
                    {
                        _occNext[c] = None;
                    }
                }
            }

            for (var i = 0; i < n; i++)
            {
                var c = poses[i].Cell;
                if (_map.InBounds(c))
                {
                    _occNow[c] = None;
                    _occNext[c] = None;
                    _moverInto[c] = None;
                }

                if (_map.InBounds(_next[i]))
                {
                    _occNext[_next[i]] = None;
                    _moverInto[_next[i]] = None;
                }
            }
        }
    }

    private void EnsureCapacity(int n)
    {
        if (_next.Length < n)
        {
            _next = new int[n];
            _queue = new int[n];
            _poses = new RobotPose[n];
            _fixed = new bool[n];
        }
    }

    // Score of robot i committing to cell v next (lower is better): estimated steps to its goal.
    private int Score(int i, int v, int dir)
    {
        var pose = _poses[i];
        var table = _tables[i];
        if (dir < 0)
        {
            // Stay: one step lost, then the best continuation from here.
            return table is null ? 0 : 1 + table.Distance(pose.Cell, pose.Heading);
        }

        var turns = HeadingMath.TurnsBetween(pose.Heading, (Heading)dir);
        if (table is null)
        {
            return 1 + turns;
        }

        var rest = table.Distance(v, (Heading)dir);
        if (rest >= GoalDistanceTable.Unreachable)
        {
            return GoalDistanceTable.Unreachable + 8;
        }

        var costs = Costs;
        return costs is null ? turns + 1 + rest : (turns * costs.TurnCost) + costs.MoveCost(_grid.DenseOf(pose.Cell), dir) + rest;
    }

    private bool Pibt(int i, int parent, int depth)
    {
        var cur = _poses[i].Cell;
        Span<int> cells = stackalloc int[5];
        Span<int> scores = stackalloc int[5];
        Span<int> tie = stackalloc int[5];
        var m = 0;
        cells[m] = cur;
        scores[m] = Score(i, cur, -1);
        tie[m++] = _rng.Next() & ((1 << 30) - 1);
        var dense = _grid.DenseOf(cur);
        for (var d = 0; d < 4; d++)
        {
            var nb = _grid.Next(dense, d);
            if (nb < 0)
            {
                continue;
            }

            var v = _grid.CellOf(nb);
            cells[m] = v;
            scores[m] = Score(i, v, d);

            // Equal scores: a free cell before one another robot would have to be pushed out of.
            var occupied = PreferFreeCellsOnTies && _occNow[v] != None ? 1 << 30 : 0;
            tie[m++] = occupied | (_rng.Next() & ((1 << 30) - 1));
        }

        // Insertion sort by (score, random tie) - at most five entries.
        for (var a = 1; a < m; a++)
        {
            for (var b = a; b > 0 && (scores[b] < scores[b - 1] || (scores[b] == scores[b - 1] && tie[b] < tie[b - 1])); b--)
            {
                (cells[b], cells[b - 1]) = (cells[b - 1], cells[b]);
                (scores[b], scores[b - 1]) = (scores[b - 1], scores[b]);
                (tie[b], tie[b - 1]) = (tie[b - 1], tie[b]);
            }
        }

        for (var a = 0; a < m; a++)
        {
            var v = cells[a];
            if (_occNext[v] != None)
            {
                continue;
            }

            if (parent != None && v == _poses[parent].Cell)
            {
                continue; // would swap with the robot pushing us
            }

            _next[i] = v;
            _occNext[v] = i;
            var k = _occNow[v];
            if (k != None && k != i && _next[k] == None)
            {
                if (depth >= MaxPushDepth || !Pibt(k, i, depth + 1))
                {
                    if (depth >= MaxPushDepth)
                    {
                        // Treat the occupant as unmovable this step.
                        _next[k] = v;
                        _occNext[v] = k;
                    }

                    continue;
                }
            }

            return true;
        }

        _next[i] = cur;
        _occNext[cur] = i;
        return false;
    }

    private void ToActions(int n, Span<RobotAction> actions)
    {
        var stayed = 0;
        for (var i = 0; i < n; i++)
        {
            var pose = _poses[i];
            var cur = pose.Cell;
            var nxt = _next[i];
            if (_fixed[i] || nxt == cur || nxt < 0)
            {
                actions[i] = _fixed[i] ? RobotAction.Wait : BestInPlace(i);
                _queue[stayed++] = i;
                continue;
            }

            var dir = DirectionOf(cur, nxt);
            if (dir == (int)pose.Heading)
            {
                actions[i] = RobotAction.Forward;
                _moverInto[nxt] = i;
            }
            else
            {
                actions[i] = TurnToward(i, dir);
                _queue[stayed++] = i;
            }
        }

        // Whoever planned to enter the cell of a robot that stays must stay too (cascade).
        var head = 0;
        while (head < stayed)
        {
            var s = _queue[head++];
            var c = _poses[s].Cell;
            if (!_map.InBounds(c))
            {
                continue;
            }

            var k = _moverInto[c];
            if (k != None && actions[k] == RobotAction.Forward)
            {
                actions[k] = RobotAction.Wait;
                _moverInto[c] = None;
                _queue[stayed++] = k;
            }
        }
    }

    private int DirectionOf(int from, int to)
    {
        var dense = _grid.DenseOf(from);
        for (var d = 0; d < 4; d++)
        {
            var nb = _grid.Next(dense, d);
            if (nb >= 0 && _grid.CellOf(nb) == to)
            {
                return d;
            }
        }

        return -1;
    }

    private RobotAction TurnToward(int i, int dir)
    {
        var h = (int)_poses[i].Heading;
        var delta = (dir - h) & 3;
        if (delta == 1)
        {
            return RobotAction.RotateClockwise;
        }

        if (delta == 3)
        {
            return RobotAction.RotateCounterClockwise;
        }

        // Opposite: either way takes two turns; take the side the table prefers.
        var table = _tables[i];
        if (table is not null)
        {
            var cw = table.Distance(_poses[i].Cell, _poses[i].Heading.RotateClockwise());
            var ccw = table.Distance(_poses[i].Cell, _poses[i].Heading.RotateCounterClockwise());
            if (ccw < cw)
            {
                return RobotAction.RotateCounterClockwise;
            }
        }

        return RobotAction.RotateClockwise;
    }

    // A robot that keeps its cell may still turn toward a better heading (turning never conflicts).
    private RobotAction BestInPlace(int i)
    {
        var table = _tables[i];
        if (table is null)
        {
            return RobotAction.Wait;
        }

        var pose = _poses[i];
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
}
