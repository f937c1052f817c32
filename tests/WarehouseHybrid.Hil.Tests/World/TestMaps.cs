using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;

namespace WarehouseHybrid.Hil.Tests.World;

/// <summary>Small maps written out in the .map format, so a test shows its floor.</summary>
internal static class TestMaps
{
    /// <summary>Builds a map from rows of '.', '@'.</summary>
    public static GridMap FromRows(params string[] rows) =>
        GridMapReader.ParseText($"type octile\nheight {rows.Length}\nwidth {rows[0].Length}\nmap\n{string.Join('\n', rows)}\n", "test");

    /// <summary>An open floor.</summary>
    public static GridMap Open(int width, int height) =>
        FromRows([.. Enumerable.Repeat(new string('.', width), height)]);
}
