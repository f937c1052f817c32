using System.Globalization;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>What an evaluation decided.</summary>
public enum RolloutAction
{
    /// <summary>Keep watching.</summary>
    Wait = 0,
    /// <summary>Send the new version to every robot.</summary>
    Promote = 1,
    /// <summary>Send the canary robots back to their previous model.</summary>
    RollBack = 2,
}

/// <summary>The outcome of one comparison.</summary>
public enum CheckOutcome
{
    /// <summary>Not enough samples yet.</summary>
    Insufficient = 0,
    /// <summary>Within the limit.</summary>
    Pass = 1,
    /// <summary>The canary is worse than the limit allows.</summary>
    Fail = 2,
}

/// <summary>One metric compared between canary and baseline.</summary>
/// <param name="Metric">fallback_rate, drift_rate, inference_us, errands_per_robot_hour or adoption.</param>
/// <param name="Canary">The canary's value.</param>
/// <param name="Baseline">The baseline's value.</param>
/// <param name="Limit">The canary value at which it fails (the rule applied to the baseline).</param>
/// <param name="Outcome">What the comparison says.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.RolloutCheck")]
public sealed record RolloutCheck(
    [property: Id(0)] string Metric,
    [property: Id(1)] double Canary,
    [property: Id(2)] double Baseline,
    [property: Id(3)] double Limit,
    [property: Id(4)] CheckOutcome Outcome);

/// <summary>An evaluation: the action, why, and every comparison.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Reason">One line for the audit trail.</param>
/// <param name="Checks">The comparisons.</param>
public sealed record RolloutVerdict(RolloutAction Action, string Reason, IReadOnlyList<RolloutCheck> Checks);

/// <summary>
/// The promote / roll back rules of <see cref="RolloutRules"/> as a pure function of the two cohorts, the canary's
/// adoption and the time since the start (docs/adr/0012-cloud-observability-rollout.md, "Rollout rules").
/// </summary>
public static class RolloutEvaluator
{
    /// <summary>Evaluates a running canary.</summary>
    /// <param name="rules">The rules.</param>
    /// <param name="canary">The canary cohort on the new version.</param>
    /// <param name="baseline">The rest, on their own versions.</param>
    /// <param name="adopted">Canary robots that run the new version now.</param>
    /// <param name="elapsed">Time since the rollout started.</param>
    public static RolloutVerdict Evaluate(RolloutRules rules, CohortMetrics canary, CohortMetrics baseline, int adopted, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(canary);
        ArgumentNullException.ThrowIfNull(baseline);
        var checks = new List<RolloutCheck>();
        var adoption = canary.Robots == 0 ? 0 : (double)adopted / canary.Robots;
        var adoptionOutcome = adoption >= rules.MinAdoption ? CheckOutcome.Pass : elapsed >= rules.AdoptionTimeout ? CheckOutcome.Fail : CheckOutcome.Insufficient;
        checks.Add(new RolloutCheck("adoption", adoption, 1, rules.MinAdoption, adoptionOutcome));

        var enough = canary.Samples >= rules.MinSamples && baseline.Samples >= rules.MinSamples;
        // Control ticks are the finer measure (every tick, not every telemetry record); used when both cohorts report them.
        var ticks = !double.IsNaN(canary.TickFallbackRate) && !double.IsNaN(baseline.TickFallbackRate);
        var canaryFallback = ticks ? canary.TickFallbackRate : canary.FallbackRate;
        var baselineFallback = ticks ? baseline.TickFallbackRate : baseline.FallbackRate;
        checks.Add(Higher("fallback_rate", canaryFallback, baselineFallback, baselineFallback + rules.MaxFallbackRateIncrease, enough));
        checks.Add(Higher("drift_rate", canary.DriftRate, baseline.DriftRate, baseline.DriftRate + rules.MaxDriftRateIncrease, enough));
        var latencyEnough = canary.LatencyReports >= rules.MinLatencyReports && baseline.LatencyReports >= rules.MinLatencyReports;
        checks.Add(Higher("inference_us", canary.InferenceMicros, baseline.InferenceMicros, baseline.InferenceMicros * rules.MaxLatencyRatio, latencyEnough));
        var throughputEnough = baseline.Errands >= rules.MinErrandsForThroughput && canary.Errands >= rules.MinErrandsForThroughput
            && canary.RobotSeconds > 0 && baseline.RobotSeconds > 0 && enough;
        var floor = baseline.ErrandsPerRobotHour * (1 - rules.MaxThroughputDrop);
        checks.Add(new RolloutCheck(
            "errands_per_robot_hour", canary.ErrandsPerRobotHour, baseline.ErrandsPerRobotHour, floor,
            !throughputEnough ? CheckOutcome.Insufficient : canary.ErrandsPerRobotHour < floor ? CheckOutcome.Fail : CheckOutcome.Pass));

        var failed = checks.Where(c => c.Outcome == CheckOutcome.Fail).ToList();
        if (failed.Count > 0)
        {
            return new RolloutVerdict(RolloutAction.RollBack, "canary worse than the rules allow: " + string.Join("; ", failed.Select(Describe)), checks);
        }

        // Latency and throughput may never get data (edges that report no latency, sites without tasks): those
        // comparisons do not block a promotion; adoption, fallback and drift must pass.
        var required = checks.Where(c => c.Metric is "adoption" or "fallback_rate" or "drift_rate").ToList();
        if (required.All(c => c.Outcome == CheckOutcome.Pass) && elapsed >= rules.ObservationWindow)
        {
            return new RolloutVerdict(RolloutAction.Promote, "canary within every limit after " + Duration(elapsed) + ": " + string.Join("; ", checks.Where(c => c.Outcome == CheckOutcome.Pass).Select(Describe)), checks);
        }

        if (elapsed >= rules.MaxDuration)
        {
            var missing = checks.Where(c => c.Outcome == CheckOutcome.Insufficient).Select(c => c.Metric);
            return new RolloutVerdict(RolloutAction.RollBack, $"not enough data after {Duration(elapsed)} to show the canary safe ({string.Join(", ", missing)}; canary {canary.Samples} and baseline {baseline.Samples} records, {rules.MinSamples} needed)", checks);
        }

        return new RolloutVerdict(RolloutAction.Wait, $"watching: canary {canary.Samples} and baseline {baseline.Samples} records ({rules.MinSamples} needed), adoption {adoption:P0}, {Duration(elapsed)} of {Duration(rules.ObservationWindow)}", checks);
    }

    private static RolloutCheck Higher(string metric, double canary, double baseline, double limit, bool enough) =>
        new(metric, canary, baseline, limit, !enough || double.IsNaN(canary) || double.IsNaN(baseline) ? CheckOutcome.Insufficient : canary > limit ? CheckOutcome.Fail : CheckOutcome.Pass);

    private static string Describe(RolloutCheck c) => c.Metric == "errands_per_robot_hour"
        ? string.Create(CultureInfo.InvariantCulture, $"{c.Metric} canary {c.Canary:G4} vs baseline {c.Baseline:G4} (floor {c.Limit:G4})")
        : string.Create(CultureInfo.InvariantCulture, $"{c.Metric} canary {c.Canary:G4} vs baseline {c.Baseline:G4} (limit {c.Limit:G4})");

    private static string Duration(TimeSpan t) => t.TotalMinutes >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalMinutes:F1} min")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:F0} s");
}
