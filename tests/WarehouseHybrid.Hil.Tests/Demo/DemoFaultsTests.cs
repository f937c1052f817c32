using WarehouseHybrid.Hil.Demo;
using WarehouseHybrid.Hil.Tests.World;

namespace WarehouseHybrid.Hil.Tests.Demo;

public sealed class DemoFaultsTests
{
    private static readonly WarehouseHybrid.Domain.Grid.GridMap Map = TestMaps.FromRows("....", ".@..", "....");

    [Fact]
    public void A_live_fault_parses_into_the_scenario_fault_model()
    {
        var f = DemoFaults.Parse("board.estop:3@20s-30s", 5, Map, out var error);
        Assert.Null(error);
        Assert.Equal(("board.estop", TimeSpan.FromSeconds(20), (TimeSpan?)TimeSpan.FromSeconds(30)), (f!.Kind, f.At, f.Until));
        Assert.Equal([3], f.Robots);

        var block = DemoFaults.Parse("world.block:2,3@5s", 5, Map, out error);
        Assert.Equal([Map.CellAt(2, 3)], block!.Cells);
    }

    [Theory]
    [InlineData("board.estop@20s", "expected kind:target@start[-end]")]
    [InlineData("laser.fire:1@2s", "'laser.fire' is not one of")]
    [InlineData("board.estop:9@2s", "'9' is not a robot index 0..4")]
    [InlineData("serial.unplug:1@2s", "serial.unplug needs an end")]
    [InlineData("board.estop:1@30s-20s", "must be after the start")]
    [InlineData("world.block:1,1@2s", "'1,1' is not a free cell")]
    public void A_bad_live_fault_is_refused_naming_the_problem(string text, string expected)
    {
        Assert.Null(DemoFaults.Parse(text, 5, Map, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.StartsWith($"--fault '{text}'", error, StringComparison.Ordinal);
    }
}
