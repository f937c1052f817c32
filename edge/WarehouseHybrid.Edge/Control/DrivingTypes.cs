using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;

namespace WarehouseHybrid.Edge.Control;

/// <summary>Body velocities a policy proposes: forward m/s and yaw rate rad/s (positive turns from +x toward +y).</summary>
/// <param name="LinearMps">Forward speed.</param>
/// <param name="AngularRadps">Yaw rate in the map's angle convention.</param>
public readonly record struct DriveCommand(double LinearMps, double AngularRadps);

/// <summary>Which part of the runtime-assurance chain produced the motor command (numbers match the protobuf DecisionMode).</summary>
public enum DecisionMode : byte
{
    /// <summary>Not decided yet.</summary>
    Unknown = 0,
    /// <summary>The learned policy's proposal was accepted (later issue).</summary>
    Learned = 1,
    /// <summary>The deterministic rule policy.</summary>
    Rule = 2,
    /// <summary>The safety shield overrode the proposal to stop or slow.</summary>
    ShieldStop = 3,
}

/// <summary>Why the current mode holds (the telemetry's fallback_reason).</summary>
public enum DecisionReason : byte
{
    /// <summary>No override: the rule policy drives because no learned policy is installed.</summary>
    RulePolicy = 0,
    /// <summary>The hardware emergency stop is engaged.</summary>
    EmergencyStop = 1,
    /// <summary>The bumper is pressed.</summary>
    Bumper = 2,
    /// <summary>The board reports a fault.</summary>
    BoardFault = 3,
    /// <summary>No fresh sensor frame.</summary>
    SensorStale = 4,
    /// <summary>An obstacle lies within the stopping distance at the current speed.</summary>
    ObstacleInStoppingDistance = 5,
    /// <summary>An obstacle ahead limits the proposed speed.</summary>
    ObstacleAhead = 6,
    /// <summary>The proposal was not a finite number.</summary>
    InvalidProposal = 7,
    /// <summary>The runtime is shutting down.</summary>
    Shutdown = 8,
    /// <summary>The learned policy's proposal was accepted (model healthy, on time, confident, inputs in distribution).</summary>
    LearnedPolicy = 9,
    /// <summary>No valid learned model is loaded (missing, refused, removed).</summary>
    ModelUnavailable = 10,
    /// <summary>The inference missed its per-tick deadline.</summary>
    ModelLate = 11,
    /// <summary>The inference failed or produced NaN/out-of-range outputs.</summary>
    ModelFault = 12,
    /// <summary>The model's confidence is below the escalation band.</summary>
    LowConfidence = 13,
    /// <summary>The live inputs drifted from the training statistics in the model manifest.</summary>
    InputDrift = 14,
    /// <summary>The model is uncertain: slowing or holding while the cloud is asked.</summary>
    Escalating = 15,
    /// <summary>The cloud answered an escalation: the rule policy drives within its advice.</summary>
    CloudAdvice = 16,
    /// <summary>The cloud did not answer an escalation within its SLO (or cannot be asked): the rule policy decides.</summary>
    EscalationTimeout = 17,
    /// <summary>The site's speed limit for the robot's zone caps the proposal (the shield slows, never stops, for it).</summary>
    ZoneSpeedLimit = 18,
    /// <summary>The site sensors (MQTT) are configured but missing or disconnected: the shield caps speed at the stale-site limit.</summary>
    SiteStale = 19,
}

/// <summary>Text forms of <see cref="DecisionReason"/> without allocating.</summary>
public static class DecisionReasonText
{
    private static readonly string[] Texts =
    [
        "rule-policy", "emergency-stop", "bumper", "board-fault", "sensor-stale",
        "obstacle-in-stopping-distance", "obstacle-ahead", "invalid-proposal", "shutdown",
        "learned-policy", "model-unavailable", "model-late", "model-fault", "low-confidence", "input-drift",
        "escalating", "cloud-advice", "escalation-timeout", "zone-speed-limit", "site-stale",
    ];

    /// <summary>Number of reasons (for per-reason counter arrays).</summary>
    public static int Count => Texts.Length;

    /// <summary>The kebab-case name used in telemetry and events.</summary>
    public static string ToText(this DecisionReason reason) => (int)reason < Texts.Length ? Texts[(int)reason] : "unknown";

