using System.Text.Json;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Tests.Support;

/// <summary>
/// Tiny local readers for the kit's .map / .agents / .tasks / instance .json files, used until the
/// domain's readers are committed (then these should be replaced by GridMapReader and friends).
/// </summary>
internal static class TestData
{
    public static GridMap ParseMap(string text, string name = "inline")
    {
        var rows = text.Replace("\r", "", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var width = rows[0].Length;
        var kinds = new CellKind[width * rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            if (rows[r].Length != width)
            {
                throw new FormatException($"{name}: row {r} has {rows[r].Length} characters, expected {width}");
            }

            for (var c = 0; c < width; c++)
            {
                kinds[(r * width) + c] = rows[r][c] switch
                {
                    '@' or 'T' => CellKind.Obstacle,
                    'E' => CellKind.Emitter,
                    'S' => CellKind.Service,
                    _ => CellKind.Free,
                };
            }
        }

        return new GridMap(width, rows.Length, kinds, name);
    }

    public static GridMap LoadMap(string path)
    {
        var lines = File.ReadAllLines(path);
        var height = int.Parse(lines[1].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = string.Join('\n', lines.Skip(4).Take(height));
        return ParseMap(body, Path.GetFileName(path));
    }

    public static List<int> LoadAgents(string path) =>
        CountedLines(path).Select(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    public static List<IReadOnlyList<int>> LoadTasks(string path) =>
        CountedLines(path)
            .Select(l => (IReadOnlyList<int>)l.Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray())
            .ToList();

    public static (GridMap Map, List<int> Starts, List<IReadOnlyList<int>> Tasks, double Reveal) LoadInstance(string jsonPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(jsonPath));
        var root = doc.RootElement;
        var dir = Path.GetDirectoryName(jsonPath)!;
        var map = LoadMap(Path.Combine(dir, root.GetProperty("mapFile").GetString()!));
        var team = root.GetProperty("teamSize").GetInt32();
        var starts = LoadAgents(Path.Combine(dir, root.GetProperty("agentFile").GetString()!)).Take(team).ToList();
        var tasks = LoadTasks(Path.Combine(dir, root.GetProperty("taskFile").GetString()!));
        return (map, starts, tasks, root.GetProperty("numTasksReveal").GetDouble());
    }

    /// <summary>Distinct random passable cells.</summary>
    public static List<int> RandomCells(GridMap map, int count, int seed)
    {
        var rng = new Random(seed);
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        rng.Shuffle(free);
        return free.Take(count).ToList();
    }

    /// <summary>Random tasks of 2-3 errands on passable cells.</summary>
    public static List<IReadOnlyList<int>> RandomTasks(GridMap map, int count, int seed)
    {
        var rng = new Random(seed);
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        return Enumerable.Range(0, count)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, rng.Next(2, 4)).Select(_ => free[rng.Next(free.Length)]).ToArray())
            .ToList();
    }

    private static IEnumerable<string> CountedLines(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0 && l[0] != '#').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0);
}
