namespace WarehouseHybrid.Hil.World;

/// <summary>
/// Ray-circle intersection for the range sensor (the grid walk is <c>SimWorld.Cast</c>). Pure; no allocation.
/// </summary>
internal static class RangeScanner
{
    /// <summary>Distance along the ray (unit direction dx, dy) to a circle, or +infinity when it misses (0 when starting inside).</summary>
    public static double CastCircle(double x, double y, double dx, double dy, double cx, double cy, double radius)
    {
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
}
