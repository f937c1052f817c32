using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Edge.Control;

/// <summary>
/// Geometry of the board's range scan: beam i points i * <see cref="RangeScanLayout.BeamSpacingRad"/> from the
/// robot's heading, in the direction of increasing angle (the same sense as the map's angles).
/// </summary>
public static class RangeGeometry
{
    private static readonly double[] Cos = Table(Math.Cos);
    private static readonly double[] Sin = Table(Math.Sin);

    /// <summary>
    /// Free distance along the direction of motion (forward when <paramref name="forward"/>, else backward):
    /// the nearest echo inside the corridor of half-width <paramref name="halfWidth"/>, measured along the path.
    /// Positive infinity when nothing is in the way.
    /// </summary>
    public static double FreeDistance(in RangeScan ranges, bool forward, double halfWidth)
    {
        var free = double.PositiveInfinity;
        var sign = forward ? 1.0 : -1.0;
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            var mm = ranges[i];
            if (mm == RangeScanLayout.NoEchoMillimetres)
            {
                continue;
            }

            var along = sign * Cos[i];
            if (along <= 1e-9)
            {
                continue;
            }

            var r = mm / 1000.0;
            if (r * Math.Abs(Sin[i]) < halfWidth)
            {
                free = Math.Min(free, r * along);
            }
        }

        return free;
    }

    /// <summary>The nearest echo in any direction, metres (positive infinity when none).</summary>
    public static double MinRange(in RangeScan ranges)
    {
        var min = double.PositiveInfinity;
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            if (ranges[i] != RangeScanLayout.NoEchoMillimetres)
            {
                min = Math.Min(min, ranges[i] / 1000.0);
            }
        }

        return min;
    }

    private static double[] Table(Func<double, double> f)
    {
        var t = new double[RangeScanLayout.BeamCount];
        for (var i = 0; i < t.Length; i++)
        {
            t[i] = f(i * RangeScanLayout.BeamSpacingRad);
        }

        return t;
    }
}
