using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;

namespace WarehouseHybrid.Planning.Jams;

/// <summary>How a <see cref="JointSearch"/> ended.</summary>
public enum JointSearchStatus
{
    /// <summary>The lead reaches its goal cell at the plan's last step.</summary>
    Solved = 0,

    /// <summary>
    /// The goal was not reached within the caps (or not at all inside the window), but the lead
    /// ends the plan on a pose better than the threshold it was given: real progress.
    /// </summary>
    Progress = 1,

    /// <summary>No plan brings the lead below its threshold within the caps.</summary>
    NotFound = 2,

    /// <summary>The problem itself was malformed (see <see cref="JointPlan.Reason"/>).</summary>
    InvalidInput = 3,
}

/// <summary>
/// The answer of a <see cref="JointSearch"/>: the group's poses before each step and the actions
/// of each step (empty unless <see cref="Status"/> is Solved or Progress).
/// </summary>
public sealed class JointPlan
{
    internal JointPlan(JointSearchStatus status, RobotPose[][] poses, RobotAction[][] actions, int generated, int expanded, string reason)
    {
        Status = status;
        Poses = poses;
        Actions = actions;
        Generated = generated;
        Expanded = expanded;
        Reason = reason;
    }

    /// <summary>How the search ended.</summary>
    public JointSearchStatus Status { get; }

    /// <summary>True when the plan moves the lead to its goal or below its threshold.</summary>
    public bool Found => Status is JointSearchStatus.Solved or JointSearchStatus.Progress;

    /// <summary>Poses of the group's robots: <c>Poses[0]</c> the start, <c>Poses[t + 1]</c> after step t.</summary>
    public IReadOnlyList<RobotPose[]> Poses { get; }

    /// <summary>Per step, each robot's action.</summary>
    public IReadOnlyList<RobotAction[]> Actions { get; }

    /// <summary>Steps in the plan.</summary>
    public int Length => Actions.Count;

    /// <summary>Joint states generated (the node cap counts these).</summary>
    public int Generated { get; }

    /// <summary>Joint states expanded (the lazy search: successor generations, one PIBT call each).</summary>
    public int Expanded { get; }

    /// <summary>Why the input was refused, or an empty string.</summary>
    public string Reason { get; }
}

/// <summary>Which search <see cref="JointSearch"/> runs.</summary>
public enum JointSearchMode
{
    /// <summary>Exhaustive for one to three robots, lazy (LaCAM-style) from <see cref="JointSearch.LazyFromRobots"/> robots on (the default).</summary>
    Auto = 0,

    /// <summary>Best-first with every joint successor of a state enumerated (up to 4^k per state).</summary>
    Exhaustive = 1,

    /// <summary>LaCAM-style: one successor per visit, from a constraint tree and a PIBT step (see <see cref="JointSearch"/>).</summary>
    Lazy = 2,
}

/// <summary>
/// A small complete search for a jam (ADR 0007, "Deadlock in one-wide corridors"): a best-first
/// search over the joint (cell, heading) states of up to <see cref="MaxRobots"/> robots in a
/// window around them, every other robot a static obstacle, with the LoRR action model (forward,
/// rotate clockwise, rotate counter-clockwise, wait; no two robots in one cell, no swaps; rotation
/// cycles allowed unless refused). The goal is the group's lead (robot 0) on its goal cell; where
/// that is out of reach within the caps, the best pose found below the lead's threshold (real
/// progress) is returned instead, so the search is anytime. Robots other than the lead have no goal:
/// they only have to make way, which is what PIBT's pushes cannot do in a tree (the occupant of a
/// dead end has to come out past the robot that wants in). The order is the steps so far plus the
/// lead's table distance plus a penalty per other robot standing ahead of the lead on its
/// descent path (greedy, not optimal: a feasible plan within the node cap is what matters).
/// That exhaustive search enumerates up to 4^k successors per state, so with six robots the node
/// cap allows only a few dozen expansions; from four robots on (<see cref="Mode"/>) the search is
/// lazy instead, as in LaCAM (Okumura, AAAI 2023): a state's successors are produced one per visit
/// by a PIBT step with headings under the constraints of a per-state constraint tree, the other
/// robots guided off the lead's path; a known state reached by a shorter way is rewired to it
/// (LaCAM*), so the search goes deep at the cost of one PIBT call per visit while staying complete
/// within the window up to the caps (at most <see cref="LazyVisitsPerNode"/> visits per state of the cap).
/// Bounded by a node cap, a plan length and a stop callback; never throws; every plan it returns
/// is a valid sequence of joint steps. One instance per planner (reuses its buffers); not thread-safe.
/// </summary>
public sealed partial class JointSearch
{
    /// <summary>Most robots in one search (their poses pack into one 60-bit key).</summary>
    public const int MaxRobots = 6;

