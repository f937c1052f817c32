namespace WarehouseHybrid.Edge.Serial;

/// <summary>
/// One end of an in-memory serial line (see <see cref="InMemorySerialPair"/>): reads come from the peer's
/// writes, in order; a read blocks until at least one byte is there or the peer has closed (then 0, end of
/// stream). Disposing this end ends the peer's reads and makes the peer's writes fail with
/// <see cref="IOException"/>, as a serial device that disappears would.
/// Safe for one reader and several writers at a time.
/// </summary>
public sealed class InMemorySerialStream : Stream
{
    private readonly SerialByteQueue _incoming;
    private readonly SerialByteQueue _outgoing;
    private int _disposed;

    internal InMemorySerialStream(string name, SerialByteQueue incoming, SerialByteQueue outgoing)
    {
        Name = name;
        _incoming = incoming;
        _outgoing = outgoing;
    }

    /// <summary>Which end this is ("board" or "daemon"), for messages.</summary>
    public string Name { get; }

    /// <summary>Bytes this end wrote that the line dropped because the peer's buffer was full (drop mode only).</summary>
    public long DroppedBytesWritten => _outgoing.DroppedBytes;

    /// <summary>Writes from this end dropped whole because the peer's buffer was full (drop mode only).</summary>
    public long DroppedWrites => _outgoing.DroppedWrites;

    /// <summary>Bytes this end has put on the line.</summary>
    public long BytesWritten => _outgoing.TotalBytesWritten;

    /// <summary>Bytes waiting to be read at this end.</summary>
    public int BytesToRead => _incoming.Buffered;

    /// <inheritdoc />
    public override bool CanRead => Volatile.Read(ref _disposed) == 0;

    /// <inheritdoc />
    public override bool CanWrite => Volatile.Read(ref _disposed) == 0;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanTimeout => true;

    /// <inheritdoc />
    public override int ReadTimeout { get; set; } = Timeout.Infinite;

    /// <inheritdoc />
    public override int WriteTimeout { get; set; } = Timeout.Infinite;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException("a serial line has no length");

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException("a serial line has no position");
        set => throw new NotSupportedException("a serial line has no position");
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        ThrowIfDisposed();
        return _incoming.Read(buffer, ToTimeSpan(ReadTimeout), CancellationToken.None);
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _incoming.ReadAsync(buffer, cancellationToken);
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfDisposed();
        _outgoing.Write(buffer, ToTimeSpan(WriteTimeout), CancellationToken.None);
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _outgoing.WriteAsync(buffer, cancellationToken);
    }

    /// <inheritdoc />
    public override void Flush()
    {
        // Bytes are visible to the peer as soon as they are written.
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a serial line cannot seek");

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException("a serial line has no length");

    /// <inheritdoc />
    public override string ToString() => $"in-memory serial ({Name} end)";

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _outgoing.CompleteWriter();
            _incoming.CompleteReader();
        }

        base.Dispose(disposing);
    }

    private static TimeSpan ToTimeSpan(int ms) => ms < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(ms);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
