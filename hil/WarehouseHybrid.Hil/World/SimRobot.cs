using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Hil.World;

/// <summary>Mutable state of one robot body; owned by <see cref="SimWorld"/> and touched only under its lock.</summary>
internal sealed class SimRobot(int index, string id, int seed, int odometrySeed)
{
    public int Index { get; } = index;
    public string Id { get; } = id;

    /// <summary>Sensor noise of this robot only, so robots can be sensed in parallel and still repeat exactly.</summary>
    public Random SensorNoise { get; } = new(seed);

    /// <summary>Odometry noise of this robot only, so robots can move in parallel and still repeat exactly.</summary>
    public Random OdometryNoise { get; } = new(odometrySeed);
    public double X;
    public double Y;
    public double Theta;
    public double V;
    public double W;
    public int Cell;
    public MotorCommand Command;
    public bool HasCommand;
    public TimeSpan CommandTime;
    public TimeSpan CommandTimeout;
    public bool WatchdogExpired;
    public bool EmergencyStop;
    public bool MotorsDisabled;
    public bool Braked = true;
    public bool Bumper;
    public double LeftTravel;
    public double RightTravel;
    public double BatteryPercent = 100;

    /// <summary>Fraction of the commanded speeds the motors deliver (1 = healthy, 0 = stalled): the "robot delayed" fault.</summary>
    public double SpeedFactor = 1;

    /// <summary>Offset added to the reported heading (IMU bias: drifted inputs).</summary>
    public double HeadingBias;

    /// <summary>Factor on every reported range (sensor bias: drifted inputs; 1 = none).</summary>
    public double RangeScale = 1;

    // Stop-envelope tracking: set when a brake begins while moving.
    public bool BrakeTracked;
    public double BrakeStartX;
    public double BrakeStartY;
    public double BrakeStartSpeed;
}

/// <summary>A person walking on the floor along cell waypoints, seen by range sensors as a circle.</summary>
internal sealed class SimPerson(string id, double radius)
{
    public string Id { get; } = id;
    public double Radius { get; } = radius;
    public double X;
    public double Y;
    public int Cell;
    public List<(double X, double Y, TimeSpan Dwell)> Path { get; } = [];
    public int Next;
    public double SpeedMps;
    public TimeSpan WaitUntil;
    public bool LeaveAtEnd;
    public bool Gone;
}

/// <summary>An item dropped on the floor: a small static obstacle inside one cell.</summary>
internal sealed record SimItem(string Id, int Cell, double X, double Y, double Radius);
