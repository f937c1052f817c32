using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Observability;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>How one model version did on one robot, cumulative since the robot first reported it.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.ModelVersionHealth")]
public sealed record ModelVersionHealth
{
    /// <summary>Model version ("" = no learned model installed).</summary>
    [Id(0)] public string Version { get; init; } = string.Empty;

    /// <summary>Telemetry records on this version.</summary>
    [Id(1)] public long Samples { get; init; }

    /// <summary>Records whose decision mode was the learned policy.</summary>
    [Id(2)] public long LearnedSamples { get; init; }

    /// <summary>Records whose decision was the rule policy or the shield.</summary>
    [Id(3)] public long FallbackSamples { get; init; }

    /// <summary>Records the edge flagged as drifting (drift verdict or the input-drift fallback reason).</summary>
    [Id(4)] public long DriftSamples { get; init; }

    /// <summary>Records while the edge waited for an escalation.</summary>
    [Id(5)] public long EscalatedSamples { get; init; }

    /// <summary>Errands reached on this version (sum of the robot counter's increments).</summary>
    [Id(6)] public long ErrandsReached { get; init; }

    /// <summary>Sum of the reported inference medians (microseconds), for a mean over <see cref="InferenceReports"/>.</summary>
    [Id(7)] public double InferenceP50SumMicros { get; init; }

    /// <summary>Records that carried an inference latency.</summary>
    [Id(8)] public long InferenceReports { get; init; }

    /// <summary>First record on this version (cloud clock).</summary>
    [Id(9)] public DateTimeOffset FirstSeen { get; init; }

    /// <summary>Last record on this version (cloud clock).</summary>
    [Id(10)] public DateTimeOffset LastSeen { get; init; }

    /// <summary>The edge's cumulative learned ticks (last report).</summary>
    [Id(11)] public ulong LearnedTicks { get; init; }

    /// <summary>The edge's cumulative fallback ticks (last report).</summary>
    [Id(12)] public ulong FallbackTicks { get; init; }

    /// <summary>Last reported drift z-score.</summary>
    [Id(13)] public double DriftZ { get; init; }

    /// <summary>Feature of the last reported drift z-score.</summary>
    [Id(14)] public string DriftFeature { get; init; } = string.Empty;

    /// <summary>Whether the last record flagged drift.</summary>
    [Id(15)] public bool Drifting { get; init; }
}

/// <summary>A robot's model health: the version it runs now and the last few versions it ran.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.RobotModelHealth")]
public sealed record RobotModelHealth
{
    /// <summary>Robot id.</summary>
    [Id(0)] public string RobotId { get; init; } = string.Empty;

    /// <summary>The version in the last telemetry record.</summary>
    [Id(1)] public string CurrentVersion { get; init; } = string.Empty;

    /// <summary>Versions, oldest first, at most <see cref="ModelHealthTracker.VersionsKept"/>.</summary>
    [Id(2)] public IReadOnlyList<ModelVersionHealth> Versions { get; init; } = [];

    /// <summary>The entry for <paramref name="version"/>, or null.</summary>
    public ModelVersionHealth? For(string version) => Versions.LastOrDefault(v => v.Version == version);
}

/// <summary>
/// Folds a robot's telemetry into per-version counters (plain code; the robot grain holds one). The canary
/// comparison and the dashboard read its snapshot.
/// </summary>
public sealed class ModelHealthTracker
{
    /// <summary>Versions remembered per robot (a rollout compares the current one with the one before).</summary>
    public const int VersionsKept = 3;

    private readonly List<ModelVersionHealth> _versions = new();
    private uint? _lastErrands;
    private string _current = string.Empty;

    /// <summary>Takes one accepted telemetry record.</summary>
    public void Observe(TelemetryReport report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(report);
        var version = report.ModelVersion;
        var index = _versions.FindLastIndex(v => v.Version == version);
        var entry = index >= 0 ? _versions[index] : new ModelVersionHealth { Version = version, FirstSeen = now };

        // A counter that went down means the edge restarted: count from its new value.
        long errands = 0;
        if (_lastErrands is { } last)
        {
            errands = report.ErrandsReached >= last ? report.ErrandsReached - last : report.ErrandsReached;
        }

        _lastErrands = report.ErrandsReached;
        var health = report.ModelHealth;
        var drifting = health?.Drifting == true || report.FallbackReason == CloudMetrics.DriftReason;
        var fallback = report.DecisionMode is 2 or 3;
        entry = entry with
        {
            Samples = entry.Samples + 1,
            LearnedSamples = entry.LearnedSamples + (report.DecisionMode == 1 ? 1 : 0),
            FallbackSamples = entry.FallbackSamples + (fallback ? 1 : 0),
            DriftSamples = entry.DriftSamples + (drifting ? 1 : 0),
            EscalatedSamples = entry.EscalatedSamples + (report.DecisionMode == 4 ? 1 : 0),
            ErrandsReached = entry.ErrandsReached + errands,
            InferenceP50SumMicros = entry.InferenceP50SumMicros + (health is { InferenceP50Micros: > 0 } ? health.InferenceP50Micros : 0),
            InferenceReports = entry.InferenceReports + (health is { InferenceP50Micros: > 0 } ? 1 : 0),
            LastSeen = now,
            LearnedTicks = health?.LearnedTicks ?? entry.LearnedTicks,
            FallbackTicks = health?.FallbackTicks ?? entry.FallbackTicks,
            DriftZ = health?.DriftMaxZ ?? entry.DriftZ,
            DriftFeature = health?.DriftFeature ?? entry.DriftFeature,
            Drifting = drifting,
        };

        if (index >= 0)
        {
            _versions.RemoveAt(index);
        }

        _versions.Add(entry);
        if (_versions.Count > VersionsKept)
        {
            _versions.RemoveAt(0);
        }

        _current = version;
    }

    /// <summary>The robot's health now.</summary>
    public RobotModelHealth Snapshot(string robotId) => new() { RobotId = robotId, CurrentVersion = _current, Versions = _versions.ToArray() };
}
