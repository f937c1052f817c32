using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.ModelTool.Simulation;

/// <summary>An axis-aligned obstacle (a shelf, a pallet, a person's footprint), world metres.</summary>
/// <param name="MinX">Left edge.</param>
/// <param name="MinY">Top edge.</param>
/// <param name="MaxX">Right edge.</param>
/// <param name="MaxY">Bottom edge.</param>
public readonly record struct Box(double MinX, double MinY, double MaxX, double MaxY)
{
    /// <summary>Whether the point lies inside.</summary>
    public bool Contains(double x, double y) => x >= MinX && x <= MaxX && y >= MinY && y <= MaxY;
}

/// <summary>
/// Minimal robot physics for closed-loop simulation (the model tool's DAgger rollouts and the edge tests): a unicycle
/// whose body velocities follow the commanded ones within acceleration limits (brake: hard deceleration), seen by the
/// board as <see cref="SensorFrame"/>s. The range sensor sees an optional wall (a half-plane east of
/// <see cref="WallEastX"/>) and axis-aligned <see cref="Obstacles"/>, up to 10 m.
/// </summary>
public sealed class KinematicRobot
{
    private const double TrackWidth = 0.4;
    private const double MaxRange = 10.0;
    private MotorCommand _command;

    /// <summary>A robot at rest at (x, y) facing <paramref name="theta"/> (radians, map convention).</summary>
    public KinematicRobot(double x, double y, double theta)
    {
        X = x;
        Y = y;
        Theta = theta;
    }

    /// <summary>Position x, metres.</summary>
    public double X { get; private set; }

    /// <summary>Position y, metres.</summary>
    public double Y { get; private set; }

    /// <summary>Heading, radians in [0, 2 pi).</summary>
    public double Theta { get; private set; }

    /// <summary>Forward speed, m/s.</summary>
    public double V { get; private set; }

    /// <summary>Yaw rate, rad/s.</summary>
    public double W { get; private set; }

    /// <summary>The board's clock, ms.</summary>
    public uint BoardTimeMs { get; private set; }

    /// <summary>Forward acceleration limit, m/s^2.</summary>
    public double LinearAccel { get; set; } = 2.0;

    /// <summary>Angular acceleration limit, rad/s^2.</summary>
    public double AngularAccel { get; set; } = 8.0;

    /// <summary>Braking deceleration, m/s^2.</summary>
    public double BrakeDecel { get; set; } = 3.0;

    /// <summary>Flags the board reports (e-stop, bumper).</summary>
    public SensorFlags Flags { get; set; }

    /// <summary>A wall at x = value (an obstacle everywhere with x beyond it), or null.</summary>
    public double? WallEastX { get; set; }

    /// <summary>Obstacles the range sensor sees.</summary>
    public List<Box> Obstacles { get; } = [];

    /// <summary>Applies the latest command (kept until the next).</summary>
    public void Command(in MotorCommand command) => _command = command;

    /// <summary>Advances the physics by <paramref name="dt"/> seconds.</summary>
    public void Step(double dt)
    {
        var brake = (_command.Flags & MotorFlags.Brake) != 0;
        var vTarget = brake ? 0 : _command.LinearMps;
        var wTarget = brake ? 0 : _command.AngularRadps;
        var linAccel = brake ? BrakeDecel : LinearAccel;
        V += Math.Clamp(vTarget - V, -linAccel * dt, linAccel * dt);
        W += Math.Clamp(wTarget - W, -AngularAccel * dt, AngularAccel * dt);
        var mid = Theta + (W * dt / 2);
        X += V * dt * Math.Cos(mid);
        Y += V * dt * Math.Sin(mid);
        Theta = (Theta + (W * dt)) % (2 * Math.PI);
        if (Theta < 0)
        {
            Theta += 2 * Math.PI;
        }

        BoardTimeMs += (uint)Math.Round(dt * 1000);
    }

    /// <summary>Whether the robot's centre is inside an obstacle (a collision in simulation).</summary>
    public bool InsideObstacle() => Obstacles.Exists(b => b.Contains(X, Y));

    /// <summary>What the board would send now.</summary>
    public SensorFrame Frame()
    {
        var f = new SensorFrame
        {
            BoardTimeMs = BoardTimeMs,
            LeftWheelMps = (float)(V - (W * TrackWidth / 2)),
            RightWheelMps = (float)(V + (W * TrackWidth / 2)),
            HeadingRad = (float)Theta,
            BatteryMillivolts = 24000,
            BatteryPercent = 80,
            Flags = Flags,
            Status = BoardStatus.Ok,
        };
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            f.Ranges[i] = Range(Theta + (i * RangeScanLayout.BeamSpacingRad));
        }

        return f;
    }

    private ushort Range(double angle)
    {
        var (s, c) = Math.SinCos(angle);
        var r = double.PositiveInfinity;
        if (WallEastX is { } wall && c > 1e-6)
        {
            var d = (wall - X) / c;
            if (d >= 0)
            {
                r = d;
            }
        }

        foreach (var b in Obstacles)
        {
            r = Math.Min(r, Cast(b, c, s));
        }

        return r > MaxRange ? RangeScanLayout.NoEchoMillimetres : (ushort)Math.Round(r * 1000);
    }

    /// <summary>Slab-method distance along (c, s) from the robot to a box (+infinity when missed).</summary>
    private double Cast(in Box b, double c, double s)
    {
        var tMin = 0.0;
        var tMax = double.PositiveInfinity;
        if (!Slab(X, c, b.MinX, b.MaxX, ref tMin, ref tMax) || !Slab(Y, s, b.MinY, b.MaxY, ref tMin, ref tMax))
        {
            return double.PositiveInfinity;
        }

        return tMin;
    }

    private static bool Slab(double origin, double direction, double min, double max, ref double tMin, ref double tMax)
    {
        if (Math.Abs(direction) < 1e-12)
        {
            return origin >= min && origin <= max;
        }

        var t1 = (min - origin) / direction;
        var t2 = (max - origin) / direction;
        if (t1 > t2)
        {
            (t1, t2) = (t2, t1);
        }

        tMin = Math.Max(tMin, t1);
        tMax = Math.Min(tMax, t2);
        return tMin <= tMax;
    }
}
