using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Edge.Localization;

namespace WarehouseHybrid.Edge.Control;

/// <summary>What the robot is doing (numbers match the protobuf RobotState).</summary>
public enum RobotActivity : byte
{
    /// <summary>Not localised yet.</summary>
    Unknown = 0,
    /// <summary>No granted step to run.</summary>
    Idle = 1,
    /// <summary>Running a granted step.</summary>
    Executing = 2,
    /// <summary>Next step known but not granted.</summary>
    WaitingGrant = 3,
    /// <summary>Controlled stop by the shield (stale sensors, obstacle).</summary>
    Stopped = 4,
    /// <summary>Emergency stop engaged.</summary>
    EmergencyStop = 5,
    /// <summary>Board fault.</summary>
    Fault = 6,
}

/// <summary>
/// The control loop's state after one tick: a value copied out under a tiny lock, so telemetry and status
/// readers never touch the loop's own objects.
/// </summary>
public struct ControlSample
{
    /// <summary>Ticks run so far.</summary>
    public long Tick;
    /// <summary>When (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Timestamp;
    /// <summary>Whether the position is anchored.</summary>
    public bool Localized;
    /// <summary>Estimated continuous pose.</summary>
    public ContinuousPose Pose;
    /// <summary>Whether <see cref="DiscretePose"/> is known.</summary>
    public bool HasDiscretePose;
    /// <summary>Discrete pose after the last completed step.</summary>
    public RobotPose DiscretePose;
    /// <summary>Last completed global step (0 before any).</summary>
    public uint LastCompletedStep;
    /// <summary>Highest step granted in order.</summary>
    public uint GrantedThroughStep;
    /// <summary>Whether a plan has been accepted.</summary>
    public bool HasPlan;
    /// <summary>Current plan id.</summary>
    public string PlanId;
    /// <summary>Current plan revision.</summary>
    public ulong PlanRevision;
    /// <summary>Trace id of the latest plan message.</summary>
    public string TraceId;
    /// <summary>Version of the learned model in use (empty when none is loaded).</summary>
    public string ModelVersion;
    /// <summary>Current decision mode.</summary>
    public DecisionMode Mode;
    /// <summary>Why.</summary>
    public DecisionReason Reason;
    /// <summary>What the robot is doing.</summary>
    public RobotActivity Activity;
    /// <summary>Command sent this tick.</summary>
    public DriveCommand Command;
    /// <summary>Whether the brake flag was sent this tick.</summary>
    public bool Braking;
    /// <summary>Battery state of charge, 0..1.</summary>
    public float BatteryFraction;
    /// <summary>Nearest range echo, metres (infinity when none).</summary>
    public double MinRangeMetres;
    /// <summary>Whether the serial sensors are stale.</summary>
    public bool SensorsStale;

    /// <summary>Whether the site sensors (MQTT) are configured but stale or missing (the shield caps speed meanwhile).</summary>
    public bool SiteStale;
    /// <summary>Current task id (empty when none).</summary>
    public string TaskId;

    /// <summary>Ticks the learned policy drove since the model in <see cref="ModelVersion"/> went live (Telemetry.model_health).</summary>
    public ulong ModelLearnedTicks;

    /// <summary>Ticks the rule policy or the shield drove while that model was installed.</summary>
    public ulong ModelFallbackTicks;
}
