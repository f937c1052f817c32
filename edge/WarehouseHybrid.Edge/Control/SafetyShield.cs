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
/// clamped to the top speeds (the zone speed limit from the site, when lower). Pure and allocation-free.
/// </summary>
/// <param name="limits">Limits and the stopping model.</param>
/// <param name="boardTimeoutMs">The board-side watchdog written into every command.</param>
public sealed class SafetyShield(KinematicLimits limits, ushort boardTimeoutMs)
{
    /// <summary>Limiting the proposal by more than this (m/s) counts as an override.</summary>
    private const double OverrideThreshold = 0.02;

    /// <summary>Checks a proposal against the latest sensors.</summary>
    /// <param name="proposed">The policy's proposal.</param>
    /// <param name="proposingMode">The mode of the policy that proposed it.</param>
    /// <param name="sensors">The latest snapshot.</param>
    /// <param name="stale">Whether the snapshot is missing or too old.</param>
    public ShieldVerdict Evaluate(in DriveCommand proposed, DecisionMode proposingMode, in SensorSnapshot sensors, bool stale)
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
        if (Math.Abs(measured) > limits.RestLinearMps)
        {
            var free = RangeGeometry.FreeDistance(sensors.Frame.Ranges, measured > 0, limits.RobotHalfWidthMetres);
            var stopping = (measured * measured / (2 * limits.BrakeDecel)) + limits.SafetyMarginMetres;
            if (free <= stopping)
            {
                return Brake(DecisionReason.ObstacleInStoppingDistance);
            }
        }

        // The zone speed limit the site publishes for the robot's zone caps the top speed (never raises it).
        var top = sensors.Site.HasData && sensors.Site.SpeedLimitMps < limits.MaxLinearMps ? sensors.Site.SpeedLimitMps : limits.MaxLinearMps;
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

        return new ShieldVerdict(Velocity(v, w), proposingMode, DecisionReason.RulePolicy);
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
