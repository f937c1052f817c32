using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

/// <summary>A snapshot of one simulated robot (ground truth, not what its sensors report).</summary>
/// <param name="Index">Position in the world's robot list.</param>
/// <param name="Id">The robot's name.</param>
/// <param name="X">Centre, metres east of the map's left edge.</param>
/// <param name="Y">Centre, metres south of the map's top edge.</param>
/// <param name="ThetaRad">Heading in the world-angle convention (from +x toward +y), in [0, 2pi).</param>
/// <param name="LinearMps">Forward velocity.</param>
/// <param name="AngularRadps">Yaw rate (positive increases the world angle: east toward south).</param>
/// <param name="Cell">The cell of the centre, -1 when off the map.</param>
/// <param name="LeftTicks">Cumulative left encoder ticks.</param>
/// <param name="RightTicks">Cumulative right encoder ticks.</param>
/// <param name="EmergencyStop">Whether the emergency stop is engaged.</param>
/// <param name="Bumper">Whether the body touches an obstacle cell, the map edge or another robot.</param>
/// <param name="Braked">Whether the brake is being applied (command, watchdog, fault, no command yet or e-stop).</param>
/// <param name="WatchdogExpired">Whether the last command has timed out.</param>
/// <param name="MotorsDisabled">Whether a latched board fault has disabled the motors.</param>
/// <param name="BatteryPercent">State of charge, 0..100.</param>
public readonly record struct RobotState(
    int Index,
    string Id,
    double X,
    double Y,
    double ThetaRad,
    double LinearMps,
    double AngularRadps,
    int Cell,
    int LeftTicks,
    int RightTicks,
    bool EmergencyStop,
    bool Bumper,
    bool Braked,
    bool WatchdogExpired,
    bool MotorsDisabled,
    double BatteryPercent)
{
    /// <summary>The discrete pose: the centre's cell and the nearest of the four headings.</summary>
    public RobotPose DiscretePose => new(Cell, GridGeometry.NearestHeading(ThetaRad));

    /// <summary>Whether the robot is at rest.</summary>
    public bool IsStopped => LinearMps == 0 && AngularRadps == 0;
}
