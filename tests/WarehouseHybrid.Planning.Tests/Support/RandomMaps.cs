using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Tests.Support;

/// <summary>Small random grid maps for property tests.</summary>
internal static class RandomMaps
{
    /// <summary>A width x height map with about <paramref name="obstaclePercent"/>% obstacles, at least two passable cells.</summary>
    public static GridMap Create(Random rng, int width, int height, int obstaclePercent)
    {
        var kinds = new CellKind[width * height];
        for (var i = 0; i < kinds.Length; i++)
        {
            kinds[i] = rng.Next(100) < obstaclePercent ? CellKind.Obstacle : CellKind.Free;
        }

        kinds[0] = CellKind.Free;
        kinds[^1] = CellKind.Free;
        return new GridMap(width, height, kinds, $"random-{width}x{height}");
    }
}
