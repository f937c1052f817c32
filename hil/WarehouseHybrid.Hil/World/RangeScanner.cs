using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

/// <summary>
/// Ray casting for the range sensor: from a point in world metres along a world angle to the first obstacle
/// cell face, map edge or robot body (a circle). Pure; no allocation.
/// </summary>
internal static class RangeScanner
{
    /// <summary>Distance to the first obstacle cell or map edge along the ray, capped at <paramref name="maxRange"/>.</summary>
    public static double CastGrid(GridMap map, double cellSize, double x, double y, double angle, double maxRange)
    {
        var dx = Math.Cos(angle);
        var dy = Math.Sin(angle);

        // Work in cell units; Amanatides-Woo traversal of the cells the ray crosses.
        var gx = x / cellSize;
        var gy = y / cellSize;
        var col = (int)Math.Floor(gx);
        var row = (int)Math.Floor(gy);
        if (!map.InBounds(row, col) || !map.IsPassable(map.CellAt(row, col)))
        {
            return 0;
        }

        var stepCol = dx > 0 ? 1 : dx < 0 ? -1 : 0;
        var stepRow = dy > 0 ? 1 : dy < 0 ? -1 : 0;
        var tDeltaX = stepCol != 0 ? 1 / Math.Abs(dx) : double.PositiveInfinity;
        var tDeltaY = stepRow != 0 ? 1 / Math.Abs(dy) : double.PositiveInfinity;
        var tMaxX = stepCol > 0 ? (col + 1 - gx) * tDeltaX : stepCol < 0 ? (gx - col) * tDeltaX : double.PositiveInfinity;
        var tMaxY = stepRow > 0 ? (row + 1 - gy) * tDeltaY : stepRow < 0 ? (gy - row) * tDeltaY : double.PositiveInfinity;
        var maxCells = maxRange / cellSize;

        while (true)
        {
            double t;
            if (tMaxX < tMaxY)
            {
                t = tMaxX;
                col += stepCol;
                tMaxX += tDeltaX;
            }
            else
            {
                t = tMaxY;
                row += stepRow;
                tMaxY += tDeltaY;
            }

            if (t >= maxCells)
            {
                return maxRange;
            }

            if (!map.InBounds(row, col) || !map.IsPassable(map.CellAt(row, col)))
            {
                return t * cellSize;
            }
        }
    }

    /// <summary>Distance along the ray to a circle, or +infinity when the ray misses it (0 when starting inside).</summary>
    public static double CastCircle(double x, double y, double angle, double cx, double cy, double radius)
    {
        var dx = Math.Cos(angle);
        var dy = Math.Sin(angle);
        var ox = x - cx;
        var oy = y - cy;
        var c = (ox * ox) + (oy * oy) - (radius * radius);
        if (c <= 0)
        {
            return 0;
        }

        var b = (ox * dx) + (oy * dy);
        if (b >= 0)
        {
            return double.PositiveInfinity; // centre behind or beside the origin, moving away
        }

        var disc = (b * b) - c;
        return disc < 0 ? double.PositiveInfinity : -b - Math.Sqrt(disc);
    }

    /// <summary>Whether a circle overlaps an obstacle cell or reaches past the map edge.</summary>
    public static bool TouchesObstacleOrEdge(GridMap map, double cellSize, double x, double y, double radius)
    {
        var width = map.Width * cellSize;
        var height = map.Height * cellSize;
        if (x - radius < 0 || y - radius < 0 || x + radius > width || y + radius > height)
        {
            return true;
        }

        var c0 = (int)Math.Floor((x - radius) / cellSize);
        var c1 = (int)Math.Floor((x + radius) / cellSize);
        var r0 = (int)Math.Floor((y - radius) / cellSize);
        var r1 = (int)Math.Floor((y + radius) / cellSize);
        for (var r = r0; r <= r1; r++)
        {
            for (var c = c0; c <= c1; c++)
            {
                if (!map.InBounds(r, c) || map.IsPassable(map.CellAt(r, c)))
                {
                    continue;
                }

                var nx = Math.Clamp(x, c * cellSize, (c + 1) * cellSize);
                var ny = Math.Clamp(y, r * cellSize, (r + 1) * cellSize);
                if (((nx - x) * (nx - x)) + ((ny - y) * (ny - y)) < radius * radius)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
