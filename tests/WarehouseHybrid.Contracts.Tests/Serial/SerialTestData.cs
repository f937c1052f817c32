using CsCheck;
using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Contracts.Tests.Serial;

/// <summary>Generators, an independent frame builder and field-by-field comparisons for the serial tests.</summary>
internal static class SerialTestData
{
    /// <summary>Any float bit pattern that is finite (the wire rule), negative zero and subnormals included.</summary>
    public static readonly Gen<float> FiniteFloat =
        Gen.Frequency(
            (4, Gen.UInt.Select(BitConverter.UInt32BitsToSingle).Where(float.IsFinite)),
            (1, Gen.OneOf(0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue)));

    /// <summary>A non-finite float: either infinity or any NaN payload.</summary>
    public static readonly Gen<float> NonFiniteFloat =
        Gen.Frequency(
            (1, Gen.OneOf(float.NaN, float.PositiveInfinity, float.NegativeInfinity)),
            (2, Gen.UInt[0, 0x007F_FFFF].Select(Gen.Bool, (mantissa, negative) =>
                BitConverter.UInt32BitsToSingle((negative ? 0x8000_0000u : 0u) | 0x7F80_0000u | mantissa))));

    public static readonly Gen<SensorFlags> AnySensorFlags = Gen.Byte[0, 15].Select(b => (SensorFlags)b);
    public static readonly Gen<BoardStatus> AnyStatus = Gen.Byte[0, 3].Select(b => (BoardStatus)b);

    public static readonly Gen<SensorFrame> Sensor =
        from time in Gen.UInt
        from left in Gen.Int
        from right in Gen.Int
        from lv in FiniteFloat
        from rv in FiniteFloat
        from heading in FiniteFloat
        from ranges in Gen.UShort.Array[RangeScanLayout.BeamCount]
        from mv in Gen.UShort
        from pct in Gen.Byte[0, 100]
        from flags in AnySensorFlags
        from status in AnyStatus
        select MakeSensor(time, left, right, lv, rv, heading, ranges, mv, pct, flags, status);

    public static readonly Gen<MotorCommand> Motor =
        from linear in FiniteFloat
        from angular in FiniteFloat
        from flags in Gen.Byte[0, 3]
        from timeout in Gen.UShort
        select new MotorCommand { LinearMps = linear, AngularRadps = angular, Flags = (MotorFlags)flags, TimeoutMs = timeout };

    public static readonly Gen<Heartbeat> AnyHeartbeat =
        from uptime in Gen.UInt
        from status in AnyStatus
        select new Heartbeat { UptimeMs = uptime, Status = status };

    public static readonly Gen<BoardFault> Fault =
        from code in Gen.UShort
        from severity in Gen.Byte[0, 2]
        from time in Gen.UInt
        select new BoardFault { Code = code, Severity = severity, BoardTimeMs = time };

    /// <summary>Any valid message of any type, with any sequence number, as a decoded frame.</summary>
    public static readonly Gen<DecodedFrame> AnyFrame =
        Gen.OneOf(
            Sensor.Select(m => new DecodedFrame { Type = BoardMessageType.SensorFrame, Sensor = m }),
            Motor.Select(m => new DecodedFrame { Type = BoardMessageType.MotorCommand, Motor = m }),
            AnyHeartbeat.Select(m => new DecodedFrame { Type = BoardMessageType.Heartbeat, Heartbeat = m }),
            Fault.Select(m => new DecodedFrame { Type = BoardMessageType.BoardFault, Fault = m }))
        .Select(Gen.UShort, (f, seq) => { f.Sequence = seq; return f; });

    public static SensorFrame MakeSensor(
        uint time, int left, int right, float lv, float rv, float heading, ushort[] ranges, ushort mv, byte pct, SensorFlags flags, BoardStatus status)
    {
        var m = new SensorFrame
        {
            BoardTimeMs = time,
            LeftTicks = left,
            RightTicks = right,
            LeftWheelMps = lv,
            RightWheelMps = rv,
            HeadingRad = heading,
            BatteryMillivolts = mv,
            BatteryPercent = pct,
            Flags = flags,
            Status = status,
        };
        ranges.AsSpan().CopyTo(m.Ranges);
        return m;
    }

