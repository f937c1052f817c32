using System.Buffers;
using CsCheck;
using Google.Protobuf;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>Property tests of the bridge's pure parts: the inbound decoder under hostile input and the duplicate window against a model.</summary>
public sealed class BridgeDecoderPropertyTests
{
    [Fact]
    public void Hostile_payloads_and_topics_never_throw_and_are_either_decoded_for_the_topics_robot_or_rejected_with_a_reason() =>
        Gen.Select(Gen.Byte.Array[0, 300], Gen.OneOf(
            Gen.Const(FleetTopics.Telemetry("s1", "r1")), Gen.Const(FleetTopics.Events("s1", "r1")),
            Gen.String.Select(s => "wh/v1/s1/robots/" + s + "/telemetry"), Gen.String)).Sample((bytes, topic) =>
        {
            var m = InboundMessage.Decode(topic, new ReadOnlySequence<byte>(bytes), 256);
            if (m.Rejection is null)
            {
                var robot = m.Telemetry?.RobotId ?? m.Event!.RobotId;
                Assert.Equal("r1", robot);
            }
            else
            {
                Assert.NotEmpty(m.Detail);
            }
        }, iter: 3000);

    [Fact]
    public void A_valid_record_of_another_robot_is_always_a_robot_id_mismatch() =>
        Gen.String[Gen.Char.AlphaNumeric, 1, 20].Where(id => id != "r1").Sample(id =>
        {
            var m = InboundMessage.Decode(FleetTopics.Telemetry("s1", "r1"), new ReadOnlySequence<byte>(new Telemetry { RobotId = id }.ToByteArray()), 4096);
            Assert.Equal(RejectionReason.RobotIdMismatch, m.Rejection);
        });

    [Fact]
    public void The_window_accepts_each_seq_once_and_never_rolls_back_the_high_water_mark() =>
        Gen.Select(Gen.ULong[0, 3000].Array[1, 400], Gen.ULong[1, 3]).Sample((seqs, stream) =>
        {
            var window = new SequenceWindow();
            var seen = new HashSet<ulong>();
            long high = -1;
            foreach (var seq in seqs)
            {
                var verdict = window.Observe(stream, seq);
                var inWindow = high < 0 || (long)seq > high - SequenceWindow.Width;
                var expected = (long)seq > high ? SequenceVerdict.Fresh
                    : seen.Contains(seq) || !inWindow ? SequenceVerdict.Duplicate
                    : SequenceVerdict.Late;
                Assert.Equal(expected, verdict);
                if (verdict != SequenceVerdict.Duplicate)
                {
                    seen.Add(seq);
                }

                high = Math.Max(high, (long)seq);
                Assert.Equal(high, window.HighWaterMark);
            }
        }, iter: 500);

    [Fact]
    public void A_new_stream_id_starts_a_new_window()
    {
        var window = new SequenceWindow();
        Assert.Equal(SequenceVerdict.Fresh, window.Observe(1, 500));
        Assert.Equal(SequenceVerdict.Duplicate, window.Observe(1, 500));
        Assert.Equal(SequenceVerdict.Fresh, window.Observe(2, 0));
        Assert.Equal(SequenceVerdict.Duplicate, window.Observe(2, 0));
        Assert.Equal(SequenceVerdict.Fresh, window.Observe(1, 499)); // back to stream 1: the window follows the latest stream only
    }
}
