namespace WarehouseHybrid.Hil.World;

/// <summary>
/// Exact one-dimensional motion under a bounded acceleration toward a target velocity: the velocity ramps
/// linearly until it reaches the target and then holds, so the distance is exact whatever the step length.
/// </summary>
internal static class VelocityProfile
{
    /// <summary>Advances <paramref name="velocity"/> toward <paramref name="target"/> for <paramref name="dt"/> seconds.</summary>
    /// <returns>The distance (or angle) covered during the step.</returns>
    public static double Advance(ref double velocity, double target, double acceleration, double dt)
    {
        var v0 = velocity;
        var gap = target - v0;
        var reachTime = Math.Abs(gap) / acceleration;
        if (reachTime >= dt)
        {
            var v1 = v0 + (Math.Sign(gap) * acceleration * dt);
            velocity = v1;
            return (v0 + v1) / 2 * dt;
        }

        velocity = target;
        return ((v0 + target) / 2 * reachTime) + (target * (dt - reachTime));
    }
}
