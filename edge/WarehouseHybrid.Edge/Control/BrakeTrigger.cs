using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Control;

/// <summary>
/// Watches raw sensor frames on the serial reader thread. On the first frame that demands a brake
/// (<see cref="SafetyShield.DemandsBrake"/>: an echo inside the stopping distance, an e-stop or bumper, a board fault) it
/// writes the shield's brake command at once through the board link (<see cref="IUrgentBrake"/>: same encoder, same line,
/// ahead of anything queued, latched until the control loop has decided on that frame) and asks the loop for an immediate
/// tick, so the brake neither waits for the tick phase nor for two thread wake-ups. Edge-triggered: a run of dangerous
/// frames costs one urgent write and one extra tick; the regular ticks keep braking by the same rule.
/// </summary>
/// <param name="shield">The shield whose stopping rule and brake command are used.</param>
/// <param name="brake">Where the brake is written at once (the board link); null: only the immediate tick.</param>
/// <param name="loop">The loop to wake.</param>
public sealed class BrakeTrigger(SafetyShield shield, IUrgentBrake? brake, ControlLoop loop) : ISensorFrameWatcher
{
    private bool _wasDangerous;
    private long _triggers;

    /// <summary>Urgent brakes (and immediate ticks) triggered so far.</summary>
    public long Triggers => Interlocked.Read(ref _triggers);

    /// <inheritdoc />
    public void OnSensorFrame(in SensorFrame frame, ulong frameCount)
    {
        var dangerous = shield.DemandsBrake(frame);
        if (dangerous && !_wasDangerous)
        {
            Interlocked.Increment(ref _triggers);
            brake?.BrakeNow(shield.BrakeCommand(), frameCount);
            loop.RequestImmediateTick();
        }

        _wasDangerous = dangerous;
    }
}
