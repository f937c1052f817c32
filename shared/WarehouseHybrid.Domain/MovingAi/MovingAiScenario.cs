using System.Globalization;
using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.Text;

namespace WarehouseHybrid.Domain.MovingAi;

/// <summary>One line of a Moving AI <c>.scen</c> file: an agent's start and goal (x = column, y = row).</summary>
/// <param name="Bucket">Difficulty bucket.</param>
/// <param name="MapFile">Map file name as written.</param>
/// <param name="MapWidth">Map width the scenario was made for.</param>
/// <param name="MapHeight">Map height the scenario was made for.</param>
/// <param name="StartX">Start column.</param>
/// <param name="StartY">Start row.</param>
/// <param name="GoalX">Goal column.</param>
/// <param name="GoalY">Goal row.</param>
/// <param name="OptimalLength">Octile (8-connected) shortest distance, not the 4-connected MAPF one.</param>
/// <param name="Line">1-based line of the entry in its file.</param>
public readonly record struct ScenarioEntry(
    int Bucket,
    string MapFile,
    int MapWidth,
    int MapHeight,
    int StartX,
    int StartY,
    int GoalX,
    int GoalY,
    double OptimalLength,
    int Line)
{
    /// <summary>The start's linearised cell id on <paramref name="map"/>.</summary>
    public int StartCell(GridMap map) => map.CellAt(StartY, StartX);

    /// <summary>The goal's linearised cell id on <paramref name="map"/>.</summary>
    public int GoalCell(GridMap map) => map.CellAt(GoalY, GoalX);
}

/// <summary>A Moving AI MAPF scenario: the instance with k agents is the first k entries.</summary>
/// <param name="SourceName">Where it came from.</param>
/// <param name="Entries">The entries in file order.</param>
public sealed record MovingAiScenario(string SourceName, IReadOnlyList<ScenarioEntry> Entries);

/// <summary>
/// Reads Moving AI <c>.scen</c> files: the line <c>version 1</c>, then one tab-separated line per
/// agent <c>bucket map width height start-x start-y goal-x goal-y optimal-length</c>. With a map,
/// the declared size must match and every start and goal must be a passable cell on it. Errors raise
/// <see cref="DomainFormatException"/> naming file, line and (for a bad field) column.
/// </summary>
public static class MovingAiScenarioReader
{
    private const int FieldCount = 9;

    /// <summary>Loads a scenario file; checks it against <paramref name="map"/> when given.</summary>
    public static MovingAiScenario Load(string path, GridMap? map = null) =>
        ParseText(File.ReadAllText(path), path, map);

    /// <summary>Parses a scenario from a reader.</summary>
    public static MovingAiScenario Parse(TextReader reader, string sourceName, GridMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ParseText(reader.ReadToEnd(), sourceName, map);
    }

    /// <summary>Parses a scenario held in a string.</summary>
    public static MovingAiScenario ParseText(string text, string sourceName, GridMap? map = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new LineCursor(text);
        if (!lines.TryNext(out var header))
        {
            throw new DomainFormatException(sourceName, 1, "empty file, expected 'version 1'");
        }

        var h = header.Trim();
        if (!h.StartsWith("version") || !double.TryParse(h["version".Length..].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var version) || version != 1)
        {
            throw new DomainFormatException(sourceName, 1, $"expected 'version 1', found '{GridMapReader.Shorten(header)}'");
        }

        var entries = new List<ScenarioEntry>();
        Span<Range> fields = stackalloc Range[FieldCount + 1];
        while (lines.TryNext(out var raw))
        {
            var line = raw.TrimEnd();
            if (line.IsEmpty)
            {
                continue;
            }

            var n = line.Split(fields, '\t');
            if (n != FieldCount)
            {
                throw new DomainFormatException(
                    sourceName, lines.LineNumber, $"expected {FieldCount} tab-separated fields, found {(n > FieldCount ? "more" : n.ToString(CultureInfo.InvariantCulture))}");
            }

            var ln = lines.LineNumber;
            var entry = new ScenarioEntry(
                Int(line, fields[0], "bucket", sourceName, ln),
                line[fields[1]].ToString(),
                Int(line, fields[2], "map-width", sourceName, ln),
                Int(line, fields[3], "map-height", sourceName, ln),
                Int(line, fields[4], "start-x", sourceName, ln),
                Int(line, fields[5], "start-y", sourceName, ln),
                Int(line, fields[6], "goal-x", sourceName, ln),
                Int(line, fields[7], "goal-y", sourceName, ln),
                Length(line, fields[8], sourceName, ln),
                ln);
            Check(entry, map, sourceName);
            entries.Add(entry);
        }

        return new MovingAiScenario(sourceName, entries);
    }

    private static void Check(ScenarioEntry e, GridMap? map, string source)
    {
        if (e.MapWidth <= 0 || e.MapHeight <= 0)
        {
            throw new DomainFormatException(source, e.Line, $"map size {e.MapWidth}x{e.MapHeight} must be positive");
        }

        if (!InSize(e.StartX, e.StartY, e.MapWidth, e.MapHeight) || !InSize(e.GoalX, e.GoalY, e.MapWidth, e.MapHeight))
        {
            throw new DomainFormatException(
                source, e.Line, $"start ({e.StartX},{e.StartY}) or goal ({e.GoalX},{e.GoalY}) lies outside the declared {e.MapWidth}x{e.MapHeight} map");
        }

        if (map is null)
        {
            return;
        }

        if (e.MapWidth != map.Width || e.MapHeight != map.Height)
        {
            throw new DomainFormatException(
                source, e.Line, $"scenario is for a {e.MapWidth}x{e.MapHeight} map but {map.Name} is {map.Width}x{map.Height}");
        }

        if (!map.IsPassable(e.StartCell(map)))
        {
            throw new DomainFormatException(source, e.Line, $"start (x {e.StartX}, y {e.StartY}) is an obstacle on {map.Name}");
        }

        if (!map.IsPassable(e.GoalCell(map)))
        {
            throw new DomainFormatException(source, e.Line, $"goal (x {e.GoalX}, y {e.GoalY}) is an obstacle on {map.Name}");
        }
    }

    private static bool InSize(int x, int y, int w, int h) => (uint)x < (uint)w && (uint)y < (uint)h;

    private static int Int(ReadOnlySpan<char> line, Range r, string what, string source, int ln)
    {
        var s = line[r].Trim();
        return int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new DomainFormatException(source, ln, r.Start.GetOffset(line.Length) + 1, $"bad {what} '{GridMapReader.Shorten(s)}'");
    }

    private static double Length(ReadOnlySpan<char> line, Range r, string source, int ln)
    {
        var s = line[r].Trim();
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= 0
            ? v
            : throw new DomainFormatException(source, ln, r.Start.GetOffset(line.Length) + 1, $"bad optimal-length '{GridMapReader.Shorten(s)}'");
    }
}