    /// <summary>Most cells of a window (a local pose index fits in 10 bits).</summary>
    public const int MaxWindowCells = 256;

    private const int BitsPerRobot = 10;
    private const int PathPenalty = 2;
    private static readonly RobotAction[] ActionSet = [RobotAction.Forward, RobotAction.RotateClockwise, RobotAction.RotateCounterClockwise, RobotAction.Wait];

    private readonly GridMap _map;
    private readonly int[] _localOf;               // map cell -> local index, or -1
    private readonly int[] _cellOf = new int[MaxWindowCells];
    private readonly int[] _forward = new int[MaxWindowCells * 4]; // local * 4 + heading -> local cell ahead, or -1
    private readonly int[] _leadCost = new int[MaxWindowCells * 4]; // lead's table distance per local pose
    private readonly int[] _pathIndex = new int[MaxWindowCells];   // local cell -> index on the lead's descent path, or -1
    private readonly List<int> _queueCells = new();
    private readonly Dictionary<ulong, int> _seen = new();
    private readonly PriorityQueue<int, long> _open = new();
    private readonly int[] _cur = new int[MaxRobots];
    private readonly int[] _next = new int[MaxRobots];
    private ulong[] _keys = [];
    private int[] _parent = [];
    private int[] _depth = [];
    private int _windowCells;
    private int _robots;
    private int _goalLocal;
    private int _threshold;
    private bool _noCycles;
    private int _generated;
    private int _cap;
    private int _maxLength;
    private int _found;          // node where the lead stands on its goal, or -1
    private int _best;           // node with the lead's least cost below the threshold, or -1
    private int _bestCost;
    private int _progressFloor;  // the lead's least distance in the window (-1 when its goal is in it)
    private int _expandingNode;

    /// <summary>Which search runs (default <see cref="JointSearchMode.Auto"/>).</summary>
    public JointSearchMode Mode { get; init; } = JointSearchMode.Auto;

    /// <summary>Creates a search for one map.</summary>
    public JointSearch(GridMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        _map = map;
        _localOf = new int[map.CellCount];
        Array.Fill(_localOf, -1);
    }

    /// <summary>
    /// Plans the group jointly. <paramref name="starts"/>: the group's poses, the lead first.
    /// <paramref name="blocked"/>: cells no robot of the group may use (other robots, reserved
    /// cells). The window is the cells within <paramref name="radius"/> moves of any start (at most
    /// <see cref="MaxWindowCells"/>, nearest first), without blocked cells. The lead's goal is
    /// <paramref name="leadTable"/>'s goal cell; a pose with a table distance below
    /// <paramref name="leadThreshold"/> counts as progress. At most <paramref name="nodeCap"/>
    /// joint states are generated and plans are at most <paramref name="maxLength"/> steps; the
    /// search also ends when <paramref name="shouldStop"/> returns true (polled now and then).
    /// </summary>
    public JointPlan Solve(
        ReadOnlySpan<RobotPose> starts,
        Func<int, bool> blocked,
        int radius,
        GoalDistanceTable leadTable,
        int leadThreshold,
        bool noCycles,
        int nodeCap,
        int maxLength,
        Func<bool>? shouldStop = null)
    {
        var refusal = Check(starts, blocked, radius, leadTable, nodeCap, maxLength);
        if (refusal.Length > 0)
        {
            return Empty(JointSearchStatus.InvalidInput, refusal);
        }

        try
        {
            return Run(starts, blocked, radius, leadTable, leadThreshold, noCycles, nodeCap, maxLength, shouldStop ?? (static () => false));
        }
        finally
        {
            for (var l = 0; l < _windowCells; l++)
            {
                _localOf[_cellOf[l]] = -1;
            }

            _windowCells = 0;
            _seen.Clear();
            _open.Clear();
        }
    }

