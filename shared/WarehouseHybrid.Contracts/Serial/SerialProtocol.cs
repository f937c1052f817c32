namespace WarehouseHybrid.Contracts.Serial;

/// <summary>Kind of message in a serial frame (header byte 1). See docs/serial-protocol.md.</summary>
public enum BoardMessageType : byte
{
    /// <summary>Board to daemon: odometry, IMU heading, range scan, battery, flags (61-byte payload).</summary>
    SensorFrame = 1,
    /// <summary>Daemon to board: body velocities, brake, watchdog timeout (11-byte payload).</summary>
    MotorCommand = 2,
    /// <summary>Both directions: liveness, uptime and status (5-byte payload).</summary>
    Heartbeat = 3,
    /// <summary>Board to daemon: a fault report (7-byte payload).</summary>
    BoardFault = 4,
}

/// <summary>
/// Constants of serial protocol version 1: frame = COBS(header + payload + CRC) followed by 0x00.
/// Header = version (1 byte), type (1 byte), sequence (u16 LE), payload length (1 byte);
/// CRC = CRC-16/CCITT-FALSE over header and payload, little-endian.
/// </summary>
public static class SerialProtocol
{
    /// <summary>Value of the version byte this codec writes and accepts.</summary>
    public const byte Version = 1;

    /// <summary>Frame delimiter; COBS guarantees it never occurs inside an encoded frame.</summary>
    public const byte Delimiter = 0x00;

    /// <summary>Header bytes: version, type, sequence (2), payload length.</summary>
    public const int HeaderLength = 5;

    /// <summary>CRC bytes after the payload.</summary>
    public const int CrcLength = 2;

    /// <summary>Largest payload the one-byte length field can describe.</summary>
    public const int MaxPayloadLength = byte.MaxValue;

    /// <summary>Largest raw (pre-COBS) frame: header, 255-byte payload, CRC.</summary>
    public const int MaxRawFrameLength = HeaderLength + MaxPayloadLength + CrcLength;

    /// <summary>Smallest raw frame: header, empty payload, CRC.</summary>
    public const int MinRawFrameLength = HeaderLength + CrcLength;

    /// <summary>Payload bytes of a <see cref="BoardMessageType.SensorFrame"/>.</summary>
    public const int SensorFramePayloadLength = 61;

    /// <summary>Payload bytes of a <see cref="BoardMessageType.MotorCommand"/>.</summary>
    public const int MotorCommandPayloadLength = 11;

    /// <summary>Payload bytes of a <see cref="BoardMessageType.Heartbeat"/>.</summary>
    public const int HeartbeatPayloadLength = 5;

    /// <summary>Payload bytes of a <see cref="BoardMessageType.BoardFault"/>.</summary>
    public const int BoardFaultPayloadLength = 7;

    /// <summary>Largest payload of any message type this version defines (the sensor frame).</summary>
    public const int LargestKnownPayloadLength = SensorFramePayloadLength;

    /// <summary>Upper bound of the COBS encoding of <paramref name="rawLength"/> bytes (without the delimiter).</summary>
    public static int MaxCobsLength(int rawLength) => rawLength + (rawLength / 254) + 1;

    /// <summary>The fixed payload length of a known message type.</summary>
    /// <returns>False for a type this version does not define.</returns>
    public static bool TryGetPayloadLength(BoardMessageType type, out int length)
    {
        length = type switch
        {
            BoardMessageType.SensorFrame => SensorFramePayloadLength,
            BoardMessageType.MotorCommand => MotorCommandPayloadLength,
            BoardMessageType.Heartbeat => HeartbeatPayloadLength,
            BoardMessageType.BoardFault => BoardFaultPayloadLength,
            _ => -1,
        };
        return length >= 0;
    }

    /// <summary>Exact length of an encoded frame of a known type, including the trailing delimiter.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The type is not defined by this version.</exception>
    public static int EncodedFrameLength(BoardMessageType type)
    {
        if (!TryGetPayloadLength(type, out var payload))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "not a message type of serial protocol version 1");
        }

        return MaxCobsLength(HeaderLength + payload + CrcLength) + 1;
    }
}