    /// <summary>Encodes whichever message the frame holds.</summary>
    public static byte[] Encode(in DecodedFrame f)
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        var n = f.Type switch
        {
            BoardMessageType.SensorFrame => SerialFrameEncoder.Encode(f.Sensor, f.Sequence, buffer),
            BoardMessageType.MotorCommand => SerialFrameEncoder.Encode(f.Motor, f.Sequence, buffer),
            BoardMessageType.Heartbeat => SerialFrameEncoder.Encode(f.Heartbeat, f.Sequence, buffer),
            _ => SerialFrameEncoder.Encode(f.Fault, f.Sequence, buffer),
        };
        return buffer[..n];
    }

    /// <summary>
    /// Builds a frame byte by byte from its parts with a correct CRC, so tests can make frames the
    /// encoder refuses to make (wrong version, unknown type, wrong length, out-of-range values).
    /// </summary>
    public static byte[] BuildFrame(byte version, byte type, ushort sequence, byte lengthField, ReadOnlySpan<byte> payload, bool corruptCrc = false)
    {
        var raw = new byte[SerialProtocol.HeaderLength + payload.Length + SerialProtocol.CrcLength];
        raw[0] = version;
        raw[1] = type;
        raw[2] = (byte)sequence;
        raw[3] = (byte)(sequence >> 8);
        raw[4] = lengthField;
        payload.CopyTo(raw.AsSpan(SerialProtocol.HeaderLength));
        var crc = Crc16CcittFalse.Compute(raw.AsSpan(0, raw.Length - 2));
        if (corruptCrc)
        {
            crc ^= 0x0001;
        }

        raw[^2] = (byte)crc;
        raw[^1] = (byte)(crc >> 8);
        var encoded = new byte[SerialProtocol.MaxCobsLength(raw.Length) + 1];
        var n = Cobs.Encode(raw, encoded);
        encoded[n] = 0;
        return encoded[..(n + 1)];
    }

    /// <summary>The raw payload of a frame the encoder made (COBS-decoded, header and CRC removed).</summary>
    public static byte[] PayloadOf(byte[] encodedFrame)
    {
        var raw = new byte[encodedFrame.Length];
        Assert.True(Cobs.TryDecode(encodedFrame.AsSpan(0, encodedFrame.Length - 1), raw, out var n));
        return raw[SerialProtocol.HeaderLength..(n - SerialProtocol.CrcLength)];
    }

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    public static void AssertSame(in DecodedFrame expected, in DecodedFrame actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Sequence, actual.Sequence);
        switch (expected.Type)
        {
            case BoardMessageType.SensorFrame: AssertSame(expected.Sensor, actual.Sensor); break;
            case BoardMessageType.MotorCommand: AssertSame(expected.Motor, actual.Motor); break;
            case BoardMessageType.Heartbeat: AssertSame(expected.Heartbeat, actual.Heartbeat); break;
            default: AssertSame(expected.Fault, actual.Fault); break;
        }
    }

    public static void AssertSame(in SensorFrame e, in SensorFrame a)
    {
        Assert.Equal(e.BoardTimeMs, a.BoardTimeMs);
        Assert.Equal(e.LeftTicks, a.LeftTicks);
        Assert.Equal(e.RightTicks, a.RightTicks);
        AssertSameBits(e.LeftWheelMps, a.LeftWheelMps);
        AssertSameBits(e.RightWheelMps, a.RightWheelMps);
        AssertSameBits(e.HeadingRad, a.HeadingRad);
        ReadOnlySpan<ushort> er = e.Ranges;
        ReadOnlySpan<ushort> ar = a.Ranges;
        Assert.Equal(er.ToArray(), ar.ToArray());
        Assert.Equal(e.BatteryMillivolts, a.BatteryMillivolts);
        Assert.Equal(e.BatteryPercent, a.BatteryPercent);
        Assert.Equal(e.Flags, a.Flags);
        Assert.Equal(e.Status, a.Status);
    }

    public static void AssertSame(in MotorCommand e, in MotorCommand a)
    {
        AssertSameBits(e.LinearMps, a.LinearMps);
        AssertSameBits(e.AngularRadps, a.AngularRadps);
        Assert.Equal(e.Flags, a.Flags);
        Assert.Equal(e.TimeoutMs, a.TimeoutMs);
    }

    public static void AssertSame(in Heartbeat e, in Heartbeat a)
    {
        Assert.Equal(e.UptimeMs, a.UptimeMs);
        Assert.Equal(e.Status, a.Status);
    }

    public static void AssertSame(in BoardFault e, in BoardFault a)
    {
        Assert.Equal(e.Code, a.Code);
        Assert.Equal(e.Severity, a.Severity);
        Assert.Equal(e.BoardTimeMs, a.BoardTimeMs);
    }

    /// <summary>Floats must come back bit for bit (so -0 stays -0).</summary>
    public static void AssertSameBits(float expected, float actual) =>
        Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(actual));

    /// <summary>Decodes everything in <paramref name="stream"/>, fed in one call.</summary>
    public static List<DecodedFrame> DecodeAll(SerialFrameDecoder decoder, ReadOnlySpan<byte> stream)
    {
        var frames = new List<DecodedFrame>();
        while (decoder.TryDecode(ref stream, out var frame))
        {
            frames.Add(frame);
        }

        return frames;
    }
}
