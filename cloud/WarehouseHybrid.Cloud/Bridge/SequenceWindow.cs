namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>What a record's sequence number says about it.</summary>
public enum SequenceVerdict
{
    /// <summary>Newer than everything seen: apply it.</summary>
    Fresh,
    /// <summary>Older than the newest but not seen before (reordered across bridges): keep it, do not roll state back.</summary>
    Late,
    /// <summary>Seen before (a re-delivery after a reconnect) or too old to tell: discard it.</summary>
    Duplicate,
}

/// <summary>
/// Duplicate detection for one robot's record stream (docs/adr/0010-link.md): the edge's outbox gives every record a
/// seq unique and increasing within a stream id, and re-delivers after a reconnect (at least once). This keeps the
/// high-water mark plus a bitmap of the <see cref="Width"/> seqs below it, so a re-delivery is discarded exactly and
/// a record that overtook another through a second bridge (shared subscriptions) is still accepted once. A new
/// stream id (an edge with a fresh outbox) starts a new window. Pure; the robot grain owns one, so the mark is the
/// same whichever silo's bridge a record came through.
/// </summary>
public sealed class SequenceWindow
{
    /// <summary>How far below the high-water mark records are still told apart.</summary>
    public const int Width = 1024;

    private readonly ulong[] _seen = new ulong[Width / 64];
    private ulong _stream;
    private long _high = -1;

    /// <summary>The highest seq accepted in the current stream (-1 before the first).</summary>
    public long HighWaterMark => _high;

    /// <summary>The current stream id.</summary>
    public ulong StreamId => _stream;

    /// <summary>Judges one record and remembers it.</summary>
    public SequenceVerdict Observe(ulong streamId, ulong seq)
    {
        if (streamId != _stream)
        {
            _stream = streamId;
            _high = -1;
            Array.Clear(_seen);
        }

        var s = (long)Math.Min(seq, long.MaxValue);
        if (s > _high)
        {
            var shift = _high < 0 ? Width : s - _high;
            Shift(shift);
            _high = s;
            Mark(0);
            return SequenceVerdict.Fresh;
        }

        var age = _high - s;
        if (age >= Width || IsMarked((int)age))
        {
            return SequenceVerdict.Duplicate;
        }

        Mark((int)age);
        return SequenceVerdict.Late;
    }

    // Bit i records whether seq (high - i) was seen; advancing the mark shifts the bitmap towards older ages.
    private void Shift(long by)
    {
        if (by >= Width)
        {
            Array.Clear(_seen);
            return;
        }

        var words = (int)(by / 64);
        var bits = (int)(by % 64);
        for (var i = _seen.Length - 1; i >= 0; i--)
        {
            var src = i - words;
            var value = src >= 0 ? _seen[src] << bits : 0;
            if (bits > 0 && src - 1 >= 0)
            {
                value |= _seen[src - 1] >> (64 - bits);
            }

            _seen[i] = value;
        }
    }

    private void Mark(int age) => _seen[age / 64] |= 1UL << (age % 64);

    private bool IsMarked(int age) => (_seen[age / 64] & (1UL << (age % 64))) != 0;
}
