using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Hil.Board;
using WarehouseHybrid.Hil.Faults;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>Sees the bytes on a board line (recording).</summary>
/// <param name="toDaemon">Direction.</param>
/// <param name="bytes">The bytes.</param>
public delegate void SerialTap(bool toDaemon, ReadOnlySpan<byte> bytes);

/// <summary>
/// The board's end of a real daemon's serial line: writes go through the board-to-daemon fault injector into the
/// board pty; a dedicated reader thread (blocking reads never run on the thread pool) reads the daemon's bytes,
/// passes them through the daemon-to-board injector and hands them to the <see cref="VirtualBoard"/>. Survives an
/// unplug: while the pty is gone writes are lost and the reader waits; after a replug it reopens the device.
/// </summary>
public sealed class BoardLine : Stream
{
    private readonly PtyPair _pair;
    private readonly Lock _gate = new();
    private readonly Thread _reader;
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _scratch = new byte[8192];
    private Stream? _tty;
    private VirtualBoard? _board;

    /// <summary>Opens the board end of <paramref name="pair"/>.</summary>
    public BoardLine(PtyPair pair, int seed)
    {
        _pair = pair;
        ToDaemon = new SerialFaultInjector(StreamSeeds.Derive(seed, 1));
        ToBoard = new SerialFaultInjector(StreamSeeds.Derive(seed, 2));
        _tty = Open();
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "hil-board-line" };
    }

    /// <summary>Faults on the bytes the board sends.</summary>
    public SerialFaultInjector ToDaemon { get; }

    /// <summary>Faults on the bytes the daemon sends.</summary>
    public SerialFaultInjector ToBoard { get; }

    /// <summary>Sees the line's traffic: what the daemon gets (after faults) and what it wrote (before faults).</summary>
    public SerialTap? Tap { get; set; }

    /// <summary>Times the device was reopened after an unplug.</summary>
    public long Reopens { get; private set; }

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Starts delivering the daemon's bytes to <paramref name="board"/>.</summary>
    public void Attach(VirtualBoard board)
    {
        _board = board;
        _reader.Start();
    }

    /// <summary>Pulls the cable: kills socat by its pid; the daemon's tty disappears.</summary>
    public async Task UnplugAsync()
    {
        Stream? old;
        lock (_gate)
        {
            old = _tty;
            _tty = null;
        }

        await _pair.UnplugAsync().ConfigureAwait(false);
        _ = Task.Run(() => old?.Dispose());
    }

    /// <summary>Plugs it back: a new socat on the same paths; the reader reopens the board end.</summary>
    public Task ReplugAsync() => _pair.ReplugAsync();

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            var n = ToDaemon.Apply(buffer, _scratch);
            if (_tty is null || n == 0)
            {
                return;
            }

            Tap?.Invoke(true, _scratch.AsSpan(0, n));

            try
            {
                _tty.Write(_scratch.AsSpan(0, n));
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or ObjectDisposedException)
            {
                // The line went away under us (unplugged): lost bytes, as on a real cable.
            }
        }
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the board reads on its own thread");

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            Stream? tty;
            lock (_gate)
            {
                tty = _tty;
                _tty = null;
            }

            tty?.Dispose();
            if (_reader.IsAlive)
            {
                _reader.Join(TimeSpan.FromSeconds(2));
            }

            _stop.Dispose();
        }

        base.Dispose(disposing);
    }

    private Stream? Open()
    {
        try
        {
            return _pair.Plugged ? TtyStream.Open(new TtyOptions(_pair.BoardPath, 115200, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50)), TimeProvider.System) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void ReadLoop()
    {
        var buffer = new byte[4096];
        var output = new byte[8192];
        while (!_stop.IsCancellationRequested)
        {
            Stream? tty;
            lock (_gate)
            {
                tty = _tty;
            }

            if (tty is null)
            {
                if (_stop.Token.WaitHandle.WaitOne(20))
                {
                    return;
                }

                var reopened = Open();
                if (reopened is not null)
                {
                    lock (_gate)
                    {
                        _tty = reopened;
                    }

                    Reopens++;
                }

                continue;
            }

            int n;
            try
            {
                n = tty.Read(buffer, 0, buffer.Length);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or TimeoutException)
            {
                n = 0;
            }

            if (n == 0)
            {
                lock (_gate)
                {
                    if (ReferenceEquals(_tty, tty))
                    {
                        _tty = null;
                    }
                }

                continue;
            }

            Tap?.Invoke(false, buffer.AsSpan(0, n));
            var m = ToBoard.Apply(buffer.AsSpan(0, n), output);
            if (m > 0)
            {
                _board?.ProcessReceived(output.AsSpan(0, m));
            }
        }
    }
}