    private string Check(ReadOnlySpan<RobotPose> starts, Func<int, bool>? blocked, int radius, GoalDistanceTable? leadTable, int nodeCap, int maxLength)
    {
        if (starts.Length is < 1 or > MaxRobots)
        {
            return $"a joint search takes 1-{MaxRobots} robots, not {starts.Length}";
        }

        if (blocked is null || leadTable is null)
        {
            return blocked is null ? "no blocked-cell test" : "no goal table for the lead";
        }

        if (!Enum.IsDefined(Mode))
        {
            return $"unknown joint search mode {(int)Mode}";
        }

        if (radius < 1 || nodeCap < 1 || maxLength < 1)
        {
            return $"radius {radius}, node cap {nodeCap} and plan length {maxLength} must be at least 1";
        }

        for (var r = 0; r < starts.Length; r++)
        {
            if (!_map.IsPassable(starts[r].Cell) || (uint)starts[r].Heading > 3)
            {
                return $"robot {r} of the group has an illegal pose {starts[r]}";
            }

            for (var q = 0; q < r; q++)
            {
                if (starts[q].Cell == starts[r].Cell)
                {
                    return $"robots {q} and {r} of the group share cell {starts[r].Cell}";
                }
            }
        }

        return string.Empty;
    }

    private JointPlan Run(ReadOnlySpan<RobotPose> starts, Func<int, bool> blocked, int radius, GoalDistanceTable leadTable, int leadThreshold, bool noCycles, int nodeCap, int maxLength, Func<bool> shouldStop)
    {
        _robots = starts.Length;
        _noCycles = noCycles;
        _threshold = leadThreshold;
        _cap = nodeCap;
        _maxLength = maxLength;
        BuildWindow(starts, blocked, radius, leadTable);
        EnsureCapacity(nodeCap + 1);
        _generated = 0;
        _found = -1;
        _best = -1;
        _bestCost = int.MaxValue;
        if (_progressFloor >= leadThreshold)
        {
            return Empty(JointSearchStatus.NotFound, string.Empty); // neither the goal nor a pose below the threshold is in the window
        }

        ulong rootKey = 0;
        for (var r = 0; r < _robots; r++)
        {
            rootKey |= (ulong)((_localOf[starts[r].Cell] * 4) + (int)starts[r].Heading) << (BitsPerRobot * r);
        }

        var lazy = Mode == JointSearchMode.Lazy || (Mode == JointSearchMode.Auto && _robots >= LazyFromRobots);
        return lazy ? RunLazy(rootKey, shouldStop) : RunExhaustive(rootKey, shouldStop);
    }

    private JointPlan RunExhaustive(ulong rootKey, Func<bool> shouldStop)
    {
        var root = AddNode(rootKey, -1, 0);
        if (_found >= 0)
        {
            return Empty(JointSearchStatus.Solved, string.Empty); // already on the goal: nothing to plan
        }

        var expanded = 0;
        while (_open.Count > 0 && _found < 0 && _generated < _cap && _bestCost > _progressFloor)
        {
            if ((expanded & 15) == 0 && shouldStop())
            {
                break;
            }

            var node = _open.Dequeue();
            if (_depth[node] >= _maxLength)
            {
                continue;
            }

            expanded++;
            Decode(_keys[node], _cur);
            _expandingNode = node;
            Enumerate(0);
        }

        var end = _found >= 0 ? _found : _best;
        if (end < 0 || end == root)
        {
            return Empty(JointSearchStatus.NotFound, string.Empty, expanded);
        }

        return Reconstruct(end, _found >= 0 ? JointSearchStatus.Solved : JointSearchStatus.Progress, expanded);
    }

