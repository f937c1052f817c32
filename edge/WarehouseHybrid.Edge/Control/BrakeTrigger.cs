using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Control;

/// <summary>
/// Watches raw sensor frames on the serial reader thread and, on the first frame that demands a brake
/// (<see cref="SafetyShield.DemandsBrake"/>: an echo inside the stopping distance, an e-stop or bumper, a board fault),
/// asks the control loop for an immediate tick, so the brake goes out within a thread wake-up instead of waiting for
/// the next tick of the fixed schedule. Edge-triggered: a run of dangerous frames costs one extra tick; the regular
/// ticks keep braking. The decision itself stays the control loop's (the shield applies the same rule there).
/// </summary>
/// <param name="shield">The shield whose stopping rule is applied.</param>
/// <param name="loop">The loop to wake.</param>
public sealed class BrakeTrigger(SafetyShield shield, ControlLoop loop) : ISensorFrameWatcher
{
    private bool _wasDangerous;
    private long _triggers;

    /// <summary>Immediate ticks requested so far.</summary>
    public long Triggers => Interlocked.Read(ref _triggers);

    /// <inheritdoc />
    public void OnSensorFrame(in SensorFrame frame)
    {
        var dangerous = shield.DemandsBrake(frame);
        if (dangerous && !_wasDangerous)
        {
            Interlocked.Increment(ref _triggers);
            loop.RequestImmediateTick();
        }

        _wasDangerous = dangerous;
    }
}
