using System.Globalization;
using WarehouseHybrid.Hil.Cli;
using WarehouseHybrid.Hil.Scenarios;

namespace WarehouseHybrid.Hil.Demo;

/// <summary>
/// Live faults for the demo from the command line: <c>--fault kind:target@start[-end]</c>, e.g.
/// <c>board.estop:3@20s-30s</c>, <c>serial.unplug:0@15s-20s</c> (a daemon robot), <c>serial.bitflip:1@10s-40s</c>,
/// <c>serial.silent:2@25s-28s</c>, <c>board.fault:4@30s</c>, <c>world.delay:5@10s-60s</c>,
/// <c>world.block:12,30@20s-50s</c> (a cell as row,column). The same kinds as scenario files, with the defaults
/// a demo needs (bit-flip rate 0.001, delayed robots at 30 % speed, board fault 0x0001 severity 2).
/// </summary>
public static class DemoFaults
{
    private static readonly string[] Kinds = ["board.estop", "board.fault", "serial.silent", "serial.unplug", "serial.bitflip", "serial.drop", "serial.duplicate", "world.delay", "world.block"];

    /// <summary>Parses one fault, or returns an error naming what is wrong.</summary>
    public static FaultSpec? Parse(string text, int robots, Domain.Grid.GridMap map, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(map);
        error = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (at < 0 || colon < 0 || colon > at)
        {
            error = $"--fault '{text}': expected kind:target@start[-end], e.g. board.estop:3@20s-30s";
            return null;
        }

        var kind = text[..colon];
        if (!Kinds.Contains(kind))
        {
            error = $"--fault '{text}': '{kind}' is not one of {string.Join(", ", Kinds)}";
            return null;
        }

        var target = text[(colon + 1)..at];
        var times = text[(at + 1)..].Split('-', 2);
        if (!DurationParser.TryParse(times[0], out var start, out var e1) && times[0] is not ("0" or "0s"))
        {
            error = $"--fault '{text}': start: {e1}";
            return null;
        }

        TimeSpan? end = null;
        if (times.Length == 2)
        {
            if (!DurationParser.TryParse(times[1], out var u, out var e2) || u <= start)
            {
                error = $"--fault '{text}': end: {e2 ?? "must be after the start"}";
                return null;
            }

            end = u;
        }

        if (kind == "world.block")
        {
            var rc = target.Split(',');
            if (rc.Length != 2 || !int.TryParse(rc[0], CultureInfo.InvariantCulture, out var row) || !int.TryParse(rc[1], CultureInfo.InvariantCulture, out var col)
                || !map.InBounds(row, col) || !map.IsPassable(map.CellAt(row, col)))
            {
                error = $"--fault '{text}': '{target}' is not a free cell 'row,column' of the {map.Width}x{map.Height} map";
                return null;
            }

            return new FaultSpec(text, kind, start, end, [], 0) { Cells = [map.CellAt(row, col)] };
        }

        if (!int.TryParse(target, CultureInfo.InvariantCulture, out var robot) || robot < 0 || robot >= robots)
        {
            error = $"--fault '{text}': '{target}' is not a robot index 0..{robots - 1}";
            return null;
        }

        if (kind is "serial.unplug" or "serial.silent" && end is null)
        {
            error = $"--fault '{text}': {kind} needs an end (start-end)";
            return null;
        }

        return new FaultSpec(text, kind, start, end, [robot], 0)
        {
            Rate = 0.001, Code = 1, Severity = 2, Speed = kind == "world.delay" ? 0.3 : 1.2,
        };
    }
}
