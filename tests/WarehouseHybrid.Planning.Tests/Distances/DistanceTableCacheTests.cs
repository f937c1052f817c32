using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Planning.Tests.Distances;

public sealed class DistanceTableCacheTests
{
    private static readonly CompactGrid Grid = new(TestData.ParseMap("""
        ........
        ..@@@@..
        ........
        """));

    [Fact]
    public void Robots_with_the_same_goal_share_one_table()
    {
        var cache = new DistanceTableCache(Grid, 1 << 20);
        Assert.Same(cache.Get(3), cache.Get(3));
        Assert.Equal(1, cache.Misses);
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public void Least_recently_used_table_is_evicted_when_the_budget_is_full()
    {
        var cache = new DistanceTableCache(Grid, 2 * HeadingDistanceTable.SizeFor(Grid));
        Assert.Equal(2, cache.Capacity);
        cache.Get(0);
        cache.Get(1);
        cache.Get(0); // 1 is now the least recently used
        cache.Get(2);
        Assert.True(cache.Contains(0));
        Assert.False(cache.Contains(1));
        Assert.True(cache.Contains(2));
        Assert.Equal(1, cache.Evictions);
    }

    [Fact]
    public void Concurrent_requests_for_one_goal_compute_it_once()
    {
        var cache = new DistanceTableCache(Grid, 1 << 20);
        var tables = new HeadingDistanceTable[64];
        Parallel.For(0, tables.Length, i => tables[i] = cache.Get(5));
        Assert.All(tables, t => Assert.Same(tables[0], t));
        Assert.Equal(1, cache.Misses);
    }

    [Fact]
    public void Prefetch_computes_every_missing_goal_in_parallel()
    {
        var cache = new DistanceTableCache(Grid, 1 << 20);
        Assert.True(cache.Prefetch([0, 1, 2, 3, 4, 4, 20], 2, () => false, CancellationToken.None));
        Assert.Equal(6, cache.Count);
    }

    [Fact]
    public void Prefetch_stops_when_asked()
    {
        var cache = new DistanceTableCache(Grid, 1 << 20);
        Assert.False(cache.Prefetch([0, 1, 2, 3], 1, () => true, CancellationToken.None));
        Assert.Equal(0, cache.Count);
    }
}
