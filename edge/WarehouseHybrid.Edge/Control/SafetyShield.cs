using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Sensing;

namespace WarehouseHybrid.Edge.Control;

/// <summary>The shield's decision: the command to send and why.</summary>
/// <param name="Command">The motor command for the board.</param>
/// <param name="Mode">Rule (or learned) when the proposal passed, ShieldStop when overridden.</param>
/// <param name="Reason">Why.</param>
public readonly record struct ShieldVerdict(MotorCommand Command, DecisionMode Mode, DecisionReason Reason);

/// <summary>
/// The last word before the motors (runtime assurance): e-stop (board or site), bumper or board fault brake; stale sensors
/// stop under control; an obstacle inside the stopping distance (v^2 / 2 decel + margin) in the direction of
/// motion brakes; otherwise the proposal is limited to what can still stop before the nearest obstacle and
/// clamped to the top speeds: the zone speed limit from the site when lower (reason zone-speed-limit), and the
/// stale-site limit while the site sensors are configured but missing or disconnected (reason site-stale; the last
/// known site e-stop keeps braking until a fresh message releases it). Pure and allocation-free.
/// </summary>
public sealed class SafetyShield
{
    /// <summary>Limiting the proposal by more than this (m/s) counts as an obstacle override.</summary>
    private const double OverrideThreshold = 0.02;

    /// <summary>A proposal above a speed cap by more than this (m/s) is reported as capped (below it: rounding).</summary>
    private const double CapEpsilon = 1e-4;

    private readonly KinematicLimits limits;
    private readonly ushort boardTimeoutMs;
    private readonly double siteStaleSpeedLimit;

    /// <summary>A shield with the default stale-site limit (<see cref="DefaultSiteStaleSpeedLimitMps"/>).</summary>
    /// <param name="limits">Limits and the stopping model.</param>
    /// <param name="boardTimeoutMs">The board-side watchdog written into every command.</param>
    public SafetyShield(KinematicLimits limits, ushort boardTimeoutMs)
        : this(limits, boardTimeoutMs, DefaultSiteStaleSpeedLimitMps)
    {
    }

    /// <summary>A shield.</summary>
    /// <param name="limits">Limits and the stopping model.</param>
    /// <param name="boardTimeoutMs">The board-side watchdog written into every command.</param>
    /// <param name="siteStaleSpeedLimitMps">Speed cap while the site sensors are stale or missing, m/s.</param>
    public SafetyShield(KinematicLimits limits, ushort boardTimeoutMs, double siteStaleSpeedLimitMps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(siteStaleSpeedLimitMps);
        this.limits = limits;
        this.boardTimeoutMs = boardTimeoutMs;
        siteStaleSpeedLimit = siteStaleSpeedLimitMps;
    }

    /// <summary>The speed cap while the site sensors are stale unless configured (m/s): a walking pace a person can step away from.</summary>
    public const double DefaultSiteStaleSpeedLimitMps = 0.3;

    /// <summary>Checks a proposal against the latest sensors (site sensors fresh or not configured).</summary>
    public ShieldVerdict Evaluate(in DriveCommand proposed, DecisionMode proposingMode, in SensorSnapshot sensors, bool stale) =>
        Evaluate(proposed, proposingMode, sensors, stale, siteStale: false);

    /// <summary>
    /// Whether a raw sensor frame alone demands a brake: an e-stop or bumper flag, a board fault, or an echo inside the
    /// stopping distance at the frame's own wheel speed. The serial reader calls it on every frame to trigger an
    /// immediate control tick (so the brake does not wait for the tick phase); the tick then brakes through
    /// <see cref="Evaluate(in DriveCommand, DecisionMode, in SensorSnapshot, bool, bool)"/>, which applies the same rule.
    /// </summary>
    public bool DemandsBrake(in SensorFrame frame)
    {
        if ((frame.Flags & (SensorFlags.EmergencyStop | SensorFlags.Bumper)) != 0 || frame.Status == BoardStatus.Faulted)
        {
            return true;
        }

        var measured = (frame.LeftWheelMps + frame.RightWheelMps) * 0.5;
        return Math.Abs(measured) > limits.RestLinearMps && InStoppingDistance(frame.Ranges, measured);
    }

