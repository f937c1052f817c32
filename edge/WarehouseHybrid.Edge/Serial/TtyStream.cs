using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace WarehouseHybrid.Edge.Serial;

/// <summary>Settings of a raw tty.</summary>
/// <param name="DevicePath">The device node or symlink, e.g. /dev/ttyTHS1, /dev/ttyUSB0, a socat pty link.</param>
/// <param name="BaudRate">Line speed (ignored by pseudo-terminals).</param>
/// <param name="WriteTimeout">Longest a write may wait for room in the output queue; past it the write fails (never hangs).</param>
/// <param name="PollInterval">How often a blocked read re-checks for disposal (bounds how long closing takes).</param>
public sealed record TtyOptions(string DevicePath, int BaudRate, TimeSpan WriteTimeout, TimeSpan PollInterval)
{
    /// <summary>Defaults: 115200 baud, 100 ms write timeout, 50 ms poll.</summary>
    public TtyOptions(string devicePath)
        : this(devicePath, 115200, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50))
    {
    }
}

/// <summary>
/// A serial device opened as a raw, non-blocking file descriptor with termios set through libc (cfmakeraw,
/// speed, VMIN=1/VTIME=0), read through poll(2). Chosen over System.IO.Ports (docs/adr/0005-serial-io.md): no
/// DTR/RTS ioctls (they fail on a pty), no 1 ms poll thread, writes bounded by <see cref="TtyOptions.WriteTimeout"/>,
/// a hang-up (unplug, socat gone) surfaces as an <see cref="IOException"/> at once, and <see cref="Stream.Dispose()"/>
/// never blocks: a read in progress notices within <see cref="TtyOptions.PollInterval"/> and the descriptor is
/// closed when the last operation leaves (SafeHandle reference count).
/// </summary>
public sealed class TtyStream : Stream
{
    private readonly SafeFileHandle _handle;
    private readonly TtyOptions _options;
    private readonly TimeProvider _time;
    private volatile bool _disposed;

    private TtyStream(SafeFileHandle handle, TtyOptions options, TimeProvider time)
    {
        _handle = handle;
        _options = options;
        _time = time;
    }

    /// <summary>The device path.</summary>
    public string DevicePath => _options.DevicePath;

    /// <summary>Opens the device and puts it in raw mode; throws an <see cref="IOException"/> naming the device and the OS error.</summary>
    public static TtyStream Open(TtyOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.WriteTimeout <= TimeSpan.Zero || options.PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "WriteTimeout and PollInterval must be positive");
        }

        var fd = TtyNative.Open(options.DevicePath, TtyNative.ORdWr | TtyNative.ONoCtty | TtyNative.ONonBlock | TtyNative.OCloExec);
        if (fd < 0)
        {
            throw TtyNative.Error("open", options.DevicePath);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            TtyNative.MakeRaw(fd, options.BaudRate, options.DevicePath);
            return new TtyStream(handle, options, time);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override bool CanRead => !_disposed;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => !_disposed;

    /// <inheritdoc />
    public override bool CanTimeout => true;

    /// <inheritdoc />
    public override int WriteTimeout
    {
        get => (int)_options.WriteTimeout.TotalMilliseconds;
        set => throw new NotSupportedException("set the write timeout through TtyOptions");
    }

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Blocks until bytes arrive; 0 once disposed; <see cref="IOException"/> when the device hangs up or fails.</summary>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var addRef = false;
        try
        {
            _handle.DangerousAddRef(ref addRef);
            var fd = (int)_handle.DangerousGetHandle();
            var pollMs = (int)Math.Max(1, _options.PollInterval.TotalMilliseconds);
            while (!_disposed)
            {
                var n = TtyNative.Read(fd, ref MemoryMarshal.GetReference(buffer), buffer.Length);
                if (n > 0)
                {
                    return (int)n;
                }

                if (n == 0)
                {
                    throw new IOException($"{DevicePath}: end of file (the device hung up)");
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno is not (TtyNative.EAgain or TtyNative.EIntr))
                {
                    throw new IOException($"read on {DevicePath} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
                }

                var pfd = new TtyNative.PollFd { Fd = fd, Events = TtyNative.PollIn };
                var ready = TtyNative.Poll(ref pfd, 1, pollMs);
                if (ready < 0 && Marshal.GetLastPInvokeError() != TtyNative.EIntr)
                {
                    throw TtyNative.Error("poll", DevicePath);
                }

                if (ready > 0 && (pfd.Revents & TtyNative.PollIn) == 0 && (pfd.Revents & (TtyNative.PollHup | TtyNative.PollErr | TtyNative.PollNval)) != 0)
                {
                    throw new IOException($"{DevicePath} hung up (poll revents 0x{pfd.Revents:x})");
                }
            }

            return 0;
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        finally
        {
            if (addRef)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Writes everything or throws: <see cref="TimeoutException"/> when the output queue stays full past the write timeout.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var addRef = false;
        try
        {
            _handle.DangerousAddRef(ref addRef);
            var fd = (int)_handle.DangerousGetHandle();
            var started = _time.GetTimestamp();
            while (!buffer.IsEmpty)
            {
                var n = TtyNative.Write(fd, ref MemoryMarshal.GetReference(buffer), buffer.Length);
                if (n > 0)
                {
                    buffer = buffer[(int)n..];
                    continue;
                }

                var errno = n < 0 ? Marshal.GetLastPInvokeError() : TtyNative.EAgain;
                if (errno is not (TtyNative.EAgain or TtyNative.EIntr))
                {
                    throw new IOException($"write on {DevicePath} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
                }

                var left = _options.WriteTimeout - _time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero || _disposed)
                {
                    throw new TimeoutException($"write on {DevicePath}: {buffer.Length} byte(s) still queued after {_options.WriteTimeout.TotalMilliseconds} ms (nobody reading the line?)");
                }

                var pfd = new TtyNative.PollFd { Fd = fd, Events = TtyNative.PollOut };
                var ready = TtyNative.Poll(ref pfd, 1, (int)Math.Ceiling(Math.Min(left.TotalMilliseconds, _options.PollInterval.TotalMilliseconds)));
                if (ready > 0 && (pfd.Revents & (TtyNative.PollHup | TtyNative.PollErr | TtyNative.PollNval)) != 0)
                {
                    throw new IOException($"{DevicePath} hung up during a write (poll revents 0x{pfd.Revents:x})");
                }
            }
        }
        finally
        {
            if (addRef)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>Nothing is buffered in user space.</summary>
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;

            // Closes the descriptor once no read or write holds a reference (at most one poll interval).
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Opens a serial device as a <see cref="TtyStream"/>; reopens the same path after an unplug (a new device node, a restarted socat).</summary>
/// <param name="options">Device and line settings.</param>
/// <param name="time">Clock for write deadlines.</param>
public sealed class TtyTransport(TtyOptions options, TimeProvider time) : IBoardTransportFactory
{
    /// <summary>The settings.</summary>
    public TtyOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <inheritdoc />
    public Stream Open() => TtyStream.Open(Options, time);

    /// <inheritdoc />
    public override string ToString() => Options.DevicePath;
}
