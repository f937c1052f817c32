using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Domain.Validation;

/// <summary>What is wrong with a one-shot MAPF solution.</summary>
public enum OneShotViolationKind : byte
{
    /// <summary>An agent has no path at all.</summary>
    EmptyPath = 0,
    /// <summary>The path does not begin on the agent's start cell.</summary>
    WrongStart = 1,
    /// <summary>The path does not end on the agent's goal cell.</summary>
    WrongGoal = 2,
    /// <summary>Two consecutive cells of a path are neither equal nor 4-adjacent (a jump).</summary>
    NotAdjacent = 3,
    /// <summary>A path cell is off the map or an obstacle.</summary>
    Obstacle = 4,
    /// <summary>Two agents occupy one cell at one time.</summary>
    Vertex = 5,
    /// <summary>Two agents swap cells between one time and the next.</summary>
    Swap = 6,
}

/// <summary>One violation of a one-shot solution.</summary>
/// <param name="Kind">What was wrong.</param>
/// <param name="Agent">The agent at fault (of a pair: the lower index).</param>
/// <param name="OtherAgent">The other agent of a vertex or swap conflict, else -1.</param>
/// <param name="Time">The time step: of the cell for vertex, obstacle and start problems, the arrival time for moves.</param>
/// <param name="Cell">The cell where it happened.</param>
public readonly record struct OneShotViolation(OneShotViolationKind Kind, int Agent, int OtherAgent, int Time, int Cell)
{
    /// <inheritdoc />
    public override string ToString() => OtherAgent >= 0
        ? $"{Kind} between agent {Agent} and agent {OtherAgent} at cell {Cell}, time {Time}"
        : $"{Kind}: agent {Agent} at cell {Cell}, time {Time}";
}

/// <summary>The verdict on a one-shot solution and its costs.</summary>
/// <param name="Valid">No violation found.</param>
/// <param name="Violations">The first violations found (bounded by the caller's limit).</param>
/// <param name="SumOfCosts">Sum over agents of the time each last arrives at its goal and stays there.</param>
/// <param name="Makespan">The largest such time.</param>
public sealed record OneShotReport(bool Valid, IReadOnlyList<OneShotViolation> Violations, long SumOfCosts, int Makespan);

/// <summary>
/// Checks one-shot MAPF solutions under the Moving AI rules: each agent moves to a 4-adjacent cell
/// or waits, with no headings; no two agents in one cell at one time (vertex conflict) and no two
/// agents swapping cells (swap conflict). Following (entering a cell its occupant leaves in the same
/// step) and rotating cycles of three or more agents are allowed, as in LaCAM and LoRR.
/// A path lists the agent's cell at times 0, 1, ...; after its last entry the agent stays there.
/// The conflict rules are the project's one <see cref="PlanValidator"/>: each step becomes a
/// heading-free LoRR step (every mover faces its move and steps forward, everyone else waits), so
/// the one-shot and lifelong rules cannot drift apart; this class adds what LoRR has no notion of
/// (starts, goals, jumps) and the costs.
/// </summary>
public sealed class OneShotPathValidator
{
    private readonly GridMap _map;
    private readonly PlanValidator _steps;

    /// <summary>Creates a validator for one map.</summary>
    public OneShotPathValidator(GridMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        _map = map;
        _steps = new PlanValidator(map);
    }

    /// <summary>
    /// Validates <paramref name="paths"/> (one cell sequence per agent) against the agents'
    /// <paramref name="starts"/> and <paramref name="goals"/>; stops collecting after
    /// <paramref name="maxViolations"/> violations (the verdict is still exact: any violation makes it invalid).
    /// Costs are reported for what was given, valid or not.
    /// </summary>
    public OneShotReport Validate(IReadOnlyList<int> starts, IReadOnlyList<int> goals, IReadOnlyList<int[]> paths, int maxViolations = 20)
    {
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(goals);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxViolations);
        var n = paths.Count;
        if (starts.Count != n || goals.Count != n)
        {
            throw new ArgumentException($"{n} paths but {starts.Count} starts and {goals.Count} goals");
        }

        var violations = new List<OneShotViolation>();
        var invalid = false;
        void Report(OneShotViolation v)
        {
            invalid = true;
            if (violations.Count < maxViolations)
            {
                violations.Add(v);
            }
        }

