using System.Globalization;
using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.Text;

namespace WarehouseHybrid.Domain.Lorr;

/// <summary>
/// The shared shape of LoRR <c>.agents</c> and <c>.tasks</c> files: '#' comment lines (anywhere),
/// a count line, then exactly that many entry lines, then nothing but blank lines or comments.
/// </summary>
internal static class CountedListParser
{
    /// <summary>Reads the count line, skipping leading comments and blank lines.</summary>
    public static int ReadCount(LineCursor lines, string source, string what)
    {
        while (lines.TryNext(out var line))
        {
            var t = line.Trim();
            if (t.IsEmpty || t[0] == '#')
            {
                continue;
            }

            if (!int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                throw new DomainFormatException(
                    source, lines.LineNumber, $"expected the number of {what}, found '{GridMapReader.Shorten(t)}'");
            }

            return count;
        }

        throw new DomainFormatException(source, Math.Max(1, lines.LineNumber), $"file holds no count of {what}");
    }

    /// <summary>The next entry line (comments skipped), or an error when the file ends early.</summary>
    public static ReadOnlySpan<char> NextEntry(LineCursor lines, string source, string what, int index, int declared)
    {
        while (lines.TryNext(out var line))
        {
            var t = line.TrimStart();
            if (!t.IsEmpty && t[0] == '#')
            {
                continue;
            }

            if (line.IsWhiteSpace())
            {
                throw new DomainFormatException(
                    source, lines.LineNumber, $"empty line where {what} {index} of {declared} was expected");
            }

            return line;
        }

        throw new DomainFormatException(
            source, lines.NextLineNumber, $"file declares {declared} {what} but lists only {index}");
    }

    /// <summary>Checks that only blank lines or comments follow the last declared entry.</summary>
    public static void ExpectEnd(LineCursor lines, string source, string what, int declared)
    {
        while (lines.TryNext(out var line))
        {
            var t = line.Trim();
            if (t.IsEmpty || t[0] == '#')
            {
                continue;
            }

            throw new DomainFormatException(
                source, lines.LineNumber, $"file declares {declared} {what} but lists more (extra entry '{GridMapReader.Shorten(t)}')");
        }
    }

    /// <summary>Parses one cell id (surrounding blanks allowed) and checks it against the map.</summary>
    public static int ParseCell(ReadOnlySpan<char> field, int fieldColumn, GridMap? map, string source, int line, string what)
    {
        var lead = field.Length - field.TrimStart().Length;
        var t = field.Trim();
        var column = fieldColumn + lead;
        if (t.IsEmpty)
        {
            throw new DomainFormatException(source, line, column, $"missing {what} cell id");
        }

        if (!int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var cell))
        {
            throw new DomainFormatException(source, line, column, $"bad {what} cell id '{GridMapReader.Shorten(t)}'");
        }

        if (map is not null)
        {
            CheckCell(map, cell, source, line, column, what);
        }

        return cell;
    }

    /// <summary>Fails unless the cell is on the map and passable.</summary>
    public static void CheckCell(GridMap map, int cell, string source, int line, int? column, string what)
    {
        if (!map.InBounds(cell))
        {
            throw new DomainFormatException(
                source, line, column, $"{what} cell {cell} is outside the {map.Width}x{map.Height} map (cells 0..{map.CellCount - 1})");
        }

        if (!map.IsPassable(cell))
        {
            throw new DomainFormatException(
                source, line, column, $"{what} cell {cell} (row {map.Row(cell)}, column {map.Column(cell)}) is an obstacle on {map.Name}");
        }
    }
}
