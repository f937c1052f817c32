using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Domain.Validation;

/// <summary>What made a step invalid.</summary>
public enum ConflictKind : byte
{
    /// <summary>A forward step off the map.</summary>
    OffMap = 0,
    /// <summary>A forward step into an obstacle cell.</summary>
    Obstacle = 1,
    /// <summary>Two robots end the step in the same cell.</summary>
    Vertex = 2,
    /// <summary>Two robots swap cells (pass through each other).</summary>
    Swap = 3,
    /// <summary>
    /// A pose that is not a legal state: off the map, on an obstacle, a bad heading, or a cell an
    /// earlier robot of the same step already occupies (then <see cref="Conflict.OtherRobot"/> is that robot).
    /// </summary>
    IllegalPose = 4,
    /// <summary>The action value is not one of F, R, C, W (or a turn of more than a quarter).</summary>
    IllegalAction = 5,
}

/// <summary>One violation found in a step.</summary>
/// <param name="Kind">What was wrong.</param>
/// <param name="Robot">The robot at fault (of a vertex or swap pair: the lower index).</param>
/// <param name="OtherRobot">The other robot of a vertex or swap conflict, or the earlier occupant of a shared cell, else -1.</param>
/// <param name="Cell">The cell where it happened.</param>
public readonly record struct Conflict(ConflictKind Kind, int Robot, int OtherRobot, int Cell)
{
    /// <inheritdoc />
    public override string ToString() => OtherRobot >= 0
        ? $"{Kind} between robot {Robot} and robot {OtherRobot} at cell {Cell}"
        : $"{Kind}: robot {Robot} at cell {Cell}";
}

/// <summary>
/// The one plan validator of the project (optimizer tests, simulator, benchmarks), with the
/// LoRR rules: each robot takes one action per step; a forward step must stay on the map and off
/// obstacles; no two robots may end a step in one cell (vertex conflict) or swap cells (edge
/// conflict). Following (entering a cell its occupant leaves in the same step) is allowed, as in
/// LoRR, including rotating cycles of three or more robots.
/// Holds reusable buffers sized to the map: one instance per thread, zero allocation per step.
/// </summary>
public sealed class PlanValidator
{
    private readonly GridMap _map;
    private readonly int[] _occupantAfter;  // cell -> robot index + 1 (0 = free), for the step being checked
    private readonly int[] _occupantBefore;
    private readonly List<int> _touched = new();
    private int[] _fromCells = new int[16];  // before-cells of the step, so `after` may alias `before`

    /// <summary>Creates a validator for one map.</summary>
    public PlanValidator(GridMap map)
    {
        _map = map;
        _occupantAfter = new int[map.CellCount];
        _occupantBefore = new int[map.CellCount];
    }

    /// <summary>The map this validator checks against.</summary>
    public GridMap Map => _map;

