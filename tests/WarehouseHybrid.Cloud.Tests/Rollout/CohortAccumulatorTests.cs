using WarehouseHybrid.Cloud.Rollout;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

public sealed class CohortAccumulatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static ModelVersionHealth Health(string version, long samples, long fallback, long errands, double seconds) => new()
    {
        Version = version,
        Samples = samples,
        FallbackSamples = fallback,
        ErrandsReached = errands,
        FirstSeen = T0,
        LastSeen = T0.AddSeconds(seconds),
    };

    [Fact]
    public void A_baseline_robots_history_before_the_rollout_is_not_counted_but_its_increments_are()
    {
        var cohort = new CohortAccumulator(1);
        cohort.Observe("r1", Health("1.0.0", 10_000, 5_000, 300, 36_000), countFromZero: false);
        Assert.Equal(0, cohort.Total.Samples);
        cohort.Observe("r1", Health("1.0.0", 10_050, 5_010, 302, 36_010), countFromZero: false);
        Assert.Equal(50, cohort.Total.Samples);
        Assert.Equal(10, cohort.Total.FallbackSamples);
        Assert.Equal(2, cohort.Total.Errands);
        Assert.Equal(10, cohort.Total.RobotSeconds, 6);
        Assert.Equal(1, cohort.Total.Reporting);
    }

    [Fact]
    public void A_canarys_new_version_counts_from_its_install_and_a_restart_counts_from_zero()
    {
        var cohort = new CohortAccumulator(1);
        cohort.Observe("r1", Health("1.1.0", 40, 4, 1, 8), countFromZero: true);
        Assert.Equal(40, cohort.Total.Samples);
        Assert.Equal(8, cohort.Total.RobotSeconds, 6);

        // Counters went down: the robot's entry was recreated, its new counts are all new.
        cohort.Observe("r1", Health("1.1.0", 5, 1, 0, 1), countFromZero: true);
        Assert.Equal(45, cohort.Total.Samples);
        Assert.Equal(5, cohort.Total.FallbackSamples);
        cohort.Observe("r2", null, countFromZero: true);
        Assert.Equal(1, cohort.Total.Reporting);
    }
}
