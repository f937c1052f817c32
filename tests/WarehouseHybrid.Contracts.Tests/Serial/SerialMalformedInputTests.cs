using System.Buffers.Binary;
using CsCheck;
using WarehouseHybrid.Contracts.Serial;
using static WarehouseHybrid.Contracts.Tests.Serial.SerialTestData;

namespace WarehouseHybrid.Contracts.Tests.Serial;

/// <summary>Every class of malformed input is rejected with its own error, counted, and does not hide the good frame after it.</summary>
public sealed class SerialMalformedInputTests
{
    private static readonly byte[] GoodHeartbeat = Encode(new DecodedFrame
    {
        Type = BoardMessageType.Heartbeat,
        Sequence = 7,
        Heartbeat = new Heartbeat { UptimeMs = 1234, Status = BoardStatus.Degraded },
    });

    public static TheoryData<string, byte[], FrameError> MalformedFrames()
    {
        var heartbeatPayload = PayloadOf(GoodHeartbeat);
        var sensorPayload = PayloadOf(Encode(new DecodedFrame { Type = BoardMessageType.SensorFrame, Sensor = new SensorFrame() }));
        var motorPayload = PayloadOf(Encode(new DecodedFrame { Type = BoardMessageType.MotorCommand, Motor = new MotorCommand() }));
        var faultPayload = PayloadOf(Encode(new DecodedFrame { Type = BoardMessageType.BoardFault, Fault = new BoardFault() }));

        var badCobs = (byte[])GoodHeartbeat.Clone();
        badCobs[0] = 0xFE; // first code byte claims 253 data bytes; the frame has 12
        var truncatedCobs = GoodHeartbeat[..^3].Append((byte)0).ToArray(); // last code block cut short
        var badCrc = (byte[])GoodHeartbeat.Clone();
        badCrc[^2] ^= 0x40;

        return new()
        {
            { "one byte", [0x42, 0x00], FrameError.TooShort },
            { "header without crc", [0x06, 0x01, 0x03, 0x07, 0x01, 0x01, 0x00], FrameError.TooShort },
            { "code byte past the end", badCobs, FrameError.BadCobs },
            { "last block cut short", truncatedCobs, FrameError.BadCobs },
            { "crc bit flipped", badCrc, FrameError.BadCrc },
            { "crc of other data", BuildFrame(1, 3, 7, 5, heartbeatPayload, corruptCrc: true), FrameError.BadCrc },
            { "version 0", BuildFrame(0, 3, 7, 5, heartbeatPayload), FrameError.BadVersion },
            { "version 2", BuildFrame(2, 3, 7, 5, heartbeatPayload), FrameError.BadVersion },
            { "type 0", BuildFrame(1, 0, 7, 5, heartbeatPayload), FrameError.UnknownType },
            { "type 5", BuildFrame(1, 5, 7, 5, heartbeatPayload), FrameError.UnknownType },
            { "type 255", BuildFrame(1, 255, 7, 5, heartbeatPayload), FrameError.UnknownType },
            { "length byte larger than payload", BuildFrame(1, 3, 7, 6, heartbeatPayload), FrameError.BadLength },
            { "length byte smaller than payload", BuildFrame(1, 3, 7, 4, heartbeatPayload), FrameError.BadLength },
            { "heartbeat with 6-byte payload", BuildFrame(1, 3, 7, 6, [.. heartbeatPayload, 0x00]), FrameError.BadLength },
            { "motor command with heartbeat payload", BuildFrame(1, 2, 7, 5, heartbeatPayload), FrameError.BadLength },
            { "sensor frame one byte short", BuildFrame(1, 1, 7, 60, sensorPayload[..60]), FrameError.BadLength },
            { "battery 101 percent", BuildFrame(1, 1, 7, 61, With(sensorPayload, 58, 101)), FrameError.BadValue },
            { "sensor reserved flag", BuildFrame(1, 1, 7, 61, With(sensorPayload, 59, 0x80)), FrameError.BadValue },
            { "sensor status 4", BuildFrame(1, 1, 7, 61, With(sensorPayload, 60, 4)), FrameError.BadValue },
            { "heading NaN", BuildFrame(1, 1, 7, 61, WithFloat(sensorPayload, 20, float.NaN)), FrameError.BadValue },
            { "left wheel +inf", BuildFrame(1, 1, 7, 61, WithFloat(sensorPayload, 12, float.PositiveInfinity)), FrameError.BadValue },
            { "linear NaN", BuildFrame(1, 2, 7, 11, WithFloat(motorPayload, 0, float.NaN)), FrameError.BadValue },
            { "angular -inf", BuildFrame(1, 2, 7, 11, WithFloat(motorPayload, 4, float.NegativeInfinity)), FrameError.BadValue },
            { "motor reserved flag", BuildFrame(1, 2, 7, 11, With(motorPayload, 8, 0x04)), FrameError.BadValue },
            { "heartbeat status 9", BuildFrame(1, 3, 7, 5, With(heartbeatPayload, 4, 9)), FrameError.BadValue },
            { "fault severity 3", BuildFrame(1, 4, 7, 7, With(faultPayload, 2, 3)), FrameError.BadValue },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public void Malformed_frame_is_rejected_with_its_error_and_the_next_good_frame_still_decodes(string what, byte[] bad, FrameError expected)
    {
        var decoder = new SerialFrameDecoder();
        var frames = DecodeAll(decoder, [.. bad, .. GoodHeartbeat]);

        Assert.True(expected == decoder.LastError, $"{what}: expected {expected}, got {decoder.LastError} ({decoder.LastErrorDetail})");
        Assert.Equal(0, decoder.LastErrorOffset);
        Assert.NotNull(decoder.LastErrorDetail);
        Assert.Equal(1, decoder.Stats.Count(expected));
        Assert.Equal(1, decoder.Stats.FramesRejected);
        var frame = Assert.Single(frames);
        Assert.Equal(GoodHeartbeat, Encode(frame));
        Assert.Equal(bad.Length + GoodHeartbeat.Length, decoder.Stats.BytesConsumed);
    }

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public void Pure_decoder_reports_the_same_error(string what, byte[] bad, FrameError expected)
    {
        var ok = SerialFrameCodec.TryDecodeFrame(bad.AsSpan(0, bad.Length - 1), new byte[bad.Length], out var frame, out var error);
        Assert.False(ok, what);
        Assert.Equal(expected, error);
        Assert.Equal(default(BoardMessageType), frame.Type);
    }

    [Fact]
    public void Oversized_run_without_delimiter_is_reported_as_too_long_before_any_delimiter_arrives()
    {
        var decoder = new SerialFrameDecoder();
        var noise = Enumerable.Repeat((byte)0xA5, 10_000).ToArray();
        ReadOnlySpan<byte> input = noise;

        Assert.False(decoder.TryDecode(ref input, out _));
        Assert.Equal(FrameError.TooLong, decoder.LastError);
        Assert.Equal(1, decoder.Stats.TooLong);
        Assert.Equal(0, decoder.LastErrorOffset);
        Assert.True(decoder.PendingBytes < SerialFrameEncoder.MaxEncodedFrameLength);

        input = GoodHeartbeat;
        Assert.True(decoder.TryDecode(ref input, out var frame));
        Assert.Equal(GoodHeartbeat, Encode(frame));
        Assert.Equal(1, decoder.Stats.FramesRejected);
        Assert.Equal(1, decoder.Stats.FramesRecovered);
    }

    [Fact]
    public void Run_just_over_a_small_configured_maximum_is_too_long_and_one_at_the_maximum_is_not()
    {
        var maxFrame = GoodHeartbeat.Length; // this decoder accepts heartbeats but nothing longer
        var decoder = new SerialFrameDecoder(maxFrame);
        Assert.Single(DecodeAll(decoder, GoodHeartbeat));
        Assert.Equal(0, decoder.Stats.FramesRejected);

        var longer = Encode(new DecodedFrame { Type = BoardMessageType.BoardFault, Fault = new BoardFault { Code = 1 } });
        Assert.Empty(DecodeAll(decoder, longer));
        Assert.Equal(1, decoder.Stats.TooLong);
        Assert.Equal(GoodHeartbeat.Length, decoder.LastErrorOffset);
    }

    [Fact]
    public void Error_offset_is_where_the_rejected_frame_started_in_the_stream()
    {
        var decoder = new SerialFrameDecoder();
        byte[] stream = [.. GoodHeartbeat, .. GoodHeartbeat, 0x11, 0x22, 0x33, 0x00, .. GoodHeartbeat];
        Assert.Equal(3, DecodeAll(decoder, stream).Count);
        Assert.Equal(FrameError.TooShort, decoder.LastError);
        Assert.Equal(2 * GoodHeartbeat.Length, decoder.LastErrorOffset);
    }

    [Fact]
    public void Runs_of_delimiters_are_idle_fill_not_errors()
    {
        var decoder = new SerialFrameDecoder();
        Assert.Equal(2, DecodeAll(decoder, [0, 0, 0, .. GoodHeartbeat, 0, 0, .. GoodHeartbeat, 0]).Count);
        Assert.Equal(0, decoder.Stats.FramesRejected);
        Assert.Equal(FrameError.None, decoder.LastError);
        Assert.Equal(-1, decoder.LastErrorOffset);
    }

    [Fact]
    public void Every_single_bit_flip_in_every_example_frame_is_rejected_and_the_next_frame_survives()
    {
        byte[][] frames =
        [
            Convert.FromHexString(SerialKnownAnswerTests.SensorFrameHex.Replace(" ", string.Empty, StringComparison.Ordinal)),
            Convert.FromHexString(SerialKnownAnswerTests.MotorCommandHex.Replace(" ", string.Empty, StringComparison.Ordinal)),
            Convert.FromHexString(SerialKnownAnswerTests.HeartbeatHex.Replace(" ", string.Empty, StringComparison.Ordinal)),
            Convert.FromHexString(SerialKnownAnswerTests.BoardFaultHex.Replace(" ", string.Empty, StringComparison.Ordinal)),
        ];
        var decoder = new SerialFrameDecoder();
        foreach (var original in frames)
        {
            for (var bit = 0; bit < original.Length * 8; bit++)
            {
                AssertFlipDetected(decoder, original, bit);
            }
        }
    }

    [Fact]
    public void A_flipped_bit_anywhere_in_any_frame_is_never_accepted() =>
        AnyFrame.Select(Gen.Int[0, int.MaxValue]).Sample((f, pick) =>
        {
            var original = Encode(f);
            AssertFlipDetected(new SerialFrameDecoder(), original, pick % (original.Length * 8));
        });

    [Fact]
    public void Decoder_rejects_a_maximum_length_outside_its_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SerialFrameDecoder(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SerialFrameDecoder(SerialFrameDecoder.MaxSupportedFrameLength + 1));
    }

    [Fact]
    public void Pure_decoder_rejects_a_scratch_buffer_that_is_too_small() =>
        Assert.Throws<ArgumentException>(() => SerialFrameCodec.TryDecodeFrame(GoodHeartbeat.AsSpan(0, GoodHeartbeat.Length - 1), new byte[4], out _, out _));

    private static void AssertFlipDetected(SerialFrameDecoder decoder, byte[] original, int bit)
    {
        decoder.Reset();
        var corrupted = (byte[])original.Clone();
        corrupted[bit / 8] ^= (byte)(1 << (bit % 8));

        // A trailing delimiter flushes the corrupted bytes; the good frame after it must come through intact.
        var frames = DecodeAll(decoder, [.. corrupted, 0x00, .. GoodHeartbeat]);

        var last = Assert.Single(frames);
        Assert.Equal(GoodHeartbeat, Encode(last));
        Assert.True(decoder.Stats.FramesRejected >= 1, $"flip of bit {bit} was not counted");
    }

    private static byte[] With(byte[] payload, int offset, byte value)
    {
        var copy = (byte[])payload.Clone();
        copy[offset] = value;
        return copy;
    }

    private static byte[] WithFloat(byte[] payload, int offset, float value)
    {
        var copy = (byte[])payload.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan(offset), value);
        return copy;
    }
}
