using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;

namespace WarehouseHybrid.Hil.Demo;

/// <summary>Finds the demo's map: an explicit file, the kit's small warehouse, or a generated one.</summary>
public static class DemoMap
{
    /// <summary>The kit's map used by default, relative to the kit's data folder.</summary>
    public const string DefaultKitMap = "lorr/2026-example/warehouse.domain/maps/warehouse_small.map";

    /// <summary>Loads the map to use and says where it came from.</summary>
    public static (GridMap Map, string Source) Resolve(string? mapFile)
    {
        if (mapFile is not null)
        {
            return (GridMapReader.Load(mapFile), mapFile);
        }

        var kit = FindKitData();
        if (kit is not null)
        {
            var path = Path.Combine(kit, DefaultKitMap);
            if (File.Exists(path))
            {
                return (GridMapReader.Load(path), "../shared/data/" + DefaultKitMap);
            }
        }

        return (GenerateWarehouse(57, 33), "generated 57x33 warehouse (team kit not found)");
    }

    /// <summary>Looks for ../shared/data beside the repository, starting from the working and program folders.</summary>
    public static string? FindKitData()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data", "lorr");
                if (File.Exists(Path.Combine(dir.FullName, "WarehouseHybrid.sln")))
                {
                    candidate = Path.Combine(dir.FullName, "..", "shared", "data", "lorr");
                }

                if (Directory.Exists(candidate))
                {
                    return Path.GetFullPath(Path.Combine(candidate, ".."));
                }
            }
        }

        return null;
    }

    /// <summary>
    /// A small warehouse: a border aisle, rows of 2-deep shelf blocks with service cells beside
    /// them, and emitters along the left wall. Every free cell is connected.
    /// </summary>
    public static GridMap GenerateWarehouse(int width, int height)
    {
        var kinds = new CellKind[width * height];
        for (var r = 0; r < height; r++)
        {
            for (var c = 0; c < width; c++)
            {
                var shelfRow = r >= 2 && r < height - 2 && (r % 4 == 2 || r % 4 == 3);
                var shelfCol = c >= 4 && c < width - 3 && (c - 4) % 11 < 9;
                kinds[(r * width) + c] = shelfRow && shelfCol ? CellKind.Obstacle
                    : c == 0 && r % 3 == 1 ? CellKind.Emitter
                    : (r % 4 == 1 || r % 4 == 0) && shelfCol && r >= 1 && r < height - 1 ? CellKind.Service
                    : CellKind.Free;
            }
        }

        return new GridMap(width, height, kinds, "generated-warehouse");
    }
}
