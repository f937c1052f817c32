using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Text;

namespace WarehouseHybrid.Domain.Lorr;

/// <summary>
/// Reads a LoRR <c>.tasks</c> file of any generation: optional '#' comment lines, the count m, then
/// m lines each holding one cell id (2023) or a comma-separated list of errand cells to visit in
/// order (2024, 2026). With a map, every errand must be on a passable cell. Errors raise
/// <see cref="Errors.DomainFormatException"/> naming file, line and column.
/// </summary>
public static class LorrTasksReader
{
    /// <summary>Loads a tasks file; checks errands against <paramref name="map"/> when given.</summary>
    public static IReadOnlyList<int[]> Load(string path, GridMap? map = null) =>
        ParseText(File.ReadAllText(path), path, map);

    /// <summary>Parses a tasks file from a reader.</summary>
    public static IReadOnlyList<int[]> Parse(TextReader reader, string sourceName, GridMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ParseText(reader.ReadToEnd(), sourceName, map);
    }

    /// <summary>Parses a tasks file held in a string. Each task is its errand cells in visiting order.</summary>
    public static IReadOnlyList<int[]> ParseText(string text, string sourceName, GridMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new LineCursor(text);
        var count = CountedListParser.ReadCount(lines, sourceName, "tasks");
        var tasks = new List<int[]>(Math.Min(count, (text.Length / 2) + 1));
        for (var i = 0; i < count; i++)
        {
            var line = CountedListParser.NextEntry(lines, sourceName, "tasks", i, count);
            var errands = new int[line.Count(',') + 1];
            var offset = 0;
            for (var e = 0; e < errands.Length; e++)
            {
                var rest = line[offset..];
                var comma = rest.IndexOf(',');
                var field = comma < 0 ? rest : rest[..comma];
                errands[e] = CountedListParser.ParseCell(field, offset + 1, map, sourceName, lines.LineNumber, "errand");
                offset += field.Length + 1;
            }

            tasks.Add(errands);
        }

        CountedListParser.ExpectEnd(lines, sourceName, "tasks", count);
        return tasks;
    }
}