    // Multi-source breadth-first search from the group's cells over passable, unblocked cells.
    private void BuildWindow(ReadOnlySpan<RobotPose> starts, Func<int, bool> blocked, int radius, GoalDistanceTable leadTable)
    {
        _windowCells = 0;
        _queueCells.Clear();
        for (var r = 0; r < starts.Length; r++)
        {
            _localOf[starts[r].Cell] = _windowCells;
            _cellOf[_windowCells++] = starts[r].Cell;
            _queueCells.Add(starts[r].Cell);
        }

        // _queueCells holds the frontier of each ring in turn.
        var ringStart = 0;
        for (var ring = 0; ring < radius && _windowCells < MaxWindowCells; ring++)
        {
            var ringEnd = _queueCells.Count;
            for (var q = ringStart; q < ringEnd && _windowCells < MaxWindowCells; q++)
            {
                for (var h = 0; h < 4 && _windowCells < MaxWindowCells; h++)
                {
                    var nb = _map.Neighbour(_queueCells[q], (Heading)h);
                    if (nb < 0 || !_map.IsPassable(nb) || _localOf[nb] >= 0 || blocked(nb))
                    {
                        continue;
                    }

                    _localOf[nb] = _windowCells;
                    _cellOf[_windowCells++] = nb;
                    _queueCells.Add(nb);
                }
            }

            ringStart = ringEnd;
        }

        for (var l = 0; l < _windowCells; l++)
        {
            for (var h = 0; h < 4; h++)
            {
                var nb = _map.Neighbour(_cellOf[l], (Heading)h);
                _forward[(l * 4) + h] = nb >= 0 ? _localOf[nb] : -1;
                var d = leadTable.Distance(_cellOf[l], (Heading)h);
                _leadCost[(l * 4) + h] = d >= GoalDistanceTable.Unreachable ? GoalDistanceTable.Unreachable : d;
            }

            _pathIndex[l] = -1;
        }

        _goalLocal = _localOf[leadTable.GoalCell];

        // Without the goal in the window the best a plan can do is the lead's least distance in it:
        // once a plan gets there, searching on cannot do better (what ends a hopeless search early).
        _progressFloor = -1;
        if (_goalLocal < 0)
        {
            _progressFloor = int.MaxValue;
            for (var p = 0; p < _windowCells * 4; p++)
            {
                _progressFloor = Math.Min(_progressFloor, _leadCost[p]);
            }
        }

        // The lead's descent path: from its cell, the neighbour of least distance, while it falls.
        var cell = _localOf[starts[0].Cell];
        for (var index = 0; cell >= 0 && _pathIndex[cell] < 0; index++)
        {
            _pathIndex[cell] = index;
            var here = leadTable.MinOverHeadings(_cellOf[cell]);
            var bestNext = -1;
            for (var h = 0; h < 4; h++)
            {
                var nb = _forward[(cell * 4) + h];
                if (nb >= 0)
                {
                    var d = leadTable.MinOverHeadings(_cellOf[nb]);
                    if (d < here)
                    {
                        here = d;
                        bestNext = nb;
                    }
                }
            }

            cell = bestNext;
        }
    }

    private void EnsureCapacity(int n)
    {
        if (_keys.Length < n)
        {
            _keys = new ulong[n];
            _parent = new int[n];
            _depth = new int[n];
        }
    }

    private void Decode(ulong key, int[] poses)
    {
        for (var r = 0; r < _robots; r++)
        {
            poses[r] = (int)((key >> (BitsPerRobot * r)) & ((1UL << BitsPerRobot) - 1));
        }
    }

    // Robot r picks its action given the choices of robots 0..r-1 (in _next); the last one adds the state.
    private void Enumerate(int r)
    {
        if (r == _robots)
        {
            if (_noCycles && HasCycle())
            {
                return;
            }

            ulong key = 0;
            for (var q = 0; q < _robots; q++)
            {
                key |= (ulong)_next[q] << (BitsPerRobot * q);
            }

            if (!_seen.ContainsKey(key))
            {
                AddNode(key, _expandingNode, _depth[_expandingNode] + 1);
            }

            return;
        }

        var pose = _cur[r];
        var cell = pose >> 2;
        var h = pose & 3;
        foreach (var a in ActionSet)
        {
            if (_found >= 0 || _generated >= _cap)
            {
                return;
            }

            int to;
            switch (a)
            {
                case RobotAction.Forward:
                    var nb = _forward[(cell * 4) + h];
                    if (nb < 0)
                    {
                        continue;
                    }

                    to = nb * 4 + h;
                    break;
                case RobotAction.RotateClockwise:
                    to = (cell * 4) + ((h + 1) & 3);
                    break;
                case RobotAction.RotateCounterClockwise:
                    to = (cell * 4) + ((h + 3) & 3);
                    break;
                default:
                    to = pose;
                    break;
            }

            var toCell = to >> 2;
            var clash = false;
            for (var q = 0; q < r && !clash; q++)
            {
                var qFrom = _cur[q] >> 2;
                var qTo = _next[q] >> 2;
                clash = qTo == toCell || (toCell != cell && qTo == cell && qFrom == toCell);
            }

            if (clash)
            {
                continue;
            }

            _next[r] = to;
            Enumerate(r + 1);
        }
    }

