using System.Globalization;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Domain.Maps;

/// <summary>
/// Writes a <see cref="GridMap"/> in the Moving AI / LoRR <c>.map</c> format ('\n' line ends).
/// Obstacles are written as '@' (the format's 'T' and '@' both read back as obstacles), so
/// <see cref="GridMapReader"/> reads back the same cell kinds.
/// </summary>
public static class GridMapWriter
{
    /// <summary>Writes the map to a text writer.</summary>
    public static void Write(GridMap map, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write("type octile\n");
        writer.Write(string.Create(CultureInfo.InvariantCulture, $"height {map.Height}\nwidth {map.Width}\nmap\n"));
        var row = new char[map.Width];
        for (var r = 0; r < map.Height; r++)
        {
            for (var c = 0; c < map.Width; c++)
            {
                row[c] = Symbol(map.KindOf(map.CellAt(r, c)));
            }

            writer.Write(row);
            writer.Write('\n');
        }
    }

    /// <summary>Writes the map to a file.</summary>
    public static void Save(GridMap map, string path)
    {
        using var writer = new StreamWriter(path);
        Write(map, writer);
    }

    /// <summary>The map as <c>.map</c> text.</summary>
    public static string ToText(GridMap map)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        Write(map, writer);
        return writer.ToString();
    }

    /// <summary>The character written for a cell kind.</summary>
    public static char Symbol(CellKind kind) => kind switch
    {
        CellKind.Free => '.',
        CellKind.Obstacle => '@',
        CellKind.Emitter => 'E',
        CellKind.Service => 'S',
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown cell kind"),
    };
}
