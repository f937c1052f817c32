using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Tests.Support;

internal static class TestMaps
{
    /// <summary>An open map of the given size and name (the name selects the planner in <see cref="SiloFixture"/>).</summary>
    public static GridMap Open(int width, int height, string name)
    {
        var kinds = new CellKind[width * height];
        return new GridMap(width, height, kinds, name);
    }

    /// <summary>A 10x2 open site: robot r0 at the west end of row 0 facing east, the others in row 1.</summary>
    public static SiteDefinition Corridor(string name, int robots)
        => Corridor(name, robots, name + "-");

    /// <summary>The corridor with robot ids <c>{prefix}r{i}</c>.</summary>
    public static SiteDefinition Corridor(string name, int robots, string prefix)
    {
        var map = Open(10, 2, name);
        var seats = new List<RobotSeat> { new(prefix + "r0", 0, Heading.East) };
        for (var i = 1; i < robots; i++)
        {
            seats.Add(new RobotSeat($"{prefix}r{i}", 10 + i, Heading.East));
        }

        return SiteDefinition.Create(map, seats);
    }
}

internal static class SiteDefinitionTestExtensions
{
    /// <summary>The same site with its single robot renamed.</summary>
    public static SiteDefinition WithRobotId(this SiteDefinition definition, string robotId) =>
        definition with { Robots = [definition.Robots[0] with { RobotId = robotId }] };
}
