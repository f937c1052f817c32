using System.Runtime.CompilerServices;

namespace WarehouseHybrid.Contracts.Serial;

/// <summary>Number of beams in the board's 1-D range scan.</summary>
public static class RangeScanLayout
{
    /// <summary>Beams per scan; beam 0 points straight ahead; beam i points at heading + i * 22.5 degrees in the world-angle convention of GridGeometry (angles grow from east toward south, y down the map).</summary>
    public const int BeamCount = 16;

    /// <summary>Angle between neighbouring beams, in radians.</summary>
    public const double BeamSpacingRad = 2 * Math.PI / BeamCount;

    /// <summary>Reading that means "nothing within range".</summary>
    public const ushort NoEchoMillimetres = ushort.MaxValue;
}

/// <summary>A range scan as a fixed-size inline buffer (no heap allocation), in millimetres.</summary>
[InlineArray(RangeScanLayout.BeamCount)]
public struct RangeScan
{
    private ushort _beam0;
}

/// <summary>Flags in a sensor frame.</summary>
[Flags]
public enum SensorFlags : byte
{
    /// <summary>Nothing set.</summary>
    None = 0,
    /// <summary>The bumper is pressed.</summary>
    Bumper = 1 << 0,
    /// <summary>The hardware emergency stop is engaged.</summary>
    EmergencyStop = 1 << 1,
    /// <summary>The motors are braked.</summary>
    Braked = 1 << 2,
    /// <summary>The board is charging.</summary>
    Charging = 1 << 3,
}

/// <summary>Overall state the board reports about itself.</summary>
public enum BoardStatus : byte
{
    /// <summary>Running normally.</summary>
    Ok = 0,
    /// <summary>Running with a degraded sensor or actuator.</summary>
    Degraded = 1,
    /// <summary>Faulted: motors disabled until cleared.</summary>
    Faulted = 2,
    /// <summary>Starting up; readings not yet valid.</summary>
    Booting = 3,
}

/// <summary>Sensor frame from the controller board (board to daemon).</summary>
public struct SensorFrame
{
    /// <summary>Board clock in milliseconds since board start (wraps at 2^32).</summary>
    public uint BoardTimeMs;
    /// <summary>Cumulative left wheel encoder ticks.</summary>
    public int LeftTicks;
    /// <summary>Cumulative right wheel encoder ticks.</summary>
    public int RightTicks;
    /// <summary>Measured left wheel velocity, m/s.</summary>
    public float LeftWheelMps;
    /// <summary>Measured right wheel velocity, m/s.</summary>
    public float RightWheelMps;
    /// <summary>Heading from the IMU, radians, in the world-angle convention of GridGeometry: 0 = east (+column), pi/2 = south (+row).</summary>
    public float HeadingRad;
    /// <summary>Range readings in millimetres, <see cref="RangeScanLayout.NoEchoMillimetres"/> for no echo.</summary>
    public RangeScan Ranges;
    /// <summary>Battery voltage in millivolts.</summary>
    public ushort BatteryMillivolts;
    /// <summary>Battery state of charge, 0..100 percent.</summary>
    public byte BatteryPercent;
    /// <summary>Bumper, e-stop, brake, charging.</summary>
    public SensorFlags Flags;
    /// <summary>Board status.</summary>
    public BoardStatus Status;
}

/// <summary>Flags in a motor command.</summary>
[Flags]
public enum MotorFlags : byte
{
    /// <summary>Nothing set.</summary>
    None = 0,
    /// <summary>Apply the brakes; velocities are ignored.</summary>
    Brake = 1 << 0,
    /// <summary>Clear a latched board fault (only honoured when stopped).</summary>
    ClearFault = 1 << 1,
}

/// <summary>Motor command (daemon to board): body velocities and brake.</summary>
public struct MotorCommand
{
    /// <summary>Forward velocity, m/s.</summary>
    public float LinearMps;
    /// <summary>Yaw rate, rad/s; positive increases the world angle (turns from east toward south, i.e. clockwise as the map is drawn with row 0 on top).</summary>
    public float AngularRadps;
    /// <summary>Brake and fault-clear flags.</summary>
    public MotorFlags Flags;
    /// <summary>The board stops the motors if no newer command arrives within this many ms (board-side watchdog).</summary>
    public ushort TimeoutMs;
}

/// <summary>Heartbeat (both directions): liveness and uptime.</summary>
public struct Heartbeat
{
    /// <summary>Sender's uptime in milliseconds.</summary>
    public uint UptimeMs;
    /// <summary>Sender's status.</summary>
    public BoardStatus Status;
}

/// <summary>Board fault report (board to daemon).</summary>
public struct BoardFault
{
    /// <summary>Fault code (see docs/serial-protocol.md).</summary>
    public ushort Code;
    /// <summary>0 = info, 1 = warning, 2 = error (motors disabled).</summary>
    public byte Severity;
    /// <summary>Board clock at the fault.</summary>
    public uint BoardTimeMs;
}
