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
        var dt = input.DtSeconds;
        var prev = input.Previous;
        var target = input.Target;
        var pose = input.Pose;
        double v;
        double w;

        switch (target.Kind)
        {
            case TargetKind.Rotate:
            {
                v = Ramp(prev.LinearMps, 0, limits.LinearAccel * dt);
                var err = GridGeometry.AngleDifference(pose.Theta, target.Theta);
                w = Profile(err, limits.MaxAngularRadps, limits.AngularAccel, AngularGain, prev.AngularRadps, dt);
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
                    v = Ramp(prev.LinearMps, 0, limits.LinearAccel * dt);
                    w = Profile(headingErr, limits.MaxAngularRadps, limits.AngularAccel, AngularGain, prev.AngularRadps, dt);
                    break;
                }

                var vMax = limits.MaxLinearMps * Math.Max(0.0, Math.Cos(headingErr));
                var free = RangeGeometry.FreeDistance(input.Sensors.Frame.Ranges, along >= 0, limits.RobotHalfWidthMetres);
                if (free < limits.ObstacleSlowdownMetres)
                {
                    var span = Math.Max(1e-3, limits.ObstacleSlowdownMetres - limits.SafetyMarginMetres);
                    vMax *= Math.Clamp((free - limits.SafetyMarginMetres) / span, 0.0, 1.0);
                }

                v = Profile(along, vMax, limits.LinearAccel, LinearGain, prev.LinearMps, dt);
                var wTarget = Math.Clamp(SteeringGain * headingErr, -limits.MaxAngularRadps, limits.MaxAngularRadps);
                w = Ramp(prev.AngularRadps, wTarget, limits.AngularAccel * dt);
                break;
            }

            default:
                v = Ramp(prev.LinearMps, 0, limits.LinearAccel * dt);
                w = Ramp(prev.AngularRadps, 0, limits.AngularAccel * dt);
                break;
        }

        command = new DriveCommand(v, w);
        return true;
    }

    /// <summary>
    /// Trapezoid profile toward an error of <paramref name="error"/>: the speed that can still stop in time
    /// (sqrt(2 a d)), capped at <paramref name="max"/>, with a proportional tail near the goal, reached from the
    /// previous command within the acceleration limit.
    /// </summary>
    internal static double Profile(double error, double max, double accel, double gain, double previous, double dt)
    {
        var distance = Math.Abs(error);
        var speed = Math.Min(max, Math.Min(Math.Sqrt(2 * accel * distance), gain * distance));
        return Ramp(previous, Math.Sign(error) * speed, accel * dt);
    }

    private static double Ramp(double from, double to, double maxStep) =>
        from + Math.Clamp(to - from, -maxStep, maxStep);
}
