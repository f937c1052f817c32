using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Tests.Sites;

public sealed class SiteDefinitionTests
{
    private static readonly GridMap Map = new(3, 1, [CellKind.Free, CellKind.Obstacle, CellKind.Service], "tiny");

    [Fact]
    public void A_definition_round_trips_its_map()
    {
        var definition = SiteDefinition.Create(Map, [new RobotSeat("r1", 0, Heading.North)]);
        var map = definition.ToMap();
        Assert.Equal((3, 1, "tiny"), (map.Width, map.Height, map.Name));
        Assert.Equal(CellKind.Obstacle, map.KindOf(1));
        Assert.Equal(CellKind.Service, map.KindOf(2));
    }

    [Theory]
    [InlineData("r1", 1, "r2", 2, "robot 'r1': start cell 1 is off the map or an obstacle")]
    [InlineData("r1", 0, "r2", 0, "robot 'r2': start cell 0 is already taken by robot 'r1'")]
    [InlineData("r1", 0, "r1", 2, "robot roster entry 1: id 'r1' appears twice")]
    [InlineData("r1", 0, "bad/id", 2, "robot roster entry 1: id 'bad/id' must be")]
    [InlineData("r1", 0, "r2", 7, "robot 'r2': start cell 7 is off the map")]
    public void A_bad_roster_is_refused_naming_the_robot_and_the_problem(string id1, int cell1, string id2, int cell2, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => SiteDefinition.Create(Map, [new RobotSeat(id1, cell1, Heading.East), new RobotSeat(id2, cell2, Heading.East)]));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_roster_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => SiteDefinition.Create(TestMaps.Open(2, 2, "m"), []));
        Assert.Contains("roster is empty", ex.Message, StringComparison.Ordinal);
    }
}
