namespace WarehouseHybrid.Domain.Grid;

/// <summary>
/// Continuous geometry of the grid, shared by the edge (odometry, step targets) and the HIL world.
/// World frame: x grows with the column (east), y grows with the row (south, down the map), both in
/// metres from the map's top-left corner; angles are measured from +x toward +y, so the LoRR
/// orientation numbers map directly: east 0, south pi/2, west pi, north 3pi/2 (= -pi/2).
/// A cell's centre is ((column + 0.5) * size, (row + 0.5) * size).
/// </summary>
/// <param name="CellSizeMetres">Edge length of one grid cell in metres.</param>
public readonly record struct GridGeometry(double CellSizeMetres)
{
    /// <summary>The default: 1 m cells.</summary>
    public static GridGeometry Default => new(1.0);

    /// <summary>Centre of a cell in world metres.</summary>
    public (double X, double Y) CellCentre(GridMap map, int cell) =>
        ((map.Column(cell) + 0.5) * CellSizeMetres, (map.Row(cell) + 0.5) * CellSizeMetres);

    /// <summary>The cell containing a world point, or -1 when outside the map.</summary>
    public int CellAt(GridMap map, double x, double y)
    {
        var c = (int)Math.Floor(x / CellSizeMetres);
        var r = (int)Math.Floor(y / CellSizeMetres);
        return map.InBounds(r, c) ? map.CellAt(r, c) : -1;
    }

    /// <summary>The world angle of a heading, in radians in [0, 2pi).</summary>
    public static double Angle(Heading heading) => (int)heading * (Math.PI / 2);

    /// <summary>The heading nearest to a world angle.</summary>
    public static Heading NearestHeading(double angleRad)
    {
        var quarter = (int)Math.Round(NormalizeAngle(angleRad) / (Math.PI / 2));
        return (Heading)(quarter & 3);
    }

    /// <summary>An angle wrapped into [0, 2pi).</summary>
    public static double NormalizeAngle(double a)
    {
        var twoPi = 2 * Math.PI;
        a %= twoPi;
        return a < 0 ? a + twoPi : a;
    }

    /// <summary>Signed smallest difference <c>to - from</c>, in (-pi, pi].</summary>
    public static double AngleDifference(double from, double to)
    {
        var d = NormalizeAngle(to - from);
        return d > Math.PI ? d - (2 * Math.PI) : d;
    }
}
