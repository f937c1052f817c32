using WarehouseHybrid.Cloud.Rollout;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>One robot's live state (key: robot id). Fed by the MQTT bridge; tells its site of completed steps.</summary>
[Alias("wh.cloud.IRobotGrain")]
public interface IRobotGrain : IGrainWithStringKey
{
    /// <summary>Takes a decoded telemetry record.</summary>
    [Alias("ReportTelemetry")]
    Task ReportTelemetryAsync(TelemetryReport report);

    /// <summary>Takes a decoded robot event.</summary>
    [Alias("ReportEvent")]
    Task ReportEventAsync(RobotEventReport report);

    /// <summary>The robot's live state, or null when nothing was heard from it. Answers even while the grain is busy (read only).</summary>
    [Alias("GetStatus"), Orleans.Concurrency.AlwaysInterleave]
    Task<RobotStatus?> GetStatusAsync();

    /// <summary>Per-model-version counters of the robot's learned model (the rollout's canary comparison reads these).</summary>
    [Alias("GetModelHealth")]
    Task<RobotModelHealth> GetModelHealthAsync();
}
