using System.Buffers.Binary;

namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// Writes complete serial frames: COBS(header + payload + CRC-16/CCITT-FALSE) followed by 0x00.
/// Allocation-free. Values outside the documented ranges are refused, so the encoder never emits a
/// frame that <see cref="SerialFrameDecoder"/> would reject.
/// </summary>
public static class SerialFrameEncoder
{
    /// <summary>
    /// Upper bound of any encoded frame of protocol version 1, including the delimiter: a 255-byte
    /// payload (the largest the length byte allows) plus header and CRC, COBS-stuffed (265 bytes).
    /// The frames of the message types defined today are shorter (<see cref="SerialProtocol.EncodedFrameLength"/>).
    /// </summary>
    public const int MaxEncodedFrameLength = SerialProtocol.MaxRawFrameLength + (SerialProtocol.MaxRawFrameLength / 254) + 1 + 1;

    private const int SensorRawLength = SerialProtocol.HeaderLength + SerialProtocol.SensorFramePayloadLength + SerialProtocol.CrcLength;
    private const int MotorRawLength = SerialProtocol.HeaderLength + SerialProtocol.MotorCommandPayloadLength + SerialProtocol.CrcLength;
    private const int HeartbeatRawLength = SerialProtocol.HeaderLength + SerialProtocol.HeartbeatPayloadLength + SerialProtocol.CrcLength;
    private const int FaultRawLength = SerialProtocol.HeaderLength + SerialProtocol.BoardFaultPayloadLength + SerialProtocol.CrcLength;

    /// <summary>Encodes a sensor frame (type 1).</summary>
    /// <returns>Bytes written, including the trailing 0x00.</returns>
    /// <exception cref="ArgumentException">The destination is too small, or a field is out of range (the message names it).</exception>
    public static int Encode(in SensorFrame message, ushort sequence, Span<byte> destination)
    {
        SerialFrameCodec.ValidateOrThrow(message);
        Span<byte> raw = stackalloc byte[SensorRawLength];
        SerialFrameCodec.WritePayload(message, raw.Slice(SerialProtocol.HeaderLength, SerialProtocol.SensorFramePayloadLength));
        return Finish(raw, BoardMessageType.SensorFrame, sequence, destination);
    }

    /// <summary>Encodes a motor command (type 2).</summary>
    /// <returns>Bytes written, including the trailing 0x00.</returns>
    /// <exception cref="ArgumentException">The destination is too small, or a field is out of range (the message names it).</exception>
    public static int Encode(in MotorCommand message, ushort sequence, Span<byte> destination)
    {
        SerialFrameCodec.ValidateOrThrow(message);
        Span<byte> raw = stackalloc byte[MotorRawLength];
        SerialFrameCodec.WritePayload(message, raw.Slice(SerialProtocol.HeaderLength, SerialProtocol.MotorCommandPayloadLength));
        return Finish(raw, BoardMessageType.MotorCommand, sequence, destination);
    }

    /// <summary>Encodes a heartbeat (type 3).</summary>
    /// <returns>Bytes written, including the trailing 0x00.</returns>
    /// <exception cref="ArgumentException">The destination is too small, or a field is out of range (the message names it).</exception>
    public static int Encode(in Heartbeat message, ushort sequence, Span<byte> destination)
    {
        SerialFrameCodec.ValidateOrThrow(message);
        Span<byte> raw = stackalloc byte[HeartbeatRawLength];
        SerialFrameCodec.WritePayload(message, raw.Slice(SerialProtocol.HeaderLength, SerialProtocol.HeartbeatPayloadLength));
        return Finish(raw, BoardMessageType.Heartbeat, sequence, destination);
    }

    /// <summary>Encodes a board fault (type 4).</summary>
    /// <returns>Bytes written, including the trailing 0x00.</returns>
    /// <exception cref="ArgumentException">The destination is too small, or a field is out of range (the message names it).</exception>
    public static int Encode(in BoardFault message, ushort sequence, Span<byte> destination)
    {
        SerialFrameCodec.ValidateOrThrow(message);
        Span<byte> raw = stackalloc byte[FaultRawLength];
        SerialFrameCodec.WritePayload(message, raw.Slice(SerialProtocol.HeaderLength, SerialProtocol.BoardFaultPayloadLength));
        return Finish(raw, BoardMessageType.BoardFault, sequence, destination);
    }

    private static int Finish(Span<byte> raw, BoardMessageType type, ushort sequence, Span<byte> destination)
    {
        var needed = SerialProtocol.MaxCobsLength(raw.Length) + 1;
        if (destination.Length < needed)
        {
            throw new ArgumentException(
                $"a {type} frame needs {needed} bytes, destination has {destination.Length}", nameof(destination));
        }

        var payloadLength = raw.Length - SerialProtocol.HeaderLength - SerialProtocol.CrcLength;
        raw[0] = SerialProtocol.Version;
        raw[1] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(raw[2..], sequence);
        raw[4] = (byte)payloadLength;
        var crc = Crc16CcittFalse.Compute(raw[..^SerialProtocol.CrcLength]);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[^SerialProtocol.CrcLength..], crc);

        var written = Cobs.Encode(raw, destination);
        destination[written++] = SerialProtocol.Delimiter;
        return written;
    }
}