    // A ring of robots each moving into the cell the next one leaves (executors granting cells in
    // plan order would deadlock on it).
    private bool HasCycle()
    {
        for (var r = 0; r < _robots; r++)
        {
            var x = r;
            for (var hops = 0; hops <= _robots; hops++)
            {
                var target = _next[x] >> 2;
                if (target == _cur[x] >> 2)
                {
                    break;
                }

                var occupant = -1;
                for (var q = 0; q < _robots; q++)
                {
                    if (_cur[q] >> 2 == target)
                    {
                        occupant = q;
                    }
                }

                if (occupant < 0)
                {
                    break;
                }

                if (occupant == r)
                {
                    return true;
                }

                x = occupant;
            }
        }

        return false;
    }

    private int AddNode(ulong key, int parent, int depth)
    {
        var node = _generated++;
        _keys[node] = key;
        _parent[node] = parent;
        _depth[node] = depth;
        _seen[key] = node;
        var lead = (int)(key & ((1UL << BitsPerRobot) - 1));
        if (lead >> 2 == _goalLocal)
        {
            _found = node;
            return node;
        }

        var cost = _leadCost[lead];
        if (depth > 0 && cost < _threshold && (cost < _bestCost || (cost == _bestCost && depth < _depth[_best])))
        {
            _best = node;
            _bestCost = cost;
        }

        // Other robots standing ahead of the lead on its descent path have to get out of it.
        var leadIndex = _pathIndex[lead >> 2];
        var ahead = 0;
        for (var r = 1; r < _robots; r++)
        {
            var idx = _pathIndex[(int)((key >> (BitsPerRobot * r)) & ((1UL << BitsPerRobot) - 1)) >> 2];
            ahead += idx > leadIndex ? 1 : 0;
        }

        long f = depth + (long)cost + (PathPenalty * ahead);
        _open.Enqueue(node, (f << 16) | (long)(0xFFFF - Math.Min(depth, 0xFFFF)));
        return node;
    }

    private JointPlan Reconstruct(int end, JointSearchStatus status, int expanded)
    {
        var chain = new List<int>();
        for (var n = end; n >= 0; n = _parent[n])
        {
            chain.Add(n);
        }

        chain.Reverse();
        var poses = new RobotPose[chain.Count][];
        var actions = new RobotAction[chain.Count - 1][];
        var local = new int[_robots];
        for (var t = 0; t < chain.Count; t++)
        {
            Decode(_keys[chain[t]], local);
            poses[t] = new RobotPose[_robots];
            for (var r = 0; r < _robots; r++)
            {
                poses[t][r] = new RobotPose(_cellOf[local[r] >> 2], (Heading)(local[r] & 3));
            }

            if (t == 0)
            {
                continue;
            }

            actions[t - 1] = new RobotAction[_robots];
            for (var r = 0; r < _robots; r++)
            {
                actions[t - 1][r] = ActionBetween(poses[t - 1][r], poses[t][r]);
            }
        }

        return new JointPlan(status, poses, actions, _generated, expanded, string.Empty);
    }

    private static RobotAction ActionBetween(RobotPose from, RobotPose to)
    {
        if (from.Cell != to.Cell)
        {
            return RobotAction.Forward;
        }

        var turn = ((int)to.Heading - (int)from.Heading) & 3;
        return turn switch
        {
            1 => RobotAction.RotateClockwise,
            3 => RobotAction.RotateCounterClockwise,
            _ => RobotAction.Wait,
        };
    }

    private JointPlan Empty(JointSearchStatus status, string reason, int expanded = 0) =>
        new(status, [], [], _generated, expanded, reason);
}
