namespace WarehouseHybrid.Hil.Board;

/// <summary>
/// The board end of a lock-step serial line: what the board writes is collected in memory until the fleet takes
/// it (<see cref="Take"/>) and hands it to the edge on the same thread. Reading is not supported: the fleet feeds
/// the board with <see cref="VirtualBoard.ProcessReceived"/>.
/// </summary>
internal sealed class CaptureStream : Stream
{
    private byte[] _buffer = new byte[512];
    private int _length;

    public int Length32 => _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <summary>The bytes written since the last call; valid until the next write.</summary>
    public ReadOnlySpan<byte> Take()
    {
        var span = _buffer.AsSpan(0, _length);
        _length = 0;
        return span;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_length + buffer.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + buffer.Length));
        }

        buffer.CopyTo(_buffer.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the capture end is write-only");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
