using WarehouseHybrid.Cloud.Sites;

namespace WarehouseHybrid.Cloud.Tests.Sites;

public sealed class LatencyWindowTests
{
    [Fact]
    public void Percentiles_are_nearest_rank_over_the_window_and_max_is_over_all_samples()
    {
        var window = new LatencyWindow(capacity: 100);
        window.Add(TimeSpan.FromMilliseconds(500));
        for (var i = 1; i <= 100; i++)
        {
            window.Add(TimeSpan.FromMilliseconds(i));
        }

        Assert.Equal(50, window.PercentileMs(50));
        Assert.Equal(99, window.PercentileMs(99));
        Assert.Equal(100, window.LastMs);
        Assert.Equal(500, window.MaxMs); // pushed out of the window but still the maximum
        Assert.Equal(101, window.Total);
    }

    [Fact]
    public void An_empty_window_reports_zero()
    {
        Assert.Equal(0, new LatencyWindow().PercentileMs(99));
    }
}
