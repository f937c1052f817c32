namespace WarehouseHybrid.Edge.Serial;

/// <summary>
/// One direction of an in-memory serial line: a bounded byte ring with one writer end and one reader end.
/// Reads wait for data or for the writer to complete (then report end of stream); writes either wait for room
/// or drop the whole write, as chosen by <see cref="SerialOverflowMode"/>. Thread-safe.
/// </summary>
internal sealed class SerialByteQueue
{
    private readonly Lock _gate = new();
    private readonly byte[] _buffer;
    private readonly SerialOverflowMode _overflow;
    private int _head;
    private int _count;
    private bool _writerCompleted;
    private bool _readerCompleted;
    private long _droppedBytes;
    private long _droppedWrites;
    private long _totalBytes;

    // Replaced after every state change that someone waited for; waiters hold the old one and re-check.
    private TaskCompletionSource _changed = NewSignal();
    private bool _signalHandedOut;

    public SerialByteQueue(int capacity, SerialOverflowMode overflow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _buffer = new byte[capacity];
        _overflow = overflow;
    }

    public int Capacity => _buffer.Length;

    public long DroppedBytes { get { lock (_gate) { return _droppedBytes; } } }

    public long DroppedWrites { get { lock (_gate) { return _droppedWrites; } } }

    public long TotalBytesWritten { get { lock (_gate) { return _totalBytes; } } }

    public int Buffered { get { lock (_gate) { return _count; } } }

    /// <summary>Reads at least one byte, waiting up to <paramref name="timeout"/>; 0 means the writer completed.</summary>
    public int Read(Span<byte> destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                if (_readerCompleted)
                {
                    throw new ObjectDisposedException(nameof(InMemorySerialStream), "this end of the serial line is closed");
                }

                if (_count > 0)
                {
                    return TakeLocked(destination);
                }

                if (_writerCompleted)
                {
                    return 0;
                }

                signal = SignalLocked();
            }

            var remaining = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
            if (remaining == 0 || !signal.Wait(remaining, cancellationToken))
            {
                throw new TimeoutException($"no serial data within {timeout.TotalMilliseconds} ms");
            }
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            Task signal;
            lock (_gate)
            {
                if (_readerCompleted)
                {
                    throw new ObjectDisposedException(nameof(InMemorySerialStream), "this end of the serial line is closed");
                }

                if (_count > 0)
                {
                    return TakeLocked(destination.Span);
                }

                if (_writerCompleted)
                {
                    return 0;
                }

                signal = SignalLocked();
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes all bytes (waiting for room in blocking mode) or drops them whole (in drop mode).</summary>
    public void Write(ReadOnlySpan<byte> source, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!source.IsEmpty)
        {
            Task signal;
            lock (_gate)
            {
                ThrowIfCannotWriteLocked();
                if (_overflow == SerialOverflowMode.DropWrite && _buffer.Length - _count < source.Length)
                {
                    _droppedBytes += source.Length;
                    _droppedWrites++;
                    return;
                }

                var put = PutLocked(source);
                source = source[put..];
                if (source.IsEmpty)
                {
                    return;
                }

                signal = SignalLocked();
            }

            var remaining = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
            if (remaining == 0 || !signal.Wait(remaining, cancellationToken))
            {
                throw new TimeoutException($"serial line full ({_buffer.Length} bytes) for {timeout.TotalMilliseconds} ms");
            }
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        while (!source.IsEmpty)
        {
            Task signal;
            lock (_gate)
            {
                ThrowIfCannotWriteLocked();
                if (_overflow == SerialOverflowMode.DropWrite && _buffer.Length - _count < source.Length)
                {
                    _droppedBytes += source.Length;
                    _droppedWrites++;
                    return;
                }

                var put = PutLocked(source.Span);
                source = source[put..];
                if (source.IsEmpty)
                {
                    return;
                }

                signal = SignalLocked();
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The writer is done: readers drain what is buffered, then see end of stream.</summary>
    public void CompleteWriter()
    {
        lock (_gate)
        {
            _writerCompleted = true;
            PulseLocked();
        }
    }

    /// <summary>The reader is gone: further writes fail with <see cref="IOException"/>.</summary>
    public void CompleteReader()
    {
        lock (_gate)
        {
            _readerCompleted = true;
            _count = 0;
            PulseLocked();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void ThrowIfCannotWriteLocked()
    {
        if (_writerCompleted)
        {
            throw new ObjectDisposedException(nameof(InMemorySerialStream), "this end of the serial line is closed");
        }

        if (_readerCompleted)
        {
            throw new IOException("the other end of the serial line is closed");
        }
    }

    private Task SignalLocked()
    {
        _signalHandedOut = true;
        return _changed.Task;
    }

    private void PulseLocked()
    {
        if (!_signalHandedOut)
        {
            return;
        }

        var old = _changed;
        _changed = NewSignal();
        _signalHandedOut = false;
        old.TrySetResult();
    }

    private int TakeLocked(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _count);
        var first = Math.Min(n, _buffer.Length - _head);
        _buffer.AsSpan(_head, first).CopyTo(destination);
        if (n > first)
        {
            _buffer.AsSpan(0, n - first).CopyTo(destination[first..]);
        }

        _head = (_head + n) % _buffer.Length;
        _count -= n;
        PulseLocked();
        return n;
    }

    private int PutLocked(ReadOnlySpan<byte> source)
    {
        var n = Math.Min(source.Length, _buffer.Length - _count);
        if (n == 0)
        {
            return 0;
        }

        var tail = (_head + _count) % _buffer.Length;
        var first = Math.Min(n, _buffer.Length - tail);
        source[..first].CopyTo(_buffer.AsSpan(tail, first));
        if (n > first)
        {
            source[first..n].CopyTo(_buffer.AsSpan(0, n - first));
        }

        _count += n;
        _totalBytes += n;
        PulseLocked();
        return n;
    }
}
