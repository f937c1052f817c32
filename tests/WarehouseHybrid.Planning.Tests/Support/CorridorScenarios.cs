using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;

namespace WarehouseHybrid.Planning.Tests.Support;

/// <summary>A small lifelong instance: a map, tasks in reveal order and robots' start cells.</summary>
internal sealed record CorridorScenario(string Name, GridMap Map, IReadOnlyList<IReadOnlyList<int>> Tasks, int[] Starts);

/// <summary>
/// Tree-shaped maps with dead ends, where PIBT-style planners can freeze or livelock (ADR 0007,
/// "Deadlock in one-wide corridors"); shared by the planning tests and the corridor-sweep bench.
/// </summary>
internal static class CorridorScenarios
{
    /// <summary>
    /// A one-wide corridor 13 cells long with one-cell pockets on both sides, 200 two-errand
    /// tasks in the pockets; 4 or 6 robots on the corridor.
    /// </summary>
    public static CorridorScenario Pocket(int robots, int taskSeed)
    {
        var map = Parse("pocket-corridor", """
            @@.@.@.@.@.@@
            .............
            @@.@.@.@.@.@@
            """);
        var pockets = Enumerable.Range(1, 5).SelectMany(k => new[] { map.CellAt(0, 2 * k), map.CellAt(2, 2 * k) }).ToList();
        var rng = new Random(taskSeed);
        var tasks = Enumerable.Range(0, 200).Select(_ => (IReadOnlyList<int>)[pockets[rng.Next(pockets.Count)], pockets[rng.Next(pockets.Count)]]).ToList();
        int[] all = [map.CellAt(1, 0), map.CellAt(1, 12), map.CellAt(1, 6), map.CellAt(1, 3), map.CellAt(1, 9), map.CellAt(0, 4)];
        return new CorridorScenario($"pocket-{robots}", map, tasks, Take(all, robots));
    }

    /// <summary>
    /// A dead end three cells deep off the middle of an 11-cell one-wide corridor; every task's first
    /// errand is the far end of the dead end, its second a random corridor cell; 1-4 robots on the corridor.
    /// </summary>
    public static CorridorScenario TCorridor(int robots, int taskSeed)
    {
        var map = Parse("t-corridor", """
            ...........
            @@@@@.@@@@@
            @@@@@.@@@@@
            @@@@@.@@@@@
            """);
        var end = map.CellAt(3, 5);
        var rng = new Random(taskSeed);
        var tasks = Enumerable.Range(0, 200).Select(_ => (IReadOnlyList<int>)[end, map.CellAt(0, rng.Next(11))]).ToList();
        int[] all = [map.CellAt(0, 0), map.CellAt(0, 10), map.CellAt(0, 2), map.CellAt(0, 8)];
        return new CorridorScenario($"t-corridor-{robots}", map, tasks, Take(all, robots));
    }

    private static int[] Take(int[] cells, int robots)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(robots, cells.Length);
        return cells[..robots];
    }

    private static GridMap Parse(string name, string rows)
    {
        var lines = rows.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return GridMapReader.ParseText($"type octile\nheight {lines.Length}\nwidth {lines[0].Length}\nmap\n{string.Join('\n', lines)}\n", name);
    }
}
