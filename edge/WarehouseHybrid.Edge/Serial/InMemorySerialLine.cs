namespace WarehouseHybrid.Edge.Serial;

/// <summary>
/// An in-memory serial line: two connected streams, what one end writes the other reads. Used by the
/// in-process demo (daemon on one end, virtual board on the other) and by tests.
/// </summary>
public sealed class InMemorySerialLine
{
    /// <summary>Creates a line with a bounded buffer per direction (writers block when it is full, like a UART FIFO).</summary>
    public InMemorySerialLine(int capacityPerDirection = 64 * 1024)
    {
        var toBoard = new ByteQueue(capacityPerDirection);
        var toDaemon = new ByteQueue(capacityPerDirection);
        DaemonEnd = new End(toDaemon, toBoard);
        BoardEnd = new End(toBoard, toDaemon);
    }

    /// <summary>The daemon's end (reads what the board writes).</summary>
    public Stream DaemonEnd { get; }

    /// <summary>The board's end.</summary>
    public Stream BoardEnd { get; }

    private sealed class ByteQueue(int capacity)
    {
        private readonly byte[] _buffer = new byte[capacity];
        private readonly object _gate = new(); // Monitor.Wait/Pulse need a plain object
        private int _head;
        private int _count;
        private bool _closed;

        public int Read(Span<byte> destination)
        {
            lock (_gate)
            {
                while (_count == 0 && !_closed)
                {
                    Monitor.Wait(_gate);
                }

                if (_count == 0)
                {
                    return 0;
                }

                var n = Math.Min(destination.Length, _count);
                for (var i = 0; i < n; i++)
                {
                    destination[i] = _buffer[(_head + i) % _buffer.Length];
                }

                _head = (_head + n) % _buffer.Length;
                _count -= n;
                Monitor.PulseAll(_gate);
                return n;
            }
        }

        public void Write(ReadOnlySpan<byte> source)
        {
            lock (_gate)
            {
                var offset = 0;
                while (offset < source.Length)
                {
                    while (_count == _buffer.Length && !_closed)
                    {
                        Monitor.Wait(_gate);
                    }

                    if (_closed)
                    {
                        throw new IOException("the other end of the in-memory serial line is closed");
                    }

                    while (offset < source.Length && _count < _buffer.Length)
                    {
                        _buffer[(_head + _count) % _buffer.Length] = source[offset++];
                        _count++;
                    }

                    Monitor.PulseAll(_gate);
                }
            }
        }

        public void Close()
        {
            lock (_gate)
            {
                _closed = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private sealed class End(ByteQueue incoming, ByteQueue outgoing) : Stream
    {
        private bool _disposed;

        public override bool CanRead => !_disposed;

        public override bool CanSeek => false;

        public override bool CanWrite => !_disposed;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return buffer.IsEmpty ? 0 : incoming.Read(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            outgoing.Write(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (!_disposed)
            {
                _disposed = true;

                // Closing one end ends both directions, like unplugging the cable.
                incoming.Close();
                outgoing.Close();
            }

            base.Dispose(disposing);
        }
    }
}
