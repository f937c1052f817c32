using System.Buffers.Binary;

namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// The pure core of the serial codec: payload layouts, range rules and the decoding of one
/// delimited frame. <see cref="SerialFrameEncoder"/> and <see cref="SerialFrameDecoder"/> are
/// built on it. Byte offsets are documented in docs/serial-protocol.md.
/// </summary>
public static class SerialFrameCodec
{
    /// <summary>Largest battery percentage accepted.</summary>
    public const byte MaxBatteryPercent = 100;

    /// <summary>Largest <see cref="BoardFault.Severity"/> accepted (2 = error).</summary>
    public const byte MaxFaultSeverity = 2;

    private const SensorFlags AllSensorFlags = SensorFlags.Bumper | SensorFlags.EmergencyStop | SensorFlags.Braked | SensorFlags.Charging;
    private const MotorFlags AllMotorFlags = MotorFlags.Brake | MotorFlags.ClearFault;

    /// <summary>
    /// Decodes one frame: the COBS bytes between two delimiters (the delimiter itself excluded).
    /// Checks, in order: length bounds, COBS, raw length, CRC, version, type, length byte, field ranges.
    /// </summary>
    /// <param name="cobsFrameWithoutDelimiter">The encoded frame.</param>
    /// <param name="scratch">Work space of at least <c>min(frame length, MaxEncodedFrameLength)</c> bytes.</param>
    /// <param name="frame">The decoded frame when the result is true, otherwise default.</param>
    /// <param name="error">Why the frame was rejected, <see cref="FrameError.None"/> when it was accepted.</param>
    /// <returns>True when the frame is valid.</returns>
    /// <exception cref="ArgumentException">The scratch buffer is too small.</exception>
    public static bool TryDecodeFrame(ReadOnlySpan<byte> cobsFrameWithoutDelimiter, Span<byte> scratch, out DecodedFrame frame, out FrameError error)
    {
        error = Decode(cobsFrameWithoutDelimiter, scratch, out frame, out _);
        return error == FrameError.None;
    }

    /// <summary>As <see cref="TryDecodeFrame"/>, and names the rejected field or check in <paramref name="detail"/> (a constant string, no allocation).</summary>
    public static FrameError Decode(ReadOnlySpan<byte> cobsFrameWithoutDelimiter, Span<byte> scratch, out DecodedFrame frame, out string? detail)
    {
        frame = default;
        detail = null;
        var cobs = cobsFrameWithoutDelimiter;
        if (cobs.Length > SerialFrameEncoder.MaxEncodedFrameLength - 1)
        {
            detail = "frame longer than the protocol maximum";
            return FrameError.TooLong;
        }

        if (scratch.Length < cobs.Length)
        {
            throw new ArgumentException($"scratch must hold {cobs.Length} bytes, has {scratch.Length}", nameof(scratch));
        }

        if (cobs.Length < SerialProtocol.MinRawFrameLength + 1)
        {
            detail = "fewer bytes than header and CRC";
            return FrameError.TooShort;
        }

        if (!Cobs.TryDecode(cobs, scratch, out var rawLength))
        {
            detail = "COBS code byte points past the end of the frame";
            return FrameError.BadCobs;
        }

        ReadOnlySpan<byte> raw = scratch[..rawLength];
        if (raw.Length < SerialProtocol.MinRawFrameLength)
        {
            detail = "fewer bytes than header and CRC";
            return FrameError.TooShort;
        }

        var expectedCrc = BinaryPrimitives.ReadUInt16LittleEndian(raw[^SerialProtocol.CrcLength..]);
        if (Crc16CcittFalse.Compute(raw[..^SerialProtocol.CrcLength]) != expectedCrc)
        {
            detail = "CRC-16/CCITT-FALSE mismatch";
            return FrameError.BadCrc;
        }

        if (raw[0] != SerialProtocol.Version)
        {
            detail = "version byte (offset 0) is not 1";
            return FrameError.BadVersion;
        }

        var type = (BoardMessageType)raw[1];
        if (!SerialProtocol.TryGetPayloadLength(type, out var payloadLength))
        {
            detail = "type byte (offset 1) is not a known message type";
            return FrameError.UnknownType;
        }

        var declared = raw[4];
        if (declared != raw.Length - SerialProtocol.MinRawFrameLength)
        {
            detail = "length byte (offset 4) disagrees with the bytes received";
            return FrameError.BadLength;
        }

        if (declared != payloadLength)
        {
            detail = "length byte (offset 4) is not the fixed payload length of the type";
            return FrameError.BadLength;
        }

        frame.Type = type;
        frame.Sequence = BinaryPrimitives.ReadUInt16LittleEndian(raw[2..]);
        var payload = raw.Slice(SerialProtocol.HeaderLength, payloadLength);
        switch (type)
        {
            case BoardMessageType.SensorFrame:
                ReadPayload(payload, out frame.Sensor);
                detail = InvalidField(frame.Sensor);
                break;
            case BoardMessageType.MotorCommand:
                ReadPayload(payload, out frame.Motor);
                detail = InvalidField(frame.Motor);
                break;
            case BoardMessageType.Heartbeat:
                ReadPayload(payload, out frame.Heartbeat);
                detail = InvalidField(frame.Heartbeat);
                break;
            default:
                ReadPayload(payload, out frame.Fault);
                detail = InvalidField(frame.Fault);
                break;
        }

        if (detail is not null)
        {
            frame = default;
            return FrameError.BadValue;
        }

        return FrameError.None;
    }

