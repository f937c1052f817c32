using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Hil.Time;

namespace WarehouseHybrid.Hil.Recording;

/// <summary>The outcome of replaying a recording.</summary>
/// <param name="Robots">Robots replayed.</param>
/// <param name="Ticks">Control ticks replayed.</param>
/// <param name="CommandsCompared">Motor command frames compared byte for byte.</param>
/// <param name="Mismatches">Frames that differed (or were missing on one side).</param>
/// <param name="FirstMismatch">Where the first difference was, with both byte strings.</param>
public sealed record ReplayResult(int Robots, long Ticks, long CommandsCompared, long Mismatches, string? FirstMismatch)
{
    /// <summary>Whether every decision was reproduced exactly.</summary>
    public bool Identical => Mismatches == 0 && CommandsCompared > 0;

    /// <inheritdoc />
    public override string ToString() => Identical
        ? $"{Robots} robots, {Ticks} ticks: all {CommandsCompared} motor commands reproduced byte for byte"
        : $"{Robots} robots, {Ticks} ticks: {Mismatches} of {CommandsCompared} motor commands differ; first: {FirstMismatch}";
}

/// <summary>
/// Replays a lock-step recording into fresh edge runtimes on virtual clocks: each robot gets the options it ran
/// with, then its recorded inputs (serial bytes from the board, plan messages) at their recorded times and a
/// control tick wherever one was recorded; the motor command frames it writes are compared byte for byte with the
/// recorded ones.
/// </summary>
public static class Replayer
{
    /// <summary>Replays a recording file.</summary>
    public static async Task<ReplayResult> ReplayAsync(string file)
    {
        var (header, records) = RecordingFormat.Read(file);
        if (header.Clock != "lockstep")
        {
            throw new InvalidDataException($"{file}: a '{header.Clock}' recording has no recorded control ticks; only lock-step recordings replay bit for bit");
        }

        long ticks = 0, compared = 0, mismatches = 0;
        string? first = null;
        var output = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        foreach (var robot in header.Robots)
        {
            var clock = new SimClock();
            await using var runtime = new EdgeRuntime(robot.Edge, new ExistingStreamTransport(Stream.Null), clock, NullLoggerFactory.Instance);
            runtime.StartStepped();
            var pending = -1; // length of the frame produced by the last tick, awaiting its recorded counterpart
            var pendingAt = TimeSpan.Zero;
            foreach (var r in records)
            {
                if (r.Robot != robot.Index)
                {
                    continue;
                }

                if (r.Time > clock.Elapsed)
                {
                    clock.Advance(r.Time - clock.Elapsed);
                }

                switch (r.Type)
                {
                    case RecordType.SerialToDaemon:
                        runtime.StepIngest(r.Payload.Span);
                        break;
                    case RecordType.Mqtt:
                        Post(runtime, r.Payload);
                        break;
                    case RecordType.ControlTick:
                        if (pending >= 0)
                        {
                            Mismatch(robot.Id, pendingAt, "nothing recorded", output.AsSpan(0, pending));
                        }

                        runtime.StepTick();
                        ticks++;
                        pending = runtime.StepTakeOutput(output);
                        pendingAt = r.Time;
                        break;
                    case RecordType.SerialToBoard:
                        compared++;
                        if (pending < 0 || !r.Payload.Span.SequenceEqual(output.AsSpan(0, pending)))
                        {
                            Mismatch(robot.Id, r.Time, Convert.ToHexString(r.Payload.Span), pending < 0 ? [] : output.AsSpan(0, pending));
                        }

                        pending = -1;
                        break;
                }
            }
        }

        return new ReplayResult(header.Robots.Count, ticks, compared, mismatches, first);

        void Mismatch(string robot, TimeSpan at, string recorded, ReadOnlySpan<byte> replayed)
        {
            mismatches++;
            first ??= string.Create(CultureInfo.InvariantCulture, $"robot {robot} at {at.TotalSeconds:F3} s: recorded {recorded}, replayed {(replayed.IsEmpty ? "nothing" : Convert.ToHexString(replayed))}");
        }
    }

    private static void Post(EdgeRuntime runtime, ReadOnlyMemory<byte> payload)
    {
        var (topic, message) = RecordingFormat.SplitMqtt(payload);
        if (topic.EndsWith("/cmd/plan", StringComparison.Ordinal))
        {
            runtime.PlanInbox.Post(PlanSegment.Parser.ParseFrom(message.Span));
        }
        else if (topic.EndsWith("/cmd/grant", StringComparison.Ordinal))
        {
            runtime.PlanInbox.Post(GrantUpdate.Parser.ParseFrom(message.Span));
        }
        else if (topic.EndsWith("/cmd/task", StringComparison.Ordinal))
        {
            runtime.PlanInbox.Post(TaskAssignment.Parser.ParseFrom(message.Span));
        }
    }
}
