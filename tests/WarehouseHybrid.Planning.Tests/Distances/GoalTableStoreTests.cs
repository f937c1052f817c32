using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Tests.Support;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Planning.Tests.Distances;

public sealed class GoalTableStoreTests
{
    private static readonly CompactGrid Grid = new(TestData.LoadMap(RepoPaths.Data("movingai/mapf-map/random-32-32-20.map")));

    private static int[] Goals(int count) => TestData.RandomCells(Grid.Map, count, seed: 3).ToArray();

    [Fact]
    public void TryGet_never_computes_and_ComputeNow_makes_the_table_ready()
    {
        var store = new GoalTableStore(Grid, GoalTableKind.PerCell, 1 << 20, backgroundWorkers: 0);
        var g = Goals(1)[0];
        Assert.Null(store.TryGet(g));
        Assert.False(store.Request(g));
        Assert.Null(store.TryGet(g)); // no worker: still not ready
        Assert.Equal(1, store.ComputeNow([g], () => false));
        var t = Assert.IsType<CellDistanceTable>(store.TryGet(g));
        Assert.Equal(0, t.CellDistance(g));
        Assert.True(store.Request(g));
        Assert.Equal(0, store.ComputeNow([g], () => false));
    }

    [Fact]
    public void Background_worker_computes_requested_tables()
    {
        var store = new GoalTableStore(Grid, GoalTableKind.PerHeading, 64L << 20, backgroundWorkers: 1);
        var goals = Goals(20);
        foreach (var g in goals)
        {
            store.Request(g);
        }

        Assert.True(SpinWait.SpinUntil(() => goals.All(g => store.TryGet(g) is not null), TimeSpan.FromSeconds(30)), "the worker did not finish");
        Assert.All(goals, g => Assert.IsType<HeadingDistanceTable>(store.TryGet(g)));
        Assert.Equal(20, store.Computed);
        Assert.True(SpinWait.SpinUntil(() => store.Queued == 0, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Byte_budget_evicts_the_least_recently_used_table()
    {
        var perTable = CellDistanceTable.SizeFor(Grid);
        var store = new GoalTableStore(Grid, GoalTableKind.PerCell, 2 * perTable, backgroundWorkers: 0);
        var g = Goals(3);
        store.ComputeNow([g[0], g[1]], () => false);
        Assert.NotNull(store.TryGet(g[0])); // g[0] is now the most recently used
        store.ComputeNow([g[2]], () => false);
        Assert.Equal(2, store.Count);
        Assert.Equal(1, store.Evictions);
        Assert.Null(store.TryGet(g[1]));
        Assert.NotNull(store.TryGet(g[0]));
        Assert.NotNull(store.TryGet(g[2]));
        Assert.True(store.Bytes <= store.BudgetBytes);
    }

    [Fact]
    public void ComputeNow_stops_when_told()
    {
        var store = new GoalTableStore(Grid, GoalTableKind.PerCell, 64L << 20, backgroundWorkers: 0);
        var calls = 0;
        Assert.Equal(3, store.ComputeNow(Goals(10), () => ++calls > 3));
        Assert.Equal(3, store.Count);
    }

    [Fact]
    public void Bad_arguments_name_the_parameter()
    {
        Assert.Equal("budgetBytes", Assert.Throws<ArgumentOutOfRangeException>(() => new GoalTableStore(Grid, GoalTableKind.PerCell, 0, 1)).ParamName);
        Assert.Equal("kind", Assert.Throws<ArgumentOutOfRangeException>(() => new GoalTableStore(Grid, (GoalTableKind)7, 1, 1)).ParamName);
    }

    [Fact]
    public void Arrays_of_evicted_tables_are_reused_only_two_steps_later_and_the_new_tables_are_right()
    {
        // Room for two tables: every third computation evicts one.
        var store = new GoalTableStore(Grid, GoalTableKind.PerCell, 2 * CellDistanceTable.SizeFor(Grid), backgroundWorkers: 0);
        var goals = Goals(6);
        store.BeginStep();
        store.ComputeNow([goals[0], goals[1], goals[2]], () => false); // evicts goals[0] in this step
        var evicted = CellDistanceTable.Compute(Grid, goals[0]);
        store.BeginStep();
        store.ComputeNow([goals[3]], () => false);
        store.BeginStep();                                              // now the first evicted array may be reused
        store.ComputeNow([goals[4]], () => false);
        foreach (var g in goals[3..5])
        {
            var fresh = CellDistanceTable.Compute(Grid, g);
            var stored = Assert.IsType<CellDistanceTable>(store.TryGet(g));
            for (var c = 0; c < Grid.Map.CellCount; c++)
            {
                Assert.Equal(fresh.CellDistance(c), stored.CellDistance(c));
            }
        }

        Assert.NotNull(evicted);
        Assert.True(store.Evictions >= 3);
    }
}
