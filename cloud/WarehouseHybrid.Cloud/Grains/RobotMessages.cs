using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>A decoded telemetry record as the robot grain receives it (from the MQTT bridge).</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.TelemetryReport")]
public sealed record TelemetryReport
{
    /// <summary>Robot id (checked against the topic by the bridge).</summary>
    [Id(0)] public string RobotId { get; init; } = string.Empty;

    /// <summary>Site id from the topic.</summary>
    [Id(1)] public string SiteId { get; init; } = string.Empty;

    /// <summary>The robot's monotonic sequence number.</summary>
    [Id(2)] public ulong Seq { get; init; }

    /// <summary>Robot clock, Unix milliseconds.</summary>
    [Id(3)] public long TimestampUnixMs { get; init; }

    /// <summary>Discrete cell, or -1 when the record had no pose.</summary>
    [Id(4)] public int Cell { get; init; } = -1;

    /// <summary>Discrete heading.</summary>
    [Id(5)] public Heading Heading { get; init; }

    /// <summary>Continuous x in metres.</summary>
    [Id(6)] public double XMetres { get; init; }

    /// <summary>Continuous y in metres.</summary>
    [Id(7)] public double YMetres { get; init; }

    /// <summary>Continuous heading angle in radians.</summary>
    [Id(8)] public double ThetaRadians { get; init; }

    /// <summary>Robot state (the protobuf RobotState number).</summary>
    [Id(9)] public int State { get; init; }

    /// <summary>Battery 0..1.</summary>
    [Id(10)] public float BatteryFraction { get; init; }

    /// <summary>Global step of the last completed plan action.</summary>
    [Id(11)] public uint LastCompletedStep { get; init; }

    /// <summary>Revision of the plan the robot runs.</summary>
    [Id(12)] public ulong PlanRevision { get; init; }

    /// <summary>Version of the edge model.</summary>
    [Id(13)] public string ModelVersion { get; init; } = string.Empty;

    /// <summary>Decision mode (the protobuf DecisionMode number).</summary>
    [Id(14)] public int DecisionMode { get; init; }

    /// <summary>Errands reached since the robot started.</summary>
    [Id(15)] public uint ErrandsReached { get; init; }

    /// <summary>W3C traceparent of the record.</summary>
    [Id(16)] public string TraceId { get; init; } = string.Empty;

    /// <summary>The robot's record stream (seq is unique within it; duplicates are discarded by stream and seq).</summary>
    [Id(17)] public ulong StreamId { get; init; }

    /// <summary>Why the rule policy or the shield acted; empty while the learned policy drives.</summary>
    [Id(18)] public string FallbackReason { get; init; } = string.Empty;

    /// <summary>The learned model's counters, latency and drift, when the edge reported them (Telemetry.model_health).</summary>
    [Id(19)] public ModelHealthReport? ModelHealth { get; init; }
}

/// <summary>Telemetry.model_health as the grains receive it (cumulative counters since the model was installed).</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.ModelHealthReport")]
public sealed record ModelHealthReport
{
    /// <summary>Ticks the learned policy decided.</summary>
    [Id(0)] public ulong LearnedTicks { get; init; }

    /// <summary>Ticks the rule policy or the shield decided while a model was installed.</summary>
    [Id(1)] public ulong FallbackTicks { get; init; }

    /// <summary>Escalation requests sent.</summary>
    [Id(2)] public ulong EscalationsSent { get; init; }

    /// <summary>Inference latency median of the last window, microseconds.</summary>
    [Id(3)] public float InferenceP50Micros { get; init; }

    /// <summary>Inference latency 99th percentile of the last window, microseconds.</summary>
    [Id(4)] public float InferenceP99Micros { get; init; }

    /// <summary>Largest drift z-score over the features.</summary>
    [Id(5)] public double DriftMaxZ { get; init; }

