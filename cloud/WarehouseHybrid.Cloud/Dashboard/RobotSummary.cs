namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>What the dashboard shows of one robot beyond its pose: model, decision mode, drift, health.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.RobotSummary")]
public sealed record RobotSummary
{
    /// <summary>Robot id.</summary>
    [Id(0)] public string RobotId { get; init; } = string.Empty;

    /// <summary>Site of its last telemetry.</summary>
    [Id(1)] public string SiteId { get; init; } = string.Empty;

    /// <summary>Edge model version ("" = none).</summary>
    [Id(2)] public string ModelVersion { get; init; } = string.Empty;

    /// <summary>Decision mode (protobuf DecisionMode number).</summary>
    [Id(3)] public byte DecisionMode { get; init; }

    /// <summary>Fallback reason ("" while the learned policy drives).</summary>
    [Id(4)] public string FallbackReason { get; init; } = string.Empty;

    /// <summary>Largest drift z-score the edge reported.</summary>
    [Id(5)] public float DriftZ { get; init; }

    /// <summary>Feature with that z-score.</summary>
    [Id(6)] public string DriftFeature { get; init; } = string.Empty;

    /// <summary>Whether the edge reports drift.</summary>
    [Id(7)] public bool Drifting { get; init; }

    /// <summary>Robot state (protobuf RobotState number).</summary>
    [Id(8)] public byte State { get; init; }

    /// <summary>Battery 0..1.</summary>
    [Id(9)] public float Battery { get; init; }

    /// <summary>Cloud clock of the last telemetry, Unix ms.</summary>
    [Id(10)] public long LastSeenUnixMs { get; init; }
}
