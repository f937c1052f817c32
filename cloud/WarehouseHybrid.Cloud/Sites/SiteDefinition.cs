using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Sites;

/// <summary>A robot of a site's roster: its id and the pose it starts in.</summary>
/// <param name="RobotId">Robot id (1-64 of [A-Za-z0-9_-], as in the MQTT topics).</param>
/// <param name="StartCell">Linearised start cell.</param>
/// <param name="StartHeading">Start heading.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.RobotSeat")]
public sealed record RobotSeat(
    [property: Id(0)] string RobotId,
    [property: Id(1)] int StartCell,
    [property: Id(2)] Heading StartHeading);

/// <summary>
/// Everything a site needs to start its cycle, in a form that crosses grain boundaries:
/// the map as per-cell kinds (row-major) and the robot roster. Build it with <see cref="Create"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.SiteDefinition")]
public sealed record SiteDefinition
{
    /// <summary>A label for the map (usually its file name).</summary>
    [Id(0)] public string MapName { get; init; } = string.Empty;

    /// <summary>Map columns.</summary>
    [Id(1)] public int Width { get; init; }

    /// <summary>Map rows.</summary>
    [Id(2)] public int Height { get; init; }

    /// <summary>Per-cell <see cref="CellKind"/> values, row-major, <c>Width * Height</c> of them.</summary>
    [Id(3)] public byte[] Cells { get; init; } = [];

    /// <summary>The robots, in planner index order.</summary>
    [Id(4)] public IReadOnlyList<RobotSeat> Robots { get; init; } = [];

    /// <summary>Builds a definition from a map and a roster and checks it (<see cref="Validate"/>).</summary>
    public static SiteDefinition Create(GridMap map, IEnumerable<RobotSeat> robots)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(robots);
        var cells = new byte[map.CellCount];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = (byte)map.KindOf(i);
        }

        var definition = new SiteDefinition { MapName = map.Name, Width = map.Width, Height = map.Height, Cells = cells, Robots = robots.ToArray() };
        definition.Validate();
        return definition;
    }

    /// <summary>The map as a <see cref="GridMap"/>.</summary>
    public GridMap ToMap()
    {
        var kinds = new CellKind[Cells.Length];
        for (var i = 0; i < kinds.Length; i++)
        {
            kinds[i] = (CellKind)Cells[i];
        }

        return new GridMap(Width, Height, kinds, MapName);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first problem: map size, unknown cell kinds,
    /// an empty roster, a bad or repeated robot id, a start cell off the map, on an obstacle or shared.
    /// </summary>
    public void Validate()
    {
        if (Width <= 0 || Height <= 0 || Cells.Length != Width * Height)
        {
            throw new ArgumentException($"site map '{MapName}': {Width}x{Height} needs {Math.Max(0, Width) * Math.Max(0, Height)} cells, got {Cells.Length}");
        }

        for (var i = 0; i < Cells.Length; i++)
        {
            if (!Enum.IsDefined((CellKind)Cells[i]))
            {
                throw new ArgumentException($"site map '{MapName}': cell {i} has unknown kind {Cells[i]}");
            }
        }

        if (Robots.Count == 0)
        {
            throw new ArgumentException($"site map '{MapName}': the robot roster is empty");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var cells = new Dictionary<int, string>();
        for (var i = 0; i < Robots.Count; i++)
        {
            var seat = Robots[i] ?? throw new ArgumentException($"robot roster entry {i} is null");
            if (!FleetTopics.IsValidId(seat.RobotId))
            {
                throw new ArgumentException($"robot roster entry {i}: id '{seat.RobotId}' must be 1-64 of [A-Za-z0-9_-]");
            }

            if (!ids.Add(seat.RobotId))
            {
                throw new ArgumentException($"robot roster entry {i}: id '{seat.RobotId}' appears twice");
            }

            if ((uint)seat.StartCell >= (uint)Cells.Length || (CellKind)Cells[seat.StartCell] == CellKind.Obstacle)
            {
                throw new ArgumentException($"robot '{seat.RobotId}': start cell {seat.StartCell} is off the map or an obstacle on '{MapName}' ({Width}x{Height})");
            }

            if (!Enum.IsDefined(seat.StartHeading))
            {
                throw new ArgumentException($"robot '{seat.RobotId}': start heading {(int)seat.StartHeading} is not 0..3");
            }

            if (!cells.TryAdd(seat.StartCell, seat.RobotId))
            {
                throw new ArgumentException($"robot '{seat.RobotId}': start cell {seat.StartCell} is already taken by robot '{cells[seat.StartCell]}'");
            }
        }
    }
}
