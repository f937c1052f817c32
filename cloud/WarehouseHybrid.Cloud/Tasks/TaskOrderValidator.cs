using System.Globalization;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>
/// Checks a task order against a site's map, field by field: every errand on the map, on a free cell, and in a
/// region of the map some robot can reach (4-connected free cells holding a robot's start); the errand count and the
/// priority within limits. Pure; one per site.
/// </summary>
public sealed class TaskOrderValidator
{
    /// <summary>Lowest accepted priority.</summary>
    public const int MinPriority = -1000;

    /// <summary>Highest accepted priority.</summary>
    public const int MaxPriority = 1000;

    /// <summary>Longest accepted reference text.</summary>
    public const int MaxReferenceLength = 128;

    private readonly GridMap _map;
    private readonly bool[] _reachable;
    private readonly int _maxErrands;

    /// <summary>Prepares the checks for a map and the robots' start cells.</summary>
    public TaskOrderValidator(GridMap map, IEnumerable<int> robotCells, int maxErrands)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(robotCells);
        _map = map;
        _maxErrands = maxErrands;
        _reachable = new bool[map.CellCount];
        var queue = new Queue<int>();
        foreach (var c in robotCells)
        {
            if (map.IsPassable(c) && !_reachable[c])
            {
                _reachable[c] = true;
                queue.Enqueue(c);
            }
        }

        // Rotations are free in place, so a cell is reachable when a 4-connected path of free cells leads to it.
        while (queue.Count > 0)
        {
            var c = queue.Dequeue();
            for (var h = 0; h < 4; h++)
            {
                var n = map.Neighbour(c, (Heading)h);
                if (n >= 0 && map.IsPassable(n) && !_reachable[n])
                {
                    _reachable[n] = true;
                    queue.Enqueue(n);
                }
            }
        }
    }

    /// <summary>Checks <paramref name="order"/>; returns the errand cells, or null with every problem in <paramref name="errors"/>.</summary>
    public int[]? Resolve(TaskOrder order, List<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        if (order.Errands.Count == 0)
        {
            errors.Add(new FieldError("errands", "must list at least one errand"));
        }
        else if (order.Errands.Count > _maxErrands)
        {
            errors.Add(new FieldError("errands", $"has {order.Errands.Count} errands; at most {_maxErrands} are allowed (Cloud:Tasks:MaxErrands)"));
        }

        if (order.Priority is < MinPriority or > MaxPriority)
        {
            errors.Add(new FieldError("priority", $"must be {MinPriority} to {MaxPriority}, got {order.Priority}"));
        }

        if (order.Reference is { Length: > MaxReferenceLength })
        {
            errors.Add(new FieldError("reference", $"must be at most {MaxReferenceLength} characters, got {order.Reference.Length}"));
        }

        var cells = new int[Math.Min(order.Errands.Count, _maxErrands)];
        for (var i = 0; i < cells.Length; i++)
        {
            var e = order.Errands[i];
            var field = string.Create(CultureInfo.InvariantCulture, $"errands[{i}]");
            int cell;
            string where;
            if (e.Cell is { } c)
            {
                if (!_map.InBounds(c))
                {
                    errors.Add(new FieldError(field, $"cell {c} is off the {_map.Width}x{_map.Height} map (cells 0-{_map.CellCount - 1})"));
                    continue;
                }

                cell = c;
                where = string.Create(CultureInfo.InvariantCulture, $"cell {c} (x={_map.Column(c)}, y={_map.Row(c)})");
            }
            else if (e is { X: { } x, Y: { } y })
            {
                if (!_map.InBounds(y, x))
                {
                    errors.Add(new FieldError(field, $"(x={x}, y={y}) is off the {_map.Width}x{_map.Height} map (x 0-{_map.Width - 1}, y 0-{_map.Height - 1})"));
                    continue;
                }

                cell = _map.CellAt(y, x);
                where = string.Create(CultureInfo.InvariantCulture, $"(x={x}, y={y})");
            }
            else
            {
                errors.Add(new FieldError(field, "must be a cell number or an object with integer x and y"));
                continue;
            }

            if (!_map.IsPassable(cell))
            {
                errors.Add(new FieldError(field, $"{where} is an obstacle"));
            }
            else if (!_reachable[cell])
            {
                errors.Add(new FieldError(field, $"{where} is in a part of the map no robot can reach"));
            }
            else
            {
                cells[i] = cell;
            }
        }

        return errors.Count == before ? cells : null;
    }
}
