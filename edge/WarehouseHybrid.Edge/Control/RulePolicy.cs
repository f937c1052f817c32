using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Plans;

namespace WarehouseHybrid.Edge.Control;

/// <summary>
/// The deterministic controller: turn in place toward the step's heading, then drive to the target cell centre
/// along a trapezoid speed profile (accelerate, cruise, decelerate so it stops at the centre), steering back onto
/// the line through the centre, slowing when the range scan sees something ahead. Holds by ramping to a stop.
/// Allocation-free; the fallback every learned policy falls back to.
/// </summary>
/// <param name="limits">Speed and acceleration limits.</param>
public sealed class RulePolicy(KinematicLimits limits) : IDrivingPolicy
{
    /// <summary>Beyond this heading error (rad) a move first turns in place.</summary>
    private const double TurnInPlaceAbove = 0.35;

    /// <summary>
    /// Proportional gain of the final approach (1/s): speed = gain * remaining distance near the goal. High enough
    /// that the exponential tail settles in a fraction of a second; gain * dt stays well below 1 at 50-100 Hz.
    /// </summary>
    private const double LinearGain = 8.0;

    /// <summary>Proportional gain of the final turn (1/s).</summary>
    private const double AngularGain = 8.0;

    /// <summary>Steering gain on heading error while driving (1/s).</summary>
    private const double SteeringGain = 3.0;

    /// <summary>Gain turning lateral offset (m) into a heading correction (rad).</summary>
    private const double LateralGain = 1.5;

    /// <summary>Largest heading correction for lateral offset, rad.</summary>
    private const double MaxLateralCorrection = 0.3;

    /// <inheritdoc />
    public DecisionMode Mode => DecisionMode.Rule;

    /// <summary>The limits in use.</summary>
    public KinematicLimits Limits => limits;

    /// <inheritdoc />
    public bool TryDecide(in PolicyInput input, out DriveCommand command)
    {
        Setpoint(input, out var setpoint);
        command = Limit(input, setpoint, limits);
        return true;
    }

    /// <summary>
    /// The velocities the controller aims at this tick before acceleration limiting: what <see cref="TryDecide"/> commands
    /// is <see cref="Limit"/> of it. The learned policy imitates this setpoint (a per-tick change of a rate-limited
    /// command is as small as a network's error; the setpoint is not), and the decision module applies the same limit.
    /// </summary>
    public void Setpoint(in PolicyInput input, out DriveCommand setpoint)
    {
        var target = input.Target;
        var pose = input.Pose;
        double v;
        double w;

        switch (target.Kind)
        {
            case TargetKind.Rotate:
            {
                v = 0;
                var err = GridGeometry.AngleDifference(pose.Theta, target.Theta);
                w = ProfileTarget(err, limits.MaxAngularRadps, limits.AngularAccel, AngularGain);
                break;
            }

            case TargetKind.Move:
            {
                var h = target.Theta;
                var (sinH, cosH) = Math.SinCos(h);
                var px = pose.X - target.X;
                var py = pose.Y - target.Y;
                var along = -((px * cosH) + (py * sinH)); // remaining distance along the step direction
                var lateral = (-px * sinH) + (py * cosH); // offset toward increasing angle
                var correction = Math.Abs(along) > 0.1
                    ? Math.Clamp(Math.Atan(LateralGain * lateral), -MaxLateralCorrection, MaxLateralCorrection) * Math.Sign(along)
                    : 0.0;
                var headingErr = GridGeometry.AngleDifference(pose.Theta, h - correction);
                if (Math.Abs(GridGeometry.AngleDifference(pose.Theta, h)) > TurnInPlaceAbove)
                {
                    v = 0;
                    w = ProfileTarget(headingErr, limits.MaxAngularRadps, limits.AngularAccel, AngularGain);
                    break;
                }

                var vMax = limits.MaxLinearMps * Math.Max(0.0, Math.Cos(headingErr));
                var free = RangeGeometry.FreeDistance(input.Sensors.Frame.Ranges, along >= 0, limits.RobotHalfWidthMetres);
                if (free < limits.ObstacleSlowdownMetres)
                {
                    var span = Math.Max(1e-3, limits.ObstacleSlowdownMetres - limits.SafetyMarginMetres);
                    vMax *= Math.Clamp((free - limits.SafetyMarginMetres) / span, 0.0, 1.0);
                }

                v = ProfileTarget(along, vMax, limits.LinearAccel, LinearGain);
                w = Math.Clamp(SteeringGain * headingErr, -limits.MaxAngularRadps, limits.MaxAngularRadps);
                break;
            }

            default:
                v = 0;
                w = 0;
                break;
        }

        setpoint = new DriveCommand(v, w);
    }

    /// <summary>
    /// The command that moves from the previous one toward <paramref name="setpoint"/> within the profile's acceleration
    /// limits in one tick (the ramp every policy's proposal goes through before the shield).
    /// </summary>
    public static DriveCommand Limit(in PolicyInput input, in DriveCommand setpoint, in KinematicLimits limits) => new(
        Ramp(input.Previous.LinearMps, setpoint.LinearMps, limits.LinearAccel * input.DtSeconds),
        Ramp(input.Previous.AngularRadps, setpoint.AngularRadps, limits.AngularAccel * input.DtSeconds));

    /// <summary>The profile's target speed toward <paramref name="error"/> (before acceleration limiting).</summary>
    private static double ProfileTarget(double error, double max, double accel, double gain)
    {
        var distance = Math.Abs(error);
        var speed = Math.Min(max, Math.Min(Math.Sqrt(2 * accel * distance), gain * distance));
        return Math.Sign(error) * speed;
    }

    private static double Ramp(double from, double to, double maxStep) =>
        from + Math.Clamp(to - from, -maxStep, maxStep);
}
