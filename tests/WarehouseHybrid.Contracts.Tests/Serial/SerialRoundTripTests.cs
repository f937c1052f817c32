using CsCheck;
using WarehouseHybrid.Contracts.Serial;
using static WarehouseHybrid.Contracts.Tests.Serial.SerialTestData;

namespace WarehouseHybrid.Contracts.Tests.Serial;

public sealed class SerialRoundTripTests
{
    [Fact]
    public void Any_valid_sensor_frame_round_trips_bit_exact() =>
        Sensor.Select(Gen.UShort).Sample((m, seq) =>
            RoundTrip(new DecodedFrame { Type = BoardMessageType.SensorFrame, Sequence = seq, Sensor = m }));

    [Fact]
    public void Any_valid_motor_command_round_trips_bit_exact() =>
        Motor.Select(Gen.UShort).Sample((m, seq) =>
            RoundTrip(new DecodedFrame { Type = BoardMessageType.MotorCommand, Sequence = seq, Motor = m }));

    [Fact]
    public void Any_heartbeat_round_trips() =>
        AnyHeartbeat.Select(Gen.UShort).Sample((m, seq) =>
            RoundTrip(new DecodedFrame { Type = BoardMessageType.Heartbeat, Sequence = seq, Heartbeat = m }));

    [Fact]
    public void Any_valid_board_fault_round_trips() =>
        Fault.Select(Gen.UShort).Sample((m, seq) =>
            RoundTrip(new DecodedFrame { Type = BoardMessageType.BoardFault, Sequence = seq, Fault = m }));

    [Fact]
    public void Encoded_length_is_the_documented_fixed_length_of_each_type() =>
        AnyFrame.Sample(f =>
        {
            var bytes = Encode(f);
            Assert.Equal(SerialProtocol.EncodedFrameLength(f.Type), bytes.Length);
            Assert.True(bytes.Length <= SerialFrameEncoder.MaxEncodedFrameLength);
            Assert.Equal(0, bytes[^1]);
            Assert.Equal(-1, Array.IndexOf(bytes, (byte)0, 0, bytes.Length - 1));
        });

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Sensor_frame_with_a_non_finite_float_is_refused_by_the_encoder_naming_the_field(int which) =>
        Sensor.Select(NonFiniteFloat).Sample((m, bad) =>
        {
            var field = which switch
            {
                0 => nameof(SensorFrame.LeftWheelMps),
                1 => nameof(SensorFrame.RightWheelMps),
                _ => nameof(SensorFrame.HeadingRad),
            };
            _ = which switch
            {
                0 => m.LeftWheelMps = bad,
                1 => m.RightWheelMps = bad,
                _ => m.HeadingRad = bad,
            };
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(m, 0, new byte[100]));
            Assert.Contains(field, ex.Message, StringComparison.Ordinal);
        });

    [Fact]
    public void Motor_command_with_a_non_finite_velocity_is_refused_by_the_encoder() =>
        Motor.Select(NonFiniteFloat, Gen.Bool).Sample((m, bad, linear) =>
        {
            if (linear)
            {
                m.LinearMps = bad;
            }
            else
            {
                m.AngularRadps = bad;
            }

            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(m, 0, new byte[100]));
            Assert.Contains(linear ? "LinearMps" : "AngularRadps", ex.Message, StringComparison.Ordinal);
        });

    [Fact]
    public void Encoder_refuses_out_of_range_enums_flags_and_percentages()
    {
        var buffer = new byte[100];
        var sensor = new SensorFrame { BatteryPercent = 101 };
        Assert.Contains("BatteryPercent", Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(sensor, 0, buffer)).Message, StringComparison.Ordinal);
        sensor = new SensorFrame { Flags = (SensorFlags)0x10 };
        Assert.Contains("Flags", Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(sensor, 0, buffer)).Message, StringComparison.Ordinal);
        sensor = new SensorFrame { Status = (BoardStatus)4 };
        Assert.Contains("Status", Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(sensor, 0, buffer)).Message, StringComparison.Ordinal);
        var motor = new MotorCommand { Flags = (MotorFlags)4 };
        Assert.Contains("Flags", Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(motor, 0, buffer)).Message, StringComparison.Ordinal);
        var heartbeat = new Heartbeat { Status = (BoardStatus)200 };
        Assert.Contains("Status", Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(heartbeat, 0, buffer)).Message, StringComparison.Ordinal);
        var fault = new BoardFault { Severity = 3 };
        Assert.Contains("Severity", Assert.Throws<ArgumentOutOfRangeException>(() => SerialFrameEncoder.Encode(fault, 0, buffer)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encoder_throws_when_the_destination_is_one_byte_short_and_writes_nothing()
    {
        var needed = SerialProtocol.EncodedFrameLength(BoardMessageType.SensorFrame);
        var buffer = new byte[needed - 1];
        var ex = Assert.Throws<ArgumentException>(() => SerialFrameEncoder.Encode(new SensorFrame(), 1, buffer));
        Assert.Equal("destination", ex.ParamName);
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.Equal(needed, SerialFrameEncoder.Encode(new SensorFrame(), 1, new byte[needed]));
    }

    [Fact]
    public void Max_encoded_frame_length_bounds_the_largest_frame_the_length_byte_allows()
    {
        var raw = new byte[SerialProtocol.MaxRawFrameLength];
        Array.Fill(raw, (byte)0x55);
        var buffer = new byte[1000];
        Assert.True(Cobs.Encode(raw, buffer) + 1 <= SerialFrameEncoder.MaxEncodedFrameLength);
        Assert.Equal(265, SerialFrameEncoder.MaxEncodedFrameLength);
    }

    private static void RoundTrip(DecodedFrame expected)
    {
        var bytes = Encode(expected);
        var decoder = new SerialFrameDecoder();
        ReadOnlySpan<byte> input = bytes;
        Assert.True(decoder.TryDecode(ref input, out var actual));
        Assert.True(input.IsEmpty);
        AssertSame(expected, actual);
        Assert.Equal(bytes, Encode(actual));

        Assert.True(SerialFrameCodec.TryDecodeFrame(bytes.AsSpan(0, bytes.Length - 1), new byte[bytes.Length], out var pure, out var error));
        Assert.Equal(FrameError.None, error);
        AssertSame(expected, pure);
    }
}
