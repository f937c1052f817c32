namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// Stateful stream decoder: feed it whatever bytes the serial port delivered, get whole frames out.
/// Not thread-safe (one reader thread owns it). Allocates its two buffers once, nothing per frame.
/// </summary>
/// <remarks>
/// Bytes are collected up to each 0x00 delimiter and decoded with <see cref="SerialFrameCodec"/>.
/// A rejected run is counted under its <see cref="FrameError"/>; then, in case the run was garbage
/// glued in front of a good frame whose leading delimiter was lost, its tail is tried as a frame of
/// each known length, so a good frame is not lost to noise before it. Runs longer than the maximum
/// are counted as <see cref="FrameError.TooLong"/> once and skipped up to the next delimiter (their
/// tail still gets the same recovery). Empty runs (several 0x00 in a row) are idle fill, not errors.
/// </remarks>
public sealed class SerialFrameDecoder
{
    /// <summary>Largest value accepted for the constructor's maxFrameLength.</summary>
    public const int MaxSupportedFrameLength = 1 << 16;

    private static readonly BoardMessageType[] KnownTypes =
        [BoardMessageType.SensorFrame, BoardMessageType.MotorCommand, BoardMessageType.Heartbeat, BoardMessageType.BoardFault];

    private readonly byte[] _buffer;
    private readonly byte[] _scratch;
    private readonly int _capacity;
    private readonly int _recoveryWindow;

    private int _count;
    private bool _overflowed;
    private long _frameStart;
    private bool _haveSequence;
    private ushort _lastSequence;

    private long _framesDecoded;
    private long _bytesConsumed;
    private long _tooShort;
    private long _tooLong;
    private long _badCobs;
    private long _badCrc;
    private long _badVersion;
    private long _unknownType;
    private long _badLength;
    private long _badValue;
    private long _sequenceGaps;
    private long _framesMissed;
    private long _framesRecovered;

