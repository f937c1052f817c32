namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// A snapshot of a <see cref="SerialFrameDecoder"/>'s counters (a value copy: reading it allocates nothing).
/// Each rejected frame is counted once, under the first check it failed.
/// </summary>
public readonly record struct SerialDecoderStats
{
    /// <summary>Valid frames returned.</summary>
    public long FramesDecoded { get; init; }
    /// <summary>Bytes taken from the input, delimiters and rejected bytes included.</summary>
    public long BytesConsumed { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.TooShort"/>.</summary>
    public long TooShort { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.TooLong"/>.</summary>
    public long TooLong { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.BadCobs"/>.</summary>
    public long BadCobs { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.BadCrc"/>.</summary>
    public long BadCrc { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.BadVersion"/>.</summary>
    public long BadVersion { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.UnknownType"/>.</summary>
    public long UnknownType { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.BadLength"/>.</summary>
    public long BadLength { get; init; }
    /// <summary>Frames rejected as <see cref="FrameError.BadValue"/>.</summary>
    public long BadValue { get; init; }
    /// <summary>Valid frames whose sequence number was not the previous one plus 1 (mod 2^16).</summary>
    public long SequenceGaps { get; init; }
    /// <summary>Frames presumed lost: the sum of forward sequence jumps minus one (jumps of 2^15 or more count as restarts, not losses).</summary>
    public long FramesMissed { get; init; }
    /// <summary>Valid frames found at the end of a rejected byte run (garbage before a frame whose leading delimiter was lost).</summary>
    public long FramesRecovered { get; init; }

    /// <summary>All rejected frames, whatever the reason.</summary>
    public long FramesRejected => TooShort + TooLong + BadCobs + BadCrc + BadVersion + UnknownType + BadLength + BadValue;

    /// <summary>The counter of one rejection reason (0 for <see cref="FrameError.None"/>).</summary>
    public long Count(FrameError error) => error switch
    {
        FrameError.TooShort => TooShort,
        FrameError.TooLong => TooLong,
        FrameError.BadCobs => BadCobs,
        FrameError.BadCrc => BadCrc,
        FrameError.BadVersion => BadVersion,
        FrameError.UnknownType => UnknownType,
        FrameError.BadLength => BadLength,
        FrameError.BadValue => BadValue,
        _ => 0,
    };
}
