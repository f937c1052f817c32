using WarehouseHybrid.Cloud.Rollout;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

public sealed class RolloutEvaluatorTests
{
    private static readonly RolloutRules Rules = new()
    {
        MinSamples = 100,
        MaxFallbackRateIncrease = 0.05,
        MaxDriftRateIncrease = 0.05,
        MinLatencyReports = 20,
        MaxLatencyRatio = 1.5,
        MinErrandsForThroughput = 10,
        MaxThroughputDrop = 0.1,
        ObservationWindow = TimeSpan.FromMinutes(5),
        AdoptionTimeout = TimeSpan.FromMinutes(1),
        MinAdoption = 0.9,
        MaxDuration = TimeSpan.FromMinutes(30),
    };

    private static CohortMetrics Cohort(long samples, double fallback = 0.1, double drift = 0.01, long latencyReports = 0, double latency = 0, long errands = 0, double robotSeconds = 0, int robots = 10) => new()
    {
        Robots = robots,
        Reporting = robots,
        Samples = samples,
        FallbackSamples = (long)Math.Round(samples * fallback),
        DriftSamples = (long)Math.Round(samples * drift),
        LatencyReports = latencyReports,
        LatencySumMicros = latency * latencyReports,
        Errands = errands,
        RobotSeconds = robotSeconds,
    };

    private static readonly TimeSpan Late = TimeSpan.FromMinutes(6);

    [Fact]
    public void A_clearly_worse_canary_is_not_judged_before_both_cohorts_have_the_minimum_samples()
    {
        var verdict = RolloutEvaluator.Evaluate(Rules, Cohort(99, fallback: 0.9), Cohort(5_000), adopted: 10, Late);
        Assert.Equal(RolloutAction.Wait, verdict.Action);
        Assert.Equal(CheckOutcome.Insufficient, verdict.Checks.Single(c => c.Metric == "fallback_rate").Outcome);
        verdict = RolloutEvaluator.Evaluate(Rules, Cohort(5_000, fallback: 0.9), Cohort(99), adopted: 10, Late);
        Assert.Equal(RolloutAction.Wait, verdict.Action);
    }

    [Fact]
    public void A_canary_whose_fallback_rate_exceeds_the_baseline_by_more_than_the_limit_is_rolled_back_at_once()
    {
        var verdict = RolloutEvaluator.Evaluate(Rules, Cohort(100, fallback: 0.16), Cohort(100, fallback: 0.10), adopted: 10, TimeSpan.FromSeconds(30));
        Assert.Equal(RolloutAction.RollBack, verdict.Action);
        Assert.Contains("fallback_rate canary 0.16 vs baseline 0.1 (limit 0.15)", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_canary_just_inside_every_limit_is_promoted_only_after_the_observation_window()
    {
        var canary = Cohort(1_000, fallback: 0.14, drift: 0.05, latencyReports: 50, latency: 14, errands: 91, robotSeconds: 3_600);
        var baseline = Cohort(1_000, fallback: 0.10, drift: 0.01, latencyReports: 50, latency: 10, errands: 100, robotSeconds: 3_600);
        Assert.Equal(RolloutAction.Wait, RolloutEvaluator.Evaluate(Rules, canary, baseline, adopted: 10, TimeSpan.FromMinutes(4)).Action);
        var verdict = RolloutEvaluator.Evaluate(Rules, canary, baseline, adopted: 10, Late);
        Assert.Equal(RolloutAction.Promote, verdict.Action);
        Assert.All(verdict.Checks, c => Assert.Equal(CheckOutcome.Pass, c.Outcome));
    }

    [Theory]
    [InlineData(0.1, 0.07, 10, 10, 100, 100, "drift_rate")]
    [InlineData(0.1, 0.01, 16, 10, 100, 100, "inference_us")]
    [InlineData(0.1, 0.01, 10, 10, 89, 100, "errands_per_robot_hour")]
    public void Drift_latency_and_throughput_each_roll_back_a_worse_canary(double fallback, double drift, double latency, double baselineLatency, long errands, long baselineErrands, string metric)
    {
        var canary = Cohort(1_000, fallback, drift, 50, latency, errands, 3_600);
        var baseline = Cohort(1_000, 0.1, 0.01, 50, baselineLatency, baselineErrands, 3_600);
        var verdict = RolloutEvaluator.Evaluate(Rules, canary, baseline, adopted: 10, TimeSpan.FromMinutes(2));
        Assert.Equal(RolloutAction.RollBack, verdict.Action);
        Assert.Equal(CheckOutcome.Fail, verdict.Checks.Single(c => c.Metric == metric).Outcome);
        Assert.StartsWith("canary worse than the rules allow: " + metric, verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_latency_and_throughput_data_do_not_block_a_promotion()
    {
        var verdict = RolloutEvaluator.Evaluate(Rules, Cohort(1_000), Cohort(1_000), adopted: 10, Late);
        Assert.Equal(RolloutAction.Promote, verdict.Action);
        Assert.Equal(CheckOutcome.Insufficient, verdict.Checks.Single(c => c.Metric == "inference_us").Outcome);
        Assert.Equal(CheckOutcome.Insufficient, verdict.Checks.Single(c => c.Metric == "errands_per_robot_hour").Outcome);
    }

    [Fact]
    public void Canary_robots_that_do_not_install_the_model_roll_it_back_after_the_adoption_timeout()
    {
        Assert.Equal(RolloutAction.Wait, RolloutEvaluator.Evaluate(Rules, Cohort(1_000), Cohort(1_000), adopted: 8, TimeSpan.FromSeconds(50)).Action);
        var verdict = RolloutEvaluator.Evaluate(Rules, Cohort(1_000), Cohort(1_000), adopted: 8, TimeSpan.FromSeconds(61));
        Assert.Equal(RolloutAction.RollBack, verdict.Action);
        Assert.Contains("adoption canary 0.8", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rollout_that_never_gets_enough_data_is_rolled_back_at_the_maximum_duration()
    {
        var verdict = RolloutEvaluator.Evaluate(Rules, Cohort(30), Cohort(5_000), adopted: 10, TimeSpan.FromMinutes(31));
        Assert.Equal(RolloutAction.RollBack, verdict.Action);
        Assert.Contains("not enough data", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_edges_tick_counters_decide_the_fallback_rate_only_when_both_cohorts_report_them()
    {
        // Records say the canary falls back far more; ticks (finer) say it does not.
        var canary = Cohort(1_000, fallback: 0.5) with { LearnedTicks = 990, FallbackTicks = 10 };
        var baseline = Cohort(1_000, fallback: 0.1) with { LearnedTicks = 980, FallbackTicks = 20 };
        var verdict = RolloutEvaluator.Evaluate(Rules, canary, baseline, adopted: 10, Late);
        Assert.Equal(RolloutAction.Promote, verdict.Action);
        Assert.Equal(0.01, verdict.Checks.Single(c => c.Metric == "fallback_rate").Canary, 6);

        // Only one cohort reports ticks: both are compared by records.
        verdict = RolloutEvaluator.Evaluate(Rules, canary, baseline with { LearnedTicks = 0, FallbackTicks = 0 }, adopted: 10, Late);
        Assert.Equal(RolloutAction.RollBack, verdict.Action);
        Assert.Equal(0.5, verdict.Checks.Single(c => c.Metric == "fallback_rate").Canary, 6);
    }
}
