namespace WarehouseHybrid.Contracts.Serial;

/// <summary>Why a received frame was rejected (checked in this order). See docs/serial-protocol.md, "Errors".</summary>
public enum FrameError : byte
{
    /// <summary>The frame is valid.</summary>
    None,
    /// <summary>Fewer than 7 bytes after COBS decoding (header + CRC do not fit).</summary>
    TooShort,
    /// <summary>More encoded bytes than the maximum frame length arrived before a delimiter.</summary>
    TooLong,
    /// <summary>A COBS code byte points past the end of the frame.</summary>
    BadCobs,
    /// <summary>The CRC-16/CCITT-FALSE does not match the header and payload.</summary>
    BadCrc,
    /// <summary>The version byte is not <see cref="SerialProtocol.Version"/>.</summary>
    BadVersion,
    /// <summary>The type byte is not a <see cref="BoardMessageType"/> of this version.</summary>
    UnknownType,
    /// <summary>The length byte disagrees with the bytes received or with the fixed payload length of the type.</summary>
    BadLength,
    /// <summary>A field is out of its documented range (non-finite float, percent over 100, undefined enum value or flag bit).</summary>
    BadValue,
}