    /// <summary>Creates a decoder.</summary>
    /// <param name="maxFrameLength">Longest encoded frame accepted, delimiter included; longer runs are <see cref="FrameError.TooLong"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Shorter than the smallest possible frame, or over <see cref="MaxSupportedFrameLength"/>.</exception>
    public SerialFrameDecoder(int maxFrameLength = SerialFrameEncoder.MaxEncodedFrameLength)
    {
        var smallest = SerialProtocol.MinRawFrameLength + 2;
        if (maxFrameLength < smallest || maxFrameLength > MaxSupportedFrameLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxFrameLength), maxFrameLength, $"must be {smallest}..{MaxSupportedFrameLength} bytes (delimiter included)");
        }

        _capacity = maxFrameLength - 1;
        _buffer = new byte[_capacity];
        _scratch = new byte[_capacity];
        var longestKnown = 0;
        foreach (var type in KnownTypes)
        {
            longestKnown = Math.Max(longestKnown, SerialProtocol.EncodedFrameLength(type) - 1);
        }

        _recoveryWindow = Math.Min(_capacity, longestKnown);
    }

    /// <summary>Reason of the most recently rejected frame (<see cref="FrameError.None"/> if none yet).</summary>
    public FrameError LastError { get; private set; }

    /// <summary>Stream byte offset (counted from construction or <see cref="Reset"/>) where the most recently rejected frame started; -1 if none was rejected.</summary>
    public long LastErrorOffset { get; private set; } = -1;

    /// <summary>What exactly failed in the most recently rejected frame (a constant string, e.g. the field and its payload offset).</summary>
    public string? LastErrorDetail { get; private set; }

    /// <summary>A snapshot of the counters.</summary>
    public SerialDecoderStats Stats => new()
    {
        FramesDecoded = _framesDecoded,
        BytesConsumed = _bytesConsumed,
        TooShort = _tooShort,
        TooLong = _tooLong,
        BadCobs = _badCobs,
        BadCrc = _badCrc,
        BadVersion = _badVersion,
        UnknownType = _unknownType,
        BadLength = _badLength,
        BadValue = _badValue,
        SequenceGaps = _sequenceGaps,
        FramesMissed = _framesMissed,
        FramesRecovered = _framesRecovered,
    };

    /// <summary>Bytes of an unfinished frame held for the next call.</summary>
    public int PendingBytes => _count;

    /// <summary>
    /// Consumes bytes from <paramref name="input"/> (advancing it) until one complete valid frame is
    /// decoded (true) or the input is exhausted (false; partial frame bytes are kept for the next call).
    /// </summary>
    public bool TryDecode(ref ReadOnlySpan<byte> input, out DecodedFrame frame)
    {
        while (!input.IsEmpty)
        {
            var delimiter = input.IndexOf(SerialProtocol.Delimiter);
            var chunk = delimiter < 0 ? input : input[..delimiter];
            Append(chunk);
            _bytesConsumed += chunk.Length;
            if (delimiter < 0)
            {
                input = default;
                break;
            }

            input = input[(delimiter + 1)..];
            _bytesConsumed++;
            var found = CompleteFrame(out frame);
            _count = 0;
            _overflowed = false;
            _frameStart = _bytesConsumed;
            if (found)
            {
                Accept(frame.Sequence);
                return true;
            }
        }

        frame = default;
        return false;
    }

    /// <summary>Drops any partial frame and zeroes every counter, the error state and the sequence tracking.</summary>
    public void Reset()
    {
        _count = 0;
        _overflowed = false;
        _frameStart = 0;
        _haveSequence = false;
        _lastSequence = 0;
        _framesDecoded = _bytesConsumed = _tooShort = _tooLong = _badCobs = _badCrc = 0;
        _badVersion = _unknownType = _badLength = _badValue = _sequenceGaps = _framesMissed = _framesRecovered = 0;
        LastError = FrameError.None;
        LastErrorOffset = -1;
        LastErrorDetail = null;
    }

    private void Append(ReadOnlySpan<byte> chunk)
    {
        if (!_overflowed)
        {
            if (chunk.Length <= _capacity - _count)
            {
                chunk.CopyTo(_buffer.AsSpan(_count));
                _count += chunk.Length;
                return;
            }

            Reject(FrameError.TooLong, "no delimiter within the maximum frame length");
            _overflowed = true;
        }

        // Overflowed: keep only the last bytes, enough to recover a frame glued to the end of the run.
        var window = _recoveryWindow;
        if (chunk.Length >= window)
        {
            chunk[^window..].CopyTo(_buffer);
            _count = window;
            return;
        }

        var keep = Math.Min(_count, window - chunk.Length);
        _buffer.AsSpan(_count - keep, keep).CopyTo(_buffer);
        chunk.CopyTo(_buffer.AsSpan(keep));
        _count = keep + chunk.Length;
    }

    private bool CompleteFrame(out DecodedFrame frame)
    {
        if (_count == 0 && !_overflowed)
        {
            frame = default;
            return false;
        }

        if (!_overflowed)
        {
            var error = SerialFrameCodec.Decode(_buffer.AsSpan(0, _count), _scratch, out frame, out var detail);
            if (error == FrameError.None)
            {
                return true;
            }

            Reject(error, detail);
        }

        return TryRecoverTail(out frame);
    }

    private bool TryRecoverTail(out DecodedFrame frame)
    {
        // A strict suffix of a run that was not cut, or any suffix of the kept window of a cut one.
        var limit = _overflowed ? _count : _count - 1;
        foreach (var type in KnownTypes)
        {
            var length = SerialProtocol.EncodedFrameLength(type) - 1;
            if (length > limit)
            {
                continue;
            }

            var tail = _buffer.AsSpan(_count - length, length);
            if (SerialFrameCodec.Decode(tail, _scratch, out frame, out _) == FrameError.None)
            {
                _framesRecovered++;
                return true;
            }
        }

        frame = default;
        return false;
    }

    private void Accept(ushort sequence)
    {
        _framesDecoded++;
        if (_haveSequence)
        {
            var jump = (ushort)(sequence - _lastSequence);
            if (jump != 1)
            {
                _sequenceGaps++;
                if (jump > 1 && jump < 0x8000)
                {
                    _framesMissed += jump - 1;
                }
            }
        }

        _haveSequence = true;
        _lastSequence = sequence;
    }

    private void Reject(FrameError error, string? detail)
    {
        LastError = error;
        LastErrorOffset = _frameStart;
        LastErrorDetail = detail;
        switch (error)
        {
            case FrameError.TooShort: _tooShort++; break;
            case FrameError.TooLong: _tooLong++; break;
            case FrameError.BadCobs: _badCobs++; break;
            case FrameError.BadCrc: _badCrc++; break;
            case FrameError.BadVersion: _badVersion++; break;
            case FrameError.UnknownType: _unknownType++; break;
            case FrameError.BadLength: _badLength++; break;
            default: _badValue++; break;
        }
    }
}
