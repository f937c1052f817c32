using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>Reads a Moving AI / LoRR <c>.map</c> file (header <c>type</c>, <c>height</c>, <c>width</c>, <c>map</c>, then the rows).</summary>
public static class MapFileReader
{
    /// <summary>Loads a map file; a bad file gets a <see cref="FormatException"/> naming the file and line.</summary>
    public static GridMap Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllLines(path), Path.GetFileName(path));
    }

    /// <summary>Parses the lines of a map file; <paramref name="name"/> labels the map and the errors.</summary>
    public static GridMap Parse(IReadOnlyList<string> lines, string name)
    {
        ArgumentNullException.ThrowIfNull(lines);
        int? height = null, width = null;
        var line = 0;
        for (; line < lines.Count; line++)
        {
            var text = lines[line].Trim();
            if (text.Length == 0)
            {
                continue;
            }

            if (text == "map")
            {
                line++;
                break;
            }

            var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] is "height" or "width")
            {
                if (!int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var value) || value <= 0)
                {
                    throw new FormatException($"{name}:{line + 1}: '{parts[0]}' needs a positive number, got '{parts[1]}'");
                }

                if (parts[0] == "height")
                {
                    height = value;
                }
                else
                {
                    width = value;
                }
            }
        }

        if (height is null || width is null)
        {
            throw new FormatException($"{name}: header must give 'height' and 'width' before the 'map' line");
        }

        var kinds = new CellKind[height.Value * width.Value];
        for (var r = 0; r < height.Value; r++, line++)
        {
            if (line >= lines.Count)
            {
                throw new FormatException($"{name}: expected {height} map rows, found {r}");
            }

            var row = lines[line].TrimEnd('\r');
            if (row.Length < width.Value)
            {
                throw new FormatException($"{name}:{line + 1}: row {r} has {row.Length} characters, expected {width}");
            }

            for (var c = 0; c < width.Value; c++)
            {
                kinds[(r * width.Value) + c] = row[c] switch
                {
                    '.' or 'G' => CellKind.Free,
                    '@' or 'T' or 'O' or 'W' => CellKind.Obstacle,
                    'E' => CellKind.Emitter,
                    'S' => CellKind.Service,
                    var other => throw new FormatException($"{name}:{line + 1}: column {c + 1} has unknown map character '{other}'"),
                };
            }
        }

        return new GridMap(width.Value, height.Value, kinds, name);
    }
}
