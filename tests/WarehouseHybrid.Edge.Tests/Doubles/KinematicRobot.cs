using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Edge.Tests.Doubles;

/// <summary>
/// Minimal robot physics for tests: a unicycle whose body velocities follow the commanded ones within
/// acceleration limits (brake: hard deceleration), with the board's view of it as <see cref="SensorFrame"/>s.
/// Walls are axis-aligned half-planes so the range scan sees something.
/// </summary>
internal sealed class KinematicRobot
{
    private const double TrackWidth = 0.4;
    private MotorCommand _command;

    public KinematicRobot(double x, double y, double theta)
    {
        X = x;
        Y = y;
        Theta = theta;
    }

    public double X { get; private set; }
    public double Y { get; private set; }
    public double Theta { get; private set; }
    public double V { get; private set; }
    public double W { get; private set; }
    public uint BoardTimeMs { get; private set; }
    public double LinearAccel { get; set; } = 2.0;
    public double AngularAccel { get; set; } = 8.0;
    public double BrakeDecel { get; set; } = 3.0;
    public SensorFlags Flags { get; set; }

    /// <summary>A wall at x = value (an obstacle everywhere with x beyond it), or null.</summary>
    public double? WallEastX { get; set; }

    public void Command(in MotorCommand command) => _command = command;

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
        if (WallEastX is not { } wall)
        {
            return RangeScanLayout.NoEchoMillimetres;
        }

        var c = Math.Cos(angle);
        if (c <= 1e-6)
        {
            return RangeScanLayout.NoEchoMillimetres;
        }

        var r = (wall - X) / c;
        return r is < 0 or > 10 ? RangeScanLayout.NoEchoMillimetres : (ushort)Math.Round(r * 1000);
    }
}