        long soc = 0;
        var makespan = 0;
        var horizon = 0;
        for (var i = 0; i < n; i++)
        {
            var p = paths[i];
            if (p is null || p.Length == 0)
            {
                Report(new OneShotViolation(OneShotViolationKind.EmptyPath, i, -1, 0, -1));
                continue;
            }

            if (p[0] != starts[i])
            {
                Report(new OneShotViolation(OneShotViolationKind.WrongStart, i, -1, 0, p[0]));
            }

            if (p[^1] != goals[i])
            {
                Report(new OneShotViolation(OneShotViolationKind.WrongGoal, i, -1, p.Length - 1, p[^1]));
            }

            var cost = CostOf(p);
            soc += cost;
            makespan = Math.Max(makespan, cost);
            horizon = Math.Max(horizon, p.Length - 1);
            for (var t = 0; t < p.Length; t++)
            {
                if (!_map.IsPassable(p[t]))
                {
                    Report(new OneShotViolation(OneShotViolationKind.Obstacle, i, -1, t, p[t]));
                }
                else if (t > 0 && p[t] != p[t - 1] && _map.IsPassable(p[t - 1]) && _map.Manhattan(p[t - 1], p[t]) != 1)
                {
                    Report(new OneShotViolation(OneShotViolationKind.NotAdjacent, i, -1, t, p[t]));
                }
            }
        }

        if (invalid)
        {
            // Malformed paths cannot be stepped through meaningfully.
            return new OneShotReport(false, violations, soc, makespan);
        }

        var before = new RobotPose[n];
        var actions = new RobotAction[n];
        var after = new RobotPose[n];
        var conflicts = new List<Conflict>();
        for (var t = 0; t < horizon; t++)
        {
            for (var i = 0; i < n; i++)
            {
                var from = At(paths[i], t);
                var to = At(paths[i], t + 1);
                before[i] = new RobotPose(from, from == to ? Heading.East : HeadingOf(from, to));
                actions[i] = from == to ? RobotAction.Wait : RobotAction.Forward;
            }

            conflicts.Clear();
            if (_steps.ValidateStep(before, actions, after, conflicts))
            {
                continue;
            }

            foreach (var c in conflicts)
            {
                if (c.Kind == ConflictKind.IllegalPose && c.OtherRobot >= 0 && t > 0)
                {
                    continue; // two agents in one cell at t > 0 was reported as the vertex conflict of step t - 1
                }

                Report(c.Kind switch
                {
                    ConflictKind.Swap => new OneShotViolation(OneShotViolationKind.Swap, c.Robot, c.OtherRobot, t + 1, c.Cell),
                    ConflictKind.IllegalPose when c.OtherRobot >= 0 => new OneShotViolation(OneShotViolationKind.Vertex, Math.Min(c.Robot, c.OtherRobot), Math.Max(c.Robot, c.OtherRobot), t, c.Cell),
                    ConflictKind.Vertex => new OneShotViolation(OneShotViolationKind.Vertex, c.Robot, c.OtherRobot, t + 1, c.Cell),
                    _ => new OneShotViolation(OneShotViolationKind.Obstacle, c.Robot, -1, t, c.Cell),
                });
            }

            if (violations.Count >= maxViolations)
            {
                break;
            }
        }

        if (horizon == 0)
        {
            // Nobody moves: the start configuration itself must be legal.
            for (var i = 0; i < n; i++)
            {
                before[i] = new RobotPose(paths[i][0], Heading.East);
            }

            conflicts.Clear();
            if (!_steps.ValidatePoses(before, conflicts))
            {
                foreach (var c in conflicts)
                {
                    Report(new OneShotViolation(OneShotViolationKind.Vertex, c.Robot, c.OtherRobot, 0, c.Cell));
                }
            }
        }

        return new OneShotReport(!invalid, violations, soc, makespan);
    }

    /// <summary>
    /// The cost of one path: the time the agent last arrives at its final cell and stays there
    /// (0 for an agent that never leaves its start).
    /// </summary>
    public static int CostOf(ReadOnlySpan<int> path)
    {
        if (path.IsEmpty)
        {
            return 0;
        }

        var t = path.Length - 1;
        while (t > 0 && path[t - 1] == path[^1])
        {
            t--;
        }

        return t;
    }

    private static int At(int[] path, int t) => t < path.Length ? path[t] : path[^1];

    private Heading HeadingOf(int from, int to)
    {
        // Width first: on a one-column map a step of +1 is south.
        var d = to - from;
        return d == _map.Width ? Heading.South : d == -_map.Width ? Heading.North : d == 1 ? Heading.East : Heading.West;
    }
}
