namespace WarehouseHybrid.Edge.Runtime;

/// <summary>
/// Lock-step hosting: the same runtime (board link decoding, control loop, policies, shield, plan executor) driven
/// by its host on the host's thread instead of its own threads. The HIL rig runs hundreds of robots this way on one
/// virtual clock, faster than real time and deterministically (the same inputs give the same motor commands, byte
/// for byte, which record and replay rely on). The cloud link is not started: the host delivers plan messages
/// through <see cref="PlanInbox"/>. Do not mix with <see cref="StartAsync"/>.
/// </summary>
public sealed partial class EdgeRuntime
{
    /// <summary>Starts the runtime for lock-step hosting: installs the model package (if any); no thread is started.</summary>
    public void StartStepped()
    {
        lock (_lifecycle)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException($"edge runtime '{RobotId}' can be started once; it is {(_state == 1 ? "running" : "stopped")}");
            }

            _state = 1;
        }

        InstallModel();
    }

    /// <summary>Hands the runtime bytes that arrived from the board (what the serial reader thread does per read).</summary>
    public void StepIngest(ReadOnlySpan<byte> fromBoard) => _board.Ingest(fromBoard);

    /// <summary>Runs one control tick now, on the caller's thread.</summary>
    public void StepTick() => _loop.Tick();

    /// <summary>
    /// Encodes the motor command the last tick submitted (what the serial writer thread does) into
    /// <paramref name="destination"/> (at least 265 bytes) and returns its length; 0 when nothing is pending.
    /// </summary>
    public int StepTakeOutput(Span<byte> destination) => _board.EncodePending(destination);

    /// <summary>
    /// Plan progress and decision after the latest tick, without the counters and timing summaries of
    /// <see cref="GetStatus"/> (a host polling hundreds of runtimes every few ticks).
    /// </summary>
    public StepProgress GetStepProgress()
    {
        var s = _loop.Latest;
        return new StepProgress(s.LastCompletedStep, s.HasDiscretePose ? s.DiscretePose : null, s.Mode, s.Reason);
    }
}

/// <summary>A runtime's plan progress and decision after its latest tick.</summary>
/// <param name="LastCompletedStep">Last completed global step.</param>
/// <param name="DiscretePose">Discrete pose after it (null before localisation).</param>
/// <param name="Mode">Decision mode.</param>
/// <param name="Reason">Why.</param>
public readonly record struct StepProgress(uint LastCompletedStep, Domain.Actions.RobotPose? DiscretePose, Control.DecisionMode Mode, Control.DecisionReason Reason);
