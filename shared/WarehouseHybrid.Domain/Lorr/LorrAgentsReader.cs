using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Text;

namespace WarehouseHybrid.Domain.Lorr;

/// <summary>
/// Reads a LoRR <c>.agents</c> file: optional '#' comment lines, the count n, then n lines of one
/// start cell id each. With a map, every start must be on a passable cell and no two robots may
/// share one; errors raise <see cref="DomainFormatException"/> naming file and line.
/// </summary>
public static class LorrAgentsReader
{
    /// <summary>Loads an agents file; checks cells against <paramref name="map"/> when given.</summary>
    public static IReadOnlyList<int> Load(string path, GridMap? map = null) =>
        ParseText(File.ReadAllText(path), path, map);

    /// <summary>Parses an agents file from a reader.</summary>
    public static IReadOnlyList<int> Parse(TextReader reader, string sourceName, GridMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ParseText(reader.ReadToEnd(), sourceName, map);
    }

    /// <summary>Parses an agents file held in a string.</summary>
    public static IReadOnlyList<int> ParseText(string text, string sourceName, GridMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new LineCursor(text);
        var count = CountedListParser.ReadCount(lines, sourceName, "agents");

        // Never trust the declared count for the allocation: a corrupt count must not exhaust memory.
        var cells = new int[Math.Min(count, (text.Length / 2) + 1)];
        var firstLine = map is null ? null : new Dictionary<int, int>(Math.Min(count, map.CellCount));
        for (var i = 0; i < count; i++)
        {
            var line = CountedListParser.NextEntry(lines, sourceName, "agents", i, count);
            var cell = CountedListParser.ParseCell(line, 1, map, sourceName, lines.LineNumber, "start");
            if (firstLine is not null && !firstLine.TryAdd(cell, lines.LineNumber))
            {
                throw new DomainFormatException(
                    sourceName, lines.LineNumber, $"start cell {cell} of agent {i} is already the start of another agent (line {firstLine[cell]})");
            }

            if (i >= cells.Length)
            {
                Array.Resize(ref cells, Math.Min(count, cells.Length * 2));
            }

            cells[i] = cell;
        }

        CountedListParser.ExpectEnd(lines, sourceName, "agents", count);
        return cells;
    }
}