    /// <summary>Checks a proposal against the latest sensors.</summary>
    /// <param name="proposed">The policy's proposal.</param>
    /// <param name="proposingMode">The mode of the policy that proposed it.</param>
    /// <param name="sensors">The latest snapshot.</param>
    /// <param name="stale">Whether the serial snapshot is missing or too old.</param>
    /// <param name="siteStale">Whether the site sensors are configured but missing or disconnected (<see cref="SiteFreshness"/>).</param>
    public ShieldVerdict Evaluate(in DriveCommand proposed, DecisionMode proposingMode, in SensorSnapshot sensors, bool stale, bool siteStale)
    {
        if (sensors.HasFrame)
        {
            var flags = sensors.Frame.Flags;
            if ((flags & SensorFlags.EmergencyStop) != 0)
            {
                return Brake(DecisionReason.EmergencyStop);
            }

            if ((flags & SensorFlags.Bumper) != 0)
            {
                return Brake(DecisionReason.Bumper);
            }

            if (sensors.Frame.Status == BoardStatus.Faulted)
            {
                return Brake(DecisionReason.BoardFault);
            }
        }

        // The site's e-stop broadcast (MQTT) brakes like the robot's own; it is kept until the site releases it.
        if (sensors.Site.HasData && sensors.Site.EmergencyStop)
        {
            return Brake(DecisionReason.EmergencyStop);
        }

        if (stale)
        {
            return new ShieldVerdict(Velocity(0, 0), DecisionMode.ShieldStop, DecisionReason.SensorStale);
        }

        if (!double.IsFinite(proposed.LinearMps) || !double.IsFinite(proposed.AngularRadps))
        {
            return new ShieldVerdict(Velocity(0, 0), DecisionMode.ShieldStop, DecisionReason.InvalidProposal);
        }

        var measured = sensors.LinearMps;
        if (Math.Abs(measured) > limits.RestLinearMps && InStoppingDistance(sensors.Frame.Ranges, measured))
        {
            return Brake(DecisionReason.ObstacleInStoppingDistance);
        }

        // The zone speed limit the site publishes for the robot's zone caps the top speed (never raises it); while the
        // site is stale the stale-site limit caps it too (the last known zone limit still applies when lower).
        var top = limits.MaxLinearMps;
        var capReason = DecisionReason.RulePolicy;
        if (sensors.Site.HasData && sensors.Site.SpeedLimitMps < top)
        {
            top = sensors.Site.SpeedLimitMps;
            capReason = DecisionReason.ZoneSpeedLimit;
        }

        if (siteStale && siteStaleSpeedLimit < top)
        {
            top = siteStaleSpeedLimit;
            capReason = DecisionReason.SiteStale;
        }

        var capped = capReason != DecisionReason.RulePolicy && Math.Abs(proposed.LinearMps) > top + CapEpsilon;
        var v = Math.Clamp(proposed.LinearMps, -top, top);
        var w = Math.Clamp(proposed.AngularRadps, -limits.MaxAngularRadps, limits.MaxAngularRadps);
        if (v != 0)
        {
            var free = RangeGeometry.FreeDistance(sensors.Frame.Ranges, v > 0, limits.RobotHalfWidthMetres);
            var allowed = Math.Sqrt(Math.Max(0, 2 * limits.BrakeDecel * (free - limits.SafetyMarginMetres)));
            if (Math.Abs(v) > allowed)
            {
                var limited = Math.Sign(v) * allowed;
                var overridden = Math.Abs(v) - allowed > OverrideThreshold;
                v = limited;
                if (overridden)
                {
                    return new ShieldVerdict(Velocity(v, w), DecisionMode.ShieldStop, DecisionReason.ObstacleAhead);
                }
            }
        }

        return capped
            ? new ShieldVerdict(Velocity(v, w), DecisionMode.ShieldStop, capReason)
            : new ShieldVerdict(Velocity(v, w), proposingMode, DecisionReason.RulePolicy);
    }

    private bool InStoppingDistance(in RangeScan ranges, double measured)
    {
        var free = RangeGeometry.FreeDistance(ranges, measured > 0, limits.RobotHalfWidthMetres);
        var stopping = (measured * measured / (2 * limits.BrakeDecel)) + limits.SafetyMarginMetres;
        return free <= stopping;
    }

    /// <summary>A braking command (velocities zero, brake flag set).</summary>
    public MotorCommand BrakeCommand() => new() { Flags = MotorFlags.Brake, TimeoutMs = boardTimeoutMs };

    private ShieldVerdict Brake(DecisionReason reason) => new(BrakeCommand(), DecisionMode.ShieldStop, reason);

    private MotorCommand Velocity(double v, double w) => new()
    {
        LinearMps = (float)v,
        AngularRadps = (float)w,
        Flags = MotorFlags.None,
        TimeoutMs = boardTimeoutMs,
    };
}