    /// <summary>The feature with that z-score.</summary>
    [Id(6)] public string DriftFeature { get; init; } = string.Empty;

    /// <summary>The drift monitor's verdict.</summary>
    [Id(7)] public bool Drifting { get; init; }
}

/// <summary>A robot event as the robot grain receives it.</summary>
/// <param name="RobotId">Robot id.</param>
/// <param name="SiteId">Site id from the topic.</param>
/// <param name="Seq">Robot sequence number.</param>
/// <param name="TimestampUnixMs">Robot clock.</param>
/// <param name="Kind">Event kind, e.g. "plan-rejected".</param>
/// <param name="Detail">Free text.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.RobotEventReport")]
public sealed record RobotEventReport(
    [property: Id(0)] string RobotId,
    [property: Id(1)] string SiteId,
    [property: Id(2)] ulong Seq,
    [property: Id(3)] long TimestampUnixMs,
    [property: Id(4)] string Kind,
    [property: Id(5)] string Detail)
{
    /// <summary>The robot's record stream (shared with its telemetry's seq space).</summary>
    [Id(6)] public ulong StreamId { get; init; }

    /// <summary>The record class the edge stored it as ("event", "task", "safety", "audit").</summary>
    [Id(7)] public string EventClass { get; init; } = string.Empty;

    /// <summary>W3C traceparent of the event.</summary>
    [Id(8)] public string TraceId { get; init; } = string.Empty;
}

/// <summary>The live state of one robot kept by its grain.</summary>
[GenerateSerializer, Alias("wh.cloud.RobotStatus")]
public sealed record RobotStatus
{
    /// <summary>Robot id.</summary>
    [Id(0)] public string RobotId { get; init; } = string.Empty;

    /// <summary>Site it last reported for.</summary>
    [Id(1)] public string SiteId { get; init; } = string.Empty;

    /// <summary>The last telemetry accepted.</summary>
    [Id(2)] public TelemetryReport? LastTelemetry { get; init; }

    /// <summary>When the last telemetry arrived (cloud clock).</summary>
    [Id(3)] public DateTimeOffset LastSeen { get; init; }

    /// <summary>Telemetry records accepted.</summary>
    [Id(4)] public long TelemetryCount { get; init; }

    /// <summary>Records dropped as duplicates (same sequence number as the last).</summary>
    [Id(5)] public long DuplicatesDropped { get; init; }

    /// <summary>The last completed plan step reported.</summary>
    [Id(6)] public uint LastCompletedStep { get; init; }

    /// <summary>Events received.</summary>
    [Id(7)] public long EventCount { get; init; }

    /// <summary>Kind of the last event.</summary>
    [Id(8)] public string LastEventKind { get; init; } = string.Empty;

    /// <summary>Detail of the last event.</summary>
    [Id(9)] public string LastEventDetail { get; init; } = string.Empty;

    /// <summary>How the site answered the last step confirmation.</summary>
    [Id(10)] public StepConfirmResult LastConfirmResult { get; init; }

    /// <summary>Records that arrived after a newer one (reordered across bridges): counted, not applied to the live state.</summary>
    [Id(11)] public long LateRecords { get; init; }

    /// <summary>Events dropped as duplicates.</summary>
    [Id(12)] public long EventDuplicatesDropped { get; init; }

    /// <summary>The silo the robot's grain runs on (filled in when read).</summary>
    [Id(13)] public string Silo { get; init; } = string.Empty;

    /// <summary>
    /// Detail of the robot's last <c>model-deployment</c> event (<c>rollout=ID version=V result=R: why</c>, docs/mqtt-topics.md):
    /// how the edge answered the rollout's last <c>cmd/model</c>; empty before any.
    /// </summary>
    [Id(14)] public string LastModelDeployment { get; init; } = string.Empty;

    /// <summary>Trace id of that event (the deployment's trace).</summary>
    [Id(15)] public string LastModelDeploymentTrace { get; init; } = string.Empty;
}
