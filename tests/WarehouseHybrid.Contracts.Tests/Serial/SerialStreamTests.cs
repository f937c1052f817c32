using CsCheck;
using WarehouseHybrid.Contracts.Serial;
using static WarehouseHybrid.Contracts.Tests.Serial.SerialTestData;

namespace WarehouseHybrid.Contracts.Tests.Serial;

/// <summary>The stateful decoder over a byte stream: resynchronisation, chunking, sequence tracking, allocation.</summary>
public sealed class SerialStreamTests
{
    private static readonly Gen<byte[]> Garbage =
        Gen.Frequency(
            (3, Gen.Byte.Array[0, 40]),
            (1, Gen.Byte.Array[0, 600]),
            (1, Gen.Byte[1, 255].Array[250, 400])); // long runs without a delimiter

    [Fact]
    public void Garbage_between_frames_loses_no_valid_frame_and_every_garbage_run_is_counted() =>
        Gen.Select(AnyFrame, Garbage).List[1, 12].Sample(items =>
        {
            var stream = new List<byte>();
            var expectedRejected = 0;
            foreach (var (frame, garbage) in items)
            {
                stream.AddRange(garbage);
                stream.AddRange(Encode(frame));
                expectedRejected += CountRuns(garbage);
            }

            var decoder = new SerialFrameDecoder();
            var decoded = DecodeAll(decoder, stream.ToArray());

            Assert.Equal(items.Count, decoded.Count);
            for (var i = 0; i < items.Count; i++)
            {
                AssertSame(items[i].Item1, decoded[i]);
            }

            var stats = decoder.Stats;
            Assert.Equal(expectedRejected, stats.FramesRejected);
            Assert.Equal(items.Count, stats.FramesDecoded);
            Assert.Equal(stream.Count, stats.BytesConsumed);
            Assert.Equal(0, decoder.PendingBytes);
        }, iter: 300);

    [Fact]
    public void Feeding_byte_by_byte_or_in_random_chunks_equals_feeding_the_whole_buffer() =>
        Gen.Select(AnyFrame, Garbage).List[1, 8].Select(Gen.Int[1, 97]).Sample((items, chunk) =>
        {
            var stream = items.SelectMany(x => x.Item2.Concat(Encode(x.Item1))).Concat(new byte[] { 0x33, 0x44 }).ToArray();

            var whole = new SerialFrameDecoder();
            var wholeFrames = DecodeAll(whole, stream).Select(f => Hex(Encode(f))).ToList();

            foreach (var size in new[] { 1, chunk })
            {
                var piecewise = new SerialFrameDecoder();
                var frames = new List<string>();
                for (var offset = 0; offset < stream.Length; offset += size)
                {
                    ReadOnlySpan<byte> piece = stream.AsSpan(offset, Math.Min(size, stream.Length - offset));
                    while (piecewise.TryDecode(ref piece, out var frame))
                    {
                        frames.Add(Hex(Encode(frame)));
                    }

                    Assert.True(piece.IsEmpty);
                }

                Assert.Equal(wholeFrames, frames);
                Assert.Equal(whole.Stats, piecewise.Stats);
                Assert.Equal(whole.LastError, piecewise.LastError);
                Assert.Equal(whole.LastErrorOffset, piecewise.LastErrorOffset);
                Assert.Equal(whole.PendingBytes, piecewise.PendingBytes);
            }
        }, iter: 200);

    [Fact]
    public void Try_decode_stops_right_after_each_frame_and_leaves_the_rest_in_the_input()
    {
        var a = Encode(new DecodedFrame { Type = BoardMessageType.Heartbeat, Sequence = 1 });
        var b = Encode(new DecodedFrame { Type = BoardMessageType.Heartbeat, Sequence = 2 });
        var decoder = new SerialFrameDecoder();
        ReadOnlySpan<byte> input = [.. a, .. b, 0x05];

        Assert.True(decoder.TryDecode(ref input, out var first));
        Assert.Equal(1, first.Sequence);
        Assert.Equal(b.Length + 1, input.Length);
        Assert.True(decoder.TryDecode(ref input, out var second));
        Assert.Equal(2, second.Sequence);
        Assert.False(decoder.TryDecode(ref input, out _));
        Assert.True(input.IsEmpty);
        Assert.Equal(1, decoder.PendingBytes);
    }