    /// <summary>The reason named by <paramref name="text"/> (the inverse of <see cref="ToText"/>).</summary>
    /// <exception cref="FormatException">The text names no reason.</exception>
    public static DecisionReason Parse(string? text)
    {
        var i = Array.IndexOf(Texts, text);
        return i >= 0 ? (DecisionReason)i : throw new FormatException($"'{text}' is not a decision reason");
    }
}

/// <summary>What a driving policy sees in one tick.</summary>
public readonly struct PolicyInput
{
    /// <summary>Builds an input.</summary>
    public PolicyInput(in ContinuousPose pose, in StepTarget target, in SensorSnapshot sensors, double measuredLinear, double measuredAngular, in DriveCommand previous, double dtSeconds)
    {
        Pose = pose;
        Target = target;
        Sensors = sensors;
        MeasuredLinear = measuredLinear;
        MeasuredAngular = measuredAngular;
        Previous = previous;
        DtSeconds = dtSeconds;
    }

    /// <summary>Estimated pose.</summary>
    public ContinuousPose Pose { get; }

    /// <summary>The plan's current target.</summary>
    public StepTarget Target { get; }

    /// <summary>Latest sensor snapshot (range scan included).</summary>
    public SensorSnapshot Sensors { get; }

    /// <summary>Measured forward speed, m/s.</summary>
    public double MeasuredLinear { get; }

    /// <summary>Measured yaw rate, rad/s.</summary>
    public double MeasuredAngular { get; }

    /// <summary>The command sent last tick (for acceleration limits).</summary>
    public DriveCommand Previous { get; }

    /// <summary>Control period, seconds.</summary>
    public double DtSeconds { get; }
}

/// <summary>
/// A driving policy: proposes body velocities toward the plan target. The rule policy is one; the learned
/// ONNX policy of a later issue is another, and falls back to the rule policy when it returns false
/// (missing, late, failing). The safety shield checks every proposal.
/// </summary>
public interface IDrivingPolicy
{
    /// <summary>The mode reported when this policy's proposal goes through.</summary>
    DecisionMode Mode { get; }

    /// <summary>Proposes a command; false when the policy cannot decide this tick. Must not allocate.</summary>
    bool TryDecide(in PolicyInput input, out DriveCommand command);

    /// <summary>
    /// Why the latest <see cref="TryDecide"/> chose its proposal (read after it, like <see cref="Mode"/>); reported
    /// when the shield lets the proposal through. Composite policies (runtime assurance) override it.
    /// </summary>
    DecisionReason Reason => DecisionReason.RulePolicy;

    /// <summary>Version of the learned model behind this policy (empty when there is none); read after <see cref="TryDecide"/>.</summary>
    string ModelVersion => string.Empty;

    /// <summary>The learned model's confidence at the latest <see cref="TryDecide"/> (NaN when no model ran), for the audit.</summary>
    float Confidence => float.NaN;
}

/// <summary>Kinematic limits shared by the rule policy and the shield.</summary>
/// <param name="MaxLinearMps">Top forward speed.</param>
/// <param name="MaxAngularRadps">Top yaw rate.</param>
/// <param name="LinearAccel">Profile acceleration, m/s^2.</param>
/// <param name="AngularAccel">Profile angular acceleration, rad/s^2.</param>
/// <param name="BrakeDecel">Guaranteed braking deceleration, m/s^2.</param>
/// <param name="SafetyMarginMetres">Distance kept free beyond braking distance, from the range sensor at the body's centre (so it includes the body radius).</param>
/// <param name="RobotHalfWidthMetres">Corridor half-width for obstacles in the path.</param>
/// <param name="ObstacleSlowdownMetres">Distance where the rule policy starts slowing.</param>
/// <param name="RestLinearMps">At-rest speed threshold.</param>
public readonly record struct KinematicLimits(
    double MaxLinearMps,
    double MaxAngularRadps,
    double LinearAccel,
    double AngularAccel,
    double BrakeDecel,
    double SafetyMarginMetres,
    double RobotHalfWidthMetres,
    double ObstacleSlowdownMetres,
    double RestLinearMps);
