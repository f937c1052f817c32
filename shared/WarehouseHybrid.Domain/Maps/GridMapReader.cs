using System.Globalization;
using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Text;

namespace WarehouseHybrid.Domain.Maps;

/// <summary>
/// Reads the Moving AI / LoRR <c>.map</c> format: the header lines <c>type octile</c>,
/// <c>height H</c>, <c>width W</c> (either order), <c>map</c>, then H rows of W characters.
/// '.', 'G' free; 'E' emitter; 'S' service point; '@', 'T', 'O', 'W' obstacles.
/// Tolerates CRLF, trailing whitespace on a line, and blank lines after the last row;
/// anything else wrong raises <see cref="DomainFormatException"/> naming file, line and column.
/// </summary>
public static class GridMapReader
{
    /// <summary>Loads a map file; the map is named after the file.</summary>
    public static GridMap Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses a map from a reader; <paramref name="sourceName"/> is used in errors and as the map name.</summary>
    public static GridMap Parse(TextReader reader, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ParseText(reader.ReadToEnd(), sourceName);
    }

    /// <summary>Parses a map held in a string.</summary>
    public static GridMap ParseText(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new LineCursor(text);
        var height = -1;
        var width = -1;

        ExpectType(lines, sourceName);
        for (var i = 0; i < 2; i++)
        {
            var (key, value, line) = ReadSizeLine(lines, sourceName);
            if (key == "height")
            {
                if (height >= 0)
                {
                    throw new DomainFormatException(sourceName, line, "'height' given twice");
                }

                height = value;
            }
            else
            {
                if (width >= 0)
                {
                    throw new DomainFormatException(sourceName, line, "'width' given twice");
                }

                width = value;
            }
        }

        if (!lines.TryNext(out var mapLine))
        {
            throw new DomainFormatException(sourceName, lines.NextLineNumber, "file ends before the 'map' line");
        }

        if (!mapLine.Trim().SequenceEqual("map"))
        {
            throw new DomainFormatException(sourceName, lines.LineNumber, $"expected 'map', found '{Shorten(mapLine)}'");
        }

        if ((long)width * height > int.MaxValue)
        {
            throw new DomainFormatException(sourceName, lines.LineNumber, $"map of {width}x{height} cells is too large");
        }

        // Allocate only when the text can hold the grid, so a corrupt header cannot exhaust memory;
        // otherwise the row loop below finds the precise error.
        var remaining = text.Length;
        var cells = width * height;
        var kinds = cells <= remaining ? new CellKind[cells] : null;

        for (var row = 0; row < height; row++)
        {
            if (!lines.TryNext(out var rowText))
            {
                throw new DomainFormatException(
                    sourceName, lines.NextLineNumber, $"file ends after {row} map rows, expected {height}");
            }

            rowText = rowText.TrimEnd();
            if (rowText.Length != width)
            {
                throw new DomainFormatException(
                    sourceName, lines.LineNumber, $"row {row} has {rowText.Length} characters, expected {width}");
            }

            for (var col = 0; col < width; col++)
            {
                if (!TryKind(rowText[col], out var kind))
                {
                    throw new DomainFormatException(
                        sourceName,
                        lines.LineNumber,
                        col + 1,
                        $"unknown map character '{Printable(rowText[col])}' at row {row}, column {col}");
                }

                if (kinds is not null)
                {
                    kinds[(row * width) + col] = kind;
                }
            }
        }

        if (!lines.RestIsBlank(out var extraLine))
        {
            throw new DomainFormatException(sourceName, extraLine, $"text after the {height} map rows");
        }

        if (kinds is null)
        {
            throw new DomainFormatException(sourceName, lines.LineNumber, $"map text too short for {width}x{height} cells");
        }

        return new GridMap(width, height, kinds, Path.GetFileName(sourceName));
    }

    /// <summary>The kind a map character stands for; false for characters the format does not know.</summary>
    public static bool TryKind(char c, out CellKind kind)
    {
        switch (c)
        {
            case '.':
            case 'G':
                kind = CellKind.Free;
                return true;
            case 'E':
                kind = CellKind.Emitter;
                return true;
            case 'S':
                kind = CellKind.Service;
                return true;
            case '@':
            case 'T':
            case 'O':
            case 'W':
                kind = CellKind.Obstacle;
                return true;
            default:
                kind = CellKind.Obstacle;
                return false;
        }
    }

    private static void ExpectType(LineCursor lines, string sourceName)
    {
        if (!lines.TryNext(out var line))
        {
            throw new DomainFormatException(sourceName, 1, "empty file, expected 'type octile'");
        }

        var trimmed = line.Trim();
        var space = trimmed.IndexOfAny(' ', '\t');
        if (space < 0 || !trimmed[..space].SequenceEqual("type"))
        {
            throw new DomainFormatException(sourceName, lines.LineNumber, $"expected 'type octile', found '{Shorten(line)}'");
        }

        var value = trimmed[(space + 1)..].Trim();
        if (!value.SequenceEqual("octile"))
        {
            throw new DomainFormatException(sourceName, lines.LineNumber, $"unsupported map type '{Shorten(value)}', expected 'octile'");
        }
    }

    private static (string Key, int Value, int Line) ReadSizeLine(LineCursor lines, string sourceName)
    {
        if (!lines.TryNext(out var line))
        {
            throw new DomainFormatException(sourceName, lines.NextLineNumber, "file ends in the header, expected 'height H' and 'width W'");
        }

        var trimmed = line.Trim();
        var space = trimmed.IndexOfAny(' ', '\t');
        var key = space < 0 ? trimmed : trimmed[..space];
        string name;
        if (key.SequenceEqual("height"))
        {
            name = "height";
        }
        else if (key.SequenceEqual("width"))
        {
            name = "width";
        }
        else
        {
            throw new DomainFormatException(sourceName, lines.LineNumber, $"expected 'height H' or 'width W', found '{Shorten(line)}'");
        }

        var number = space < 0 ? default : trimmed[(space + 1)..].Trim();
        if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new DomainFormatException(
                sourceName, lines.LineNumber, $"'{name}' needs a positive integer, found '{Shorten(number)}'");
        }

        return (name, value, lines.LineNumber);
    }

    internal static string Shorten(ReadOnlySpan<char> s) =>
        s.Length <= 40 ? s.ToString() : string.Concat(s[..40], "...");

    internal static string Printable(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) ? $"\\u{(int)c:X4}" : c.ToString();
}
