using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Edge.Control;

/// <summary>Where the control loop sends motor commands (the board link). Must not block.</summary>
public interface IMotorCommandSink
{
    /// <summary>Hands over the latest command; a newer one may replace it before it is written.</summary>
    void Submit(in MotorCommand command);

    /// <summary>
    /// As <see cref="Submit(in MotorCommand)"/>, saying which sensor frame (<see cref="Sensing.SensorSnapshot.FrameCount"/>) the
    /// decision saw: the board link holds a brake it wrote on its own (<see cref="IUrgentBrake"/>) until a decision has seen
    /// the frame that caused it.
    /// </summary>
    void Submit(in MotorCommand command, ulong basedOnFrame) => Submit(command);
}

/// <summary>
/// Writes a brake now, on the caller's thread (the serial reader's, on a frame that demands one), ahead of anything queued,
/// and holds it: commands decided on frames before <c>latchUntilFrame</c> are turned into brakes.
/// </summary>
public interface IUrgentBrake
{
    /// <summary>Writes <paramref name="brake"/> at once and latches it until a decision based on frame <paramref name="latchUntilFrame"/> or later.</summary>
    void BrakeNow(in MotorCommand brake, ulong latchUntilFrame);
}

/// <summary>
/// Where the control loop hands its per-tick state for telemetry (the cloud link now; the durable outbox of a
/// later issue). Must not block or allocate: keep the latest value and publish from another thread.
/// </summary>
public interface ITelemetrySink
{
    /// <summary>Offers the latest sample; <paramref name="urgent"/> asks for a publication now (a step completed).</summary>
    void Offer(in ControlSample sample, bool urgent);
}

/// <summary>An event for the cloud and the audit log (mode changes, plan rejections).</summary>
/// <param name="Kind">e.g. "mode-change", "plan-rejected".</param>
/// <param name="Detail">Human-readable detail.</param>
/// <param name="Timestamp">When, as <see cref="TimeProvider.GetUtcNow"/>.</param>
/// <param name="TraceId">Trace id of the plan involved, if any.</param>
public sealed record RobotEventRecord(string Kind, string Detail, DateTimeOffset Timestamp, string TraceId);

/// <summary>Where events go; bounded, never blocks.</summary>
public interface IRobotEventSink
{
    /// <summary>Offers an event (may drop the oldest when full).</summary>
    void Offer(RobotEventRecord record);
}

/// <summary>A sink that drops everything (a robot without a cloud link).</summary>
public sealed class NullSinks : ITelemetrySink, IRobotEventSink
{
    /// <summary>The shared instance.</summary>
    public static NullSinks Instance { get; } = new();

    /// <inheritdoc />
    public void Offer(in ControlSample sample, bool urgent)
    {
    }

    /// <inheritdoc />
    public void Offer(RobotEventRecord record)
    {
    }
}
