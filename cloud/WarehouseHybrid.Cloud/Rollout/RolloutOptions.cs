namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>
/// Model rollout settings (configuration section <c>Cloud:Rollout</c>): the keys uploads must be signed with, and the
/// rules by which a canary is promoted or rolled back (docs/adr/0012-cloud-observability-rollout.md).
/// </summary>
public sealed class RolloutOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cloud:Rollout";

    /// <summary>P-256 public keys (PEM text or the path of a PEM file) that uploaded packages must be signed with.</summary>
    public List<string> TrustedKeys { get; set; } = new();

    /// <summary>How often active rollouts are evaluated.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest package accepted by POST /api/models (all three files together).</summary>
    public int MaxPackageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The promote / roll back rules.</summary>
    public RolloutRules Rules { get; set; } = new();

    /// <summary>Null when valid, else what is wrong (naming the setting).</summary>
    public string? Check()
    {
        if (EvaluationInterval < TimeSpan.FromMilliseconds(10) || EvaluationInterval > TimeSpan.FromHours(1))
        {
            return $"Rollout.EvaluationInterval must be 10 ms - 1 h, got {EvaluationInterval}";
        }

        if (MaxPackageBytes is < 1024 or > 64 * 1024 * 1024)
        {
            return $"Rollout.MaxPackageBytes must be 1 KiB - 64 MiB, got {MaxPackageBytes}";
        }

        for (var i = 0; i < TrustedKeys.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(TrustedKeys[i]))
            {
                return $"Rollout.TrustedKeys[{i}] is empty";
            }
        }

        return Rules.Check();
    }
}

/// <summary>
/// When a canary is promoted or rolled back. Rates are compared as absolute differences (fallback, drift: shares of
/// telemetry records), latency as a ratio, throughput as a relative drop. Each comparison waits for its minimum sample
/// sizes; a rollout is rolled back as soon as one comparison with enough samples is worse than its limit, and promoted
/// once every comparison has enough samples, none is worse, and <see cref="ObservationWindow"/> has passed.
/// </summary>
[GenerateSerializer, Alias("wh.cloud.RolloutRules")]
public sealed class RolloutRules
{
    /// <summary>Telemetry records each cohort needs before fallback and drift rates are compared.</summary>
    [Id(0)] public long MinSamples { get; set; } = 200;

    /// <summary>Roll back when the canary's fallback rate exceeds the baseline's by more than this (0.05 = 5 points).</summary>
    [Id(1)] public double MaxFallbackRateIncrease { get; set; } = 0.05;

    /// <summary>Roll back when the canary's drift rate exceeds the baseline's by more than this.</summary>
    [Id(2)] public double MaxDriftRateIncrease { get; set; } = 0.05;

    /// <summary>Latency reports each cohort needs before inference latency is compared.</summary>
    [Id(3)] public long MinLatencyReports { get; set; } = 50;

    /// <summary>Roll back when the canary's mean inference median is more than this times the baseline's.</summary>
    [Id(4)] public double MaxLatencyRatio { get; set; } = 1.5;

    /// <summary>Errands each cohort must have reached before throughput is compared (errand counts are noisy: keep it high).</summary>
    [Id(5)] public long MinErrandsForThroughput { get; set; } = 100;

    /// <summary>Roll back when the canary reaches fewer errands per robot-hour than the baseline by more than this share.</summary>
    [Id(6)] public double MaxThroughputDrop { get; set; } = 0.10;

    /// <summary>Least time between the start and a promotion.</summary>
    [Id(7)] public TimeSpan ObservationWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>By then <see cref="MinAdoption"/> of the canary robots must report the new version, else roll back.</summary>
    [Id(8)] public TimeSpan AdoptionTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Share of canary robots that must run the new version.</summary>
    [Id(9)] public double MinAdoption { get; set; } = 0.9;

    /// <summary>A rollout still without enough data by then is rolled back (it could not be shown safe).</summary>
    [Id(10)] public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(2);

    /// <summary>A copy (a rollout keeps the rules it started with).</summary>
    public RolloutRules Clone() => (RolloutRules)MemberwiseClone();

    /// <summary>Null when valid, else what is wrong (naming the setting).</summary>
    public string? Check()
    {
        if (MinSamples < 1 || MinLatencyReports < 1 || MinErrandsForThroughput < 1)
        {
            return "Rollout.Rules.MinSamples, MinLatencyReports and MinErrandsForThroughput must be at least 1";
        }

        foreach (var (value, name) in new[] { (MaxFallbackRateIncrease, nameof(MaxFallbackRateIncrease)), (MaxDriftRateIncrease, nameof(MaxDriftRateIncrease)), (MaxThroughputDrop, nameof(MaxThroughputDrop)), (MinAdoption, nameof(MinAdoption)) })
        {
            if (double.IsNaN(value) || value < 0 || value > 1)
            {
                return $"Rollout.Rules.{name} must be 0..1, got {value}";
            }
        }

        if (double.IsNaN(MaxLatencyRatio) || MaxLatencyRatio < 1)
        {
            return $"Rollout.Rules.MaxLatencyRatio must be at least 1, got {MaxLatencyRatio}";
        }

        if (ObservationWindow < TimeSpan.Zero || AdoptionTimeout <= TimeSpan.Zero || MaxDuration <= ObservationWindow || MaxDuration <= AdoptionTimeout)
        {
            return $"Rollout.Rules: AdoptionTimeout must be positive and MaxDuration ({MaxDuration}) longer than ObservationWindow ({ObservationWindow}) and AdoptionTimeout ({AdoptionTimeout})";
        }

        return null;
    }
}