    /// <summary>
    /// Checks one step. Writes the resulting poses to <paramref name="after"/> (when the step is
    /// invalid they are still the naive results, so callers decide what to do, e.g. LoRR makes
    /// every robot wait). Conflicts are appended to <paramref name="conflicts"/> when given.
    /// <paramref name="after"/> may be the same memory as <paramref name="before"/> (update in place).
    /// </summary>
    /// <returns>True when the step is valid.</returns>
    public bool ValidateStep(
        ReadOnlySpan<RobotPose> before,
        ReadOnlySpan<RobotAction> actions,
        Span<RobotPose> after,
        ICollection<Conflict>? conflicts = null)
    {
        if (actions.Length != before.Length || after.Length < before.Length)
        {
            throw new ArgumentException($"step has {before.Length} robots but {actions.Length} actions and {after.Length} result slots");
        }

        if (_fromCells.Length < before.Length)
        {
            _fromCells = new int[Math.Max(before.Length, _fromCells.Length * 2)];
        }

        var valid = true;
        try
        {
            for (var i = 0; i < before.Length; i++)
            {
                var p = before[i];
                _fromCells[i] = p.Cell;
                if (!_map.IsPassable(p.Cell) || (byte)p.Heading > 3)
                {
                    valid = false;
                    conflicts?.Add(new Conflict(ConflictKind.IllegalPose, i, -1, p.Cell));
                    after[i] = p;
                    continue;
                }

                // Two robots in one cell is not a legal state; without this check a step out of it
                // could even pass (the earlier robot leaves, the later one moves elsewhere).
                var first = _occupantBefore[p.Cell] - 1;
                if (first >= 0)
                {
                    valid = false;
                    conflicts?.Add(new Conflict(ConflictKind.IllegalPose, i, first, p.Cell));
                    after[i] = p;
                    continue;
                }

                Mark(_occupantBefore, p.Cell, i);
                var a = actions[i];
                if ((byte)a > 3)
                {
                    valid = false;
                    conflicts?.Add(new Conflict(ConflictKind.IllegalAction, i, -1, p.Cell));
                    after[i] = p;
                    continue;
                }

                var next = p.Apply(a, _map);
                if (a == RobotAction.Forward)
                {
                    if (next.Cell < 0)
                    {
                        valid = false;
                        conflicts?.Add(new Conflict(ConflictKind.OffMap, i, -1, p.Cell));
                        after[i] = p;
                        continue;
                    }

                    if (!_map.IsPassable(next.Cell))
                    {
                        valid = false;
                        conflicts?.Add(new Conflict(ConflictKind.Obstacle, i, -1, next.Cell));
                        after[i] = p;
                        continue;
                    }
                }

                after[i] = next;
            }

            for (var i = 0; i < before.Length; i++)
            {
                var cell = after[i].Cell;
                if (!_map.InBounds(cell))
                {
                    continue;
                }

                var other = _occupantAfter[cell] - 1;
                if (other >= 0)
                {
                    valid = false;
                    conflicts?.Add(new Conflict(ConflictKind.Vertex, Math.Min(i, other), Math.Max(i, other), cell));
                }
                else
                {
                    Mark(_occupantAfter, cell, i);
                }
            }

            // Swap: robot i moves a -> b while the robot that was in b moves b -> a.
            for (var i = 0; i < before.Length; i++)
            {
                var from = _fromCells[i];
                var to = after[i].Cell;
                if (from == to || !_map.InBounds(to) || !_map.InBounds(from))
                {
                    continue;
                }

                var j = _occupantBefore[to] - 1;
                if (j > i && after[j].Cell == from)
                {
                    valid = false;
                    conflicts?.Add(new Conflict(ConflictKind.Swap, i, j, to));
                }
            }
        }
        finally
        {
            foreach (var c in _touched)
            {
                _occupantAfter[c] = 0;
                _occupantBefore[c] = 0;
            }

            _touched.Clear();
        }

        return valid;
    }

    /// <summary>Checks that a set of start poses is legal: on passable cells, distinct.</summary>
    public bool ValidatePoses(ReadOnlySpan<RobotPose> poses, ICollection<Conflict>? conflicts = null)
    {
        var valid = true;
        try
        {
            for (var i = 0; i < poses.Length; i++)
            {
                var cell = poses[i].Cell;
                if (!_map.IsPassable(cell) || (byte)poses[i].Heading > 3)
                {
                    valid = false;
                    conflicts?.Add(new Conflict(ConflictKind.IllegalPose, i, -1, cell));
                }
                else if (_occupantBefore[cell] > 0)
                {
                    valid = false;
                    conflicts?.Add(new Conflict(ConflictKind.Vertex, _occupantBefore[cell] - 1, i, cell));
                }
                else
                {
                    Mark(_occupantBefore, cell, i);
                }
            }
        }
        finally
        {
            foreach (var c in _touched)
            {
                _occupantBefore[c] = 0;
            }

            _touched.Clear();
        }

        return valid;
    }

    private void Mark(int[] table, int cell, int robot)
    {
        table[cell] = robot + 1;
        _touched.Add(cell);
    }
}
