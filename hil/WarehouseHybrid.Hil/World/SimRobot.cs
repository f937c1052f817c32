using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Hil.World;

/// <summary>Mutable state of one robot body; owned by <see cref="SimWorld"/> and touched only under its lock.</summary>
internal sealed class SimRobot(int index, string id)
{
    public int Index { get; } = index;
    public string Id { get; } = id;
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
}
