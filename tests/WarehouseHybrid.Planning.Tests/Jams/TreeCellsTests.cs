using WarehouseHybrid.Planning.Jams;
using WarehouseHybrid.Planning.Tests.Support;
using Xunit.Abstractions;

namespace WarehouseHybrid.Planning.Tests.Jams;

/// <summary>The bridge cells that gate the jam fallback: trees are all bridges, loops none, a pocket off a loop its mouth.</summary>
public sealed class TreeCellsTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_cell_of_a_tree_shaped_corridor_is_on_a_bridge()
    {
        var s = CorridorScenarios.TCorridor(1, taskSeed: 1);
        var tree = new TreeCells(s.Map);
        Assert.Equal(s.Map.PassableCount - 1, tree.Count);
        Assert.All(Enumerable.Range(0, s.Map.CellCount).Where(s.Map.IsPassable), c => Assert.True(tree.OnBridge(c)));
    }

    [Fact]
    public void A_loop_has_no_bridge_and_a_pocket_off_it_has_one_at_its_mouth()
    {
        var map = TestData.ParseMap("""
            .....
            .@@@.
            .....
            @@.@@
            """);
        var tree = new TreeCells(map);
        Assert.Equal(1, tree.Count);
        Assert.True(tree.OnBridge(map.CellAt(3, 2)));
        Assert.True(tree.OnBridge(map.CellAt(2, 2)));
        Assert.False(tree.OnBridge(map.CellAt(0, 0)));
        Assert.False(tree.OnBridge(map.CellAt(2, 1)));
        Assert.False(tree.OnBridge(-1));
    }

    [Fact]
    public void Random_tree_maps_are_all_bridges_and_a_long_corridor_does_not_overflow_the_stack()
    {
        var rng = new Random(7);
        var map = TreeMaps.Create(rng, 40, 40);
        var tree = new TreeCells(map);
        Assert.Equal(map.PassableCount - 1, tree.Count);
        var corridor = TestData.ParseMap(new string('.', 100_000));
        Assert.Equal(99_999, new TreeCells(corridor).Count);
        output.WriteLine($"{map.PassableCount} cells");
    }
}