    // ---- Sensor frame, 61 bytes ----

    internal static void WritePayload(in SensorFrame m, Span<byte> p)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, m.BoardTimeMs);
        BinaryPrimitives.WriteInt32LittleEndian(p[4..], m.LeftTicks);
        BinaryPrimitives.WriteInt32LittleEndian(p[8..], m.RightTicks);
        BinaryPrimitives.WriteSingleLittleEndian(p[12..], m.LeftWheelMps);
        BinaryPrimitives.WriteSingleLittleEndian(p[16..], m.RightWheelMps);
        BinaryPrimitives.WriteSingleLittleEndian(p[20..], m.HeadingRad);
        ReadOnlySpan<ushort> ranges = m.Ranges;
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(p[(24 + (2 * i))..], ranges[i]);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(p[56..], m.BatteryMillivolts);
        p[58] = m.BatteryPercent;
        p[59] = (byte)m.Flags;
        p[60] = (byte)m.Status;
    }

    internal static void ReadPayload(ReadOnlySpan<byte> p, out SensorFrame m)
    {
        m = default;
        m.BoardTimeMs = BinaryPrimitives.ReadUInt32LittleEndian(p);
        m.LeftTicks = BinaryPrimitives.ReadInt32LittleEndian(p[4..]);
        m.RightTicks = BinaryPrimitives.ReadInt32LittleEndian(p[8..]);
        m.LeftWheelMps = BinaryPrimitives.ReadSingleLittleEndian(p[12..]);
        m.RightWheelMps = BinaryPrimitives.ReadSingleLittleEndian(p[16..]);
        m.HeadingRad = BinaryPrimitives.ReadSingleLittleEndian(p[20..]);
        Span<ushort> ranges = m.Ranges;
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            ranges[i] = BinaryPrimitives.ReadUInt16LittleEndian(p[(24 + (2 * i))..]);
        }

        m.BatteryMillivolts = BinaryPrimitives.ReadUInt16LittleEndian(p[56..]);
        m.BatteryPercent = p[58];
        m.Flags = (SensorFlags)p[59];
        m.Status = (BoardStatus)p[60];
    }

    /// <summary>The first field of a sensor frame outside its documented range, or null if all are valid.</summary>
    public static string? InvalidField(in SensorFrame m)
    {
        if (!float.IsFinite(m.LeftWheelMps))
        {
            return "SensorFrame.LeftWheelMps (payload offset 12) is not finite";
        }

        if (!float.IsFinite(m.RightWheelMps))
        {
            return "SensorFrame.RightWheelMps (payload offset 16) is not finite";
        }

        if (!float.IsFinite(m.HeadingRad))
        {
            return "SensorFrame.HeadingRad (payload offset 20) is not finite";
        }

        if (m.BatteryPercent > MaxBatteryPercent)
        {
            return "SensorFrame.BatteryPercent (payload offset 58) is over 100";
        }

        if ((m.Flags & ~AllSensorFlags) != 0)
        {
            return "SensorFrame.Flags (payload offset 59) has a reserved bit set";
        }

        if (m.Status > BoardStatus.Booting)
        {
            return "SensorFrame.Status (payload offset 60) is not a BoardStatus";
        }

        return null;
    }

    // ---- Motor command, 11 bytes ----

    internal static void WritePayload(in MotorCommand m, Span<byte> p)
    {
        BinaryPrimitives.WriteSingleLittleEndian(p, m.LinearMps);
        BinaryPrimitives.WriteSingleLittleEndian(p[4..], m.AngularRadps);
        p[8] = (byte)m.Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(p[9..], m.TimeoutMs);
    }

    internal static void ReadPayload(ReadOnlySpan<byte> p, out MotorCommand m)
    {
        m = default;
        m.LinearMps = BinaryPrimitives.ReadSingleLittleEndian(p);
        m.AngularRadps = BinaryPrimitives.ReadSingleLittleEndian(p[4..]);
        m.Flags = (MotorFlags)p[8];
        m.TimeoutMs = BinaryPrimitives.ReadUInt16LittleEndian(p[9..]);
    }

    /// <summary>The first field of a motor command outside its documented range, or null if all are valid.</summary>
    public static string? InvalidField(in MotorCommand m)
    {
        if (!float.IsFinite(m.LinearMps))
        {
            return "MotorCommand.LinearMps (payload offset 0) is not finite";
        }

        if (!float.IsFinite(m.AngularRadps))
        {
            return "MotorCommand.AngularRadps (payload offset 4) is not finite";
        }

        if ((m.Flags & ~AllMotorFlags) != 0)
        {
            return "MotorCommand.Flags (payload offset 8) has a reserved bit set";
        }

        return null;
    }

    // ---- Heartbeat, 5 bytes ----

    internal static void WritePayload(in Heartbeat m, Span<byte> p)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, m.UptimeMs);
        p[4] = (byte)m.Status;
    }

    internal static void ReadPayload(ReadOnlySpan<byte> p, out Heartbeat m)
    {
        m = default;
        m.UptimeMs = BinaryPrimitives.ReadUInt32LittleEndian(p);
        m.Status = (BoardStatus)p[4];
    }

    /// <summary>The first field of a heartbeat outside its documented range, or null if all are valid.</summary>
    public static string? InvalidField(in Heartbeat m) =>
        m.Status > BoardStatus.Booting ? "Heartbeat.Status (payload offset 4) is not a BoardStatus" : null;

    // ---- Board fault, 7 bytes ----

    internal static void WritePayload(in BoardFault m, Span<byte> p)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(p, m.Code);
        p[2] = m.Severity;
        BinaryPrimitives.WriteUInt32LittleEndian(p[3..], m.BoardTimeMs);
    }

    internal static void ReadPayload(ReadOnlySpan<byte> p, out BoardFault m)
    {
        m = default;
        m.Code = BinaryPrimitives.ReadUInt16LittleEndian(p);
        m.Severity = p[2];
        m.BoardTimeMs = BinaryPrimitives.ReadUInt32LittleEndian(p[3..]);
    }

    /// <summary>The first field of a board fault outside its documented range, or null if all are valid.</summary>
    public static string? InvalidField(in BoardFault m) =>
        m.Severity > MaxFaultSeverity ? "BoardFault.Severity (payload offset 2) is over 2" : null;

    internal static void ValidateOrThrow(in SensorFrame m) => ThrowIfInvalid(InvalidField(m));

    internal static void ValidateOrThrow(in MotorCommand m) => ThrowIfInvalid(InvalidField(m));

    internal static void ValidateOrThrow(in Heartbeat m) => ThrowIfInvalid(InvalidField(m));

    internal static void ValidateOrThrow(in BoardFault m) => ThrowIfInvalid(InvalidField(m));

    private static void ThrowIfInvalid(string? invalid)
    {
        if (invalid is not null)
        {
            throw new ArgumentOutOfRangeException("message", invalid + " (see docs/serial-protocol.md)");
        }
    }
}
