using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Tests.Common;
using static WarehouseHybrid.Contracts.Tests.Serial.SerialTestData;

namespace WarehouseHybrid.Contracts.Tests.Serial;

/// <summary>
/// Fixed messages and their exact bytes on the wire. The same hex strings are printed in
/// docs/serial-protocol.md ("Worked examples") so board firmware can check itself against them;
/// they were first computed by an independent implementation of the specification.
/// </summary>
public sealed class SerialKnownAnswerTests
{
    public const string SensorFrameHex =
        "04 01 01 2A 05 3D 40 E2 01 03 E8 03 01 05 18 FC FF FF 01 03 80 3E 01 03 80 3E 01 27 C0 3F F4 01 58 02 BC 02 20 03 84 03 E8 03 4C 04 B0 04 FF FF 78 05 DC 05 40 06 A4 06 08 07 6C 07 D0 07 E0 60 57 04 03 0C 4D 00";

    public const string MotorCommandHex = "06 01 02 02 01 0B 01 01 02 3F 01 03 80 BE 02 C8 03 D9 53 00";

    public const string HeartbeatHex = "03 01 03 01 04 05 60 EA 01 01 03 A4 15 00";

    public const string BoardFaultHex = "04 01 04 2B 03 07 30 05 01 40 E2 01 03 7A B3 00";

    public static SensorFrame ExampleSensorFrame()
    {
        var m = new SensorFrame
        {
            BoardTimeMs = 123_456,
            LeftTicks = 1000,
            RightTicks = -1000,
            LeftWheelMps = 0.25f,
            RightWheelMps = 0.25f,
            HeadingRad = 1.5f,
            BatteryMillivolts = 24_800,
            BatteryPercent = 87,
            Flags = SensorFlags.Braked,
            Status = BoardStatus.Ok,
        };
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            m.Ranges[i] = (ushort)(500 + (100 * i));
        }

        m.Ranges[8] = RangeScanLayout.NoEchoMillimetres;
        return m;
    }

    public static TheoryData<string, string> Vectors() => new()
    {
        { "sensor", SensorFrameHex },
        { "motor", MotorCommandHex },
        { "heartbeat", HeartbeatHex },
        { "fault", BoardFaultHex },
    };

    [Fact]
    public void Sensor_frame_example_encodes_to_the_documented_bytes() =>
        Assert.Equal(SpacedHex(SensorFrameHex), Hex(EncodeExample("sensor")));

    [Fact]
    public void Motor_command_example_encodes_to_the_documented_bytes() =>
        Assert.Equal(SpacedHex(MotorCommandHex), Hex(EncodeExample("motor")));

    [Fact]
    public void Heartbeat_example_encodes_to_the_documented_bytes() =>
        Assert.Equal(SpacedHex(HeartbeatHex), Hex(EncodeExample("heartbeat")));

    [Fact]
    public void Board_fault_example_encodes_to_the_documented_bytes() =>
        Assert.Equal(SpacedHex(BoardFaultHex), Hex(EncodeExample("fault")));

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Documented_bytes_decode_to_the_example_message(string name, string hex)
    {
        var decoder = new SerialFrameDecoder();
        ReadOnlySpan<byte> input = Convert.FromHexString(SpacedHex(hex));
        Assert.True(decoder.TryDecode(ref input, out var frame));
        Assert.Equal(Hex(EncodeExample(name)), Hex(Encode(frame)));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Protocol_document_shows_each_example_byte_for_byte(string name, string hex)
    {
        var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "serial-protocol.md"));
        Assert.True(doc.Contains(hex, StringComparison.Ordinal), $"docs/serial-protocol.md lacks the {name} example bytes: {hex}");
    }

    private static byte[] EncodeExample(string name)
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        var n = name switch
        {
            "sensor" => SerialFrameEncoder.Encode(ExampleSensorFrame(), 42, buffer),
            "motor" => SerialFrameEncoder.Encode(new MotorCommand { LinearMps = 0.5f, AngularRadps = -0.25f, Flags = MotorFlags.None, TimeoutMs = 200 }, 0x0102, buffer),
            "heartbeat" => SerialFrameEncoder.Encode(new Heartbeat { UptimeMs = 60_000, Status = BoardStatus.Ok }, 0, buffer),
            _ => SerialFrameEncoder.Encode(new BoardFault { Code = BoardFaultCodes.CommandWatchdogExpired, Severity = 1, BoardTimeMs = 123_456 }, 43, buffer),
        };
        return buffer[..n];
    }

    private static string SpacedHex(string hex) => hex.Replace(" ", string.Empty, StringComparison.Ordinal);
}
