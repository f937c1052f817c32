namespace WarehouseHybrid.Domain.Grid;

/// <summary>
/// A robot's facing on the 4-connected grid. Values match the LoRR Start-Kit's orientation
/// numbers (0 = east, 1 = south, 2 = west, 3 = north), so files and outputs convert directly.
/// </summary>
public enum Heading : byte
{
    /// <summary>Facing +column.</summary>
    East = 0,
    /// <summary>Facing +row (down the map).</summary>
    South = 1,
    /// <summary>Facing -column.</summary>
    West = 2,
    /// <summary>Facing -row (up the map).</summary>
    North = 3,
}

/// <summary>Turning and stepping arithmetic on <see cref="Heading"/>.</summary>
public static class HeadingMath
{
    /// <summary>The heading after a clockwise quarter turn (east to south).</summary>
    public static Heading RotateClockwise(this Heading h) => (Heading)(((int)h + 1) & 3);

    /// <summary>The heading after a counter-clockwise quarter turn (east to north).</summary>
    public static Heading RotateCounterClockwise(this Heading h) => (Heading)(((int)h + 3) & 3);

    /// <summary>The opposite heading.</summary>
    public static Heading Opposite(this Heading h) => (Heading)(((int)h + 2) & 3);

    /// <summary>Row and column change of one forward step.</summary>
    public static (int DRow, int DCol) Delta(this Heading h) => h switch
    {
        Heading.East => (0, 1),
        Heading.South => (1, 0),
        Heading.West => (0, -1),
        Heading.North => (-1, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(h), h, "heading must be 0..3"),
    };

    /// <summary>Fewest quarter turns between two headings (0, 1 or 2).</summary>
    public static int TurnsBetween(Heading a, Heading b)
    {
        var d = ((int)b - (int)a) & 3;
        return d == 3 ? 1 : d;
    }
}