    [Fact]
    public void Sequence_gaps_and_missed_frames_are_counted_and_wrap_around_is_not_a_gap()
    {
        var decoder = new SerialFrameDecoder();
        ushort[] sequences = [65534, 65535, 0, 1, 4, 5, 5, 2];
        var stream = sequences.SelectMany(s => Encode(new DecodedFrame { Type = BoardMessageType.Heartbeat, Sequence = s })).ToArray();

        Assert.Equal(sequences.Length, DecodeAll(decoder, stream).Count);
        var stats = decoder.Stats;
        Assert.Equal(3, stats.SequenceGaps);  // 1->4, 5->5 (repeat), 5->2 (restart)
        Assert.Equal(2, stats.FramesMissed);  // 2 and 3
    }

    [Fact]
    public void Reset_forgets_partial_bytes_counters_errors_and_sequence()
    {
        var decoder = new SerialFrameDecoder();
        var frame = Encode(new DecodedFrame { Type = BoardMessageType.Heartbeat, Sequence = 10 });
        DecodeAll(decoder, [0x01, 0x00, .. frame, 0x07, 0x08]);
        Assert.NotEqual(default, decoder.Stats);

        decoder.Reset();

        Assert.Equal(default, decoder.Stats);
        Assert.Equal(FrameError.None, decoder.LastError);
        Assert.Equal(-1, decoder.LastErrorOffset);
        Assert.Equal(0, decoder.PendingBytes);
        var again = Encode(new DecodedFrame { Type = BoardMessageType.Heartbeat, Sequence = 500 });
        Assert.Single(DecodeAll(decoder, again));
        Assert.Equal(0, decoder.Stats.SequenceGaps);
        Assert.Equal(again.Length, decoder.Stats.BytesConsumed);
    }

    [Fact]
    public void Decoding_a_long_stream_with_errors_allocates_nothing()
    {
        var stream = new List<byte>();
        var generated = Gen.Select(AnyFrame, Gen.Byte.Array[0, 30]).Array[400].Single(_ => true, seed: "0000000000000");
        foreach (var (frame, garbage) in generated)
        {
            stream.AddRange(garbage);
            stream.AddRange(Encode(frame));
        }

        var bytes = stream.ToArray();
        var decoder = new SerialFrameDecoder();
        var decoded = DecodeWithoutAllocating(decoder, bytes); // warm-up: JIT, statics, tiering
        decoder.Reset();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 20; round++)
        {
            decoded = DecodeWithoutAllocating(decoder, bytes);
        }

        var stats = decoder.Stats;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(generated.Length, decoded);
        Assert.Equal(20L * generated.Length, stats.FramesDecoded);
        Assert.True(stats.FramesRejected > 0, "the stream should contain garbage runs");
    }

    [Fact]
    public void Encoding_allocates_nothing()
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        var sensor = SerialKnownAnswerTests.ExampleSensorFrame();
        var motor = new MotorCommand { LinearMps = 1, TimeoutMs = 100 };
        SerialFrameEncoder.Encode(sensor, 0, buffer);
        SerialFrameEncoder.Encode(motor, 0, buffer);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var total = 0;
        for (ushort i = 0; i < 1000; i++)
        {
            total += SerialFrameEncoder.Encode(sensor, i, buffer);
            total += SerialFrameEncoder.Encode(motor, i, buffer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(total > 0);
    }

    private static int DecodeWithoutAllocating(SerialFrameDecoder decoder, byte[] bytes)
    {
        var count = 0;
        ReadOnlySpan<byte> input = bytes;
        while (decoder.TryDecode(ref input, out _))
        {
            count++;
        }

        return count;
    }

    // Each maximal run of non-zero garbage bytes becomes one rejected frame (a run glued to the frame after it included).
    private static int CountRuns(byte[] garbage)
    {
        var runs = 0;
        for (var i = 0; i < garbage.Length; i++)
        {
            if (garbage[i] != 0 && (i == 0 || garbage[i - 1] == 0))
            {
                runs++;
            }
        }

        return runs;
    }
}
