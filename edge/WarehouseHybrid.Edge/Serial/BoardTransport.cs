namespace WarehouseHybrid.Edge.Serial;

/// <summary>
/// Opens the byte stream to the controller board. The seam for reconnecting (a later issue re-opens the tty
/// through it) and for the demo's in-memory stream.
/// </summary>
public interface IBoardTransportFactory
{
    /// <summary>Opens the stream; throws when the device cannot be opened.</summary>
    Stream Open();

    /// <summary>Whether <see cref="Open"/> may be called again after the stream failed (a device path: yes).</summary>
    bool CanReopen => true;
}

/// <summary>A transport that hands out one stream the caller already has (the in-process demo, tests).</summary>
/// <param name="stream">The stream; the board link owns and disposes it.</param>
public sealed class ExistingStreamTransport(Stream stream) : IBoardTransportFactory
{
    private Stream? _stream = stream ?? throw new ArgumentNullException(nameof(stream));

    /// <inheritdoc />
    public Stream Open() => Interlocked.Exchange(ref _stream, null)
        ?? throw new InvalidOperationException("this transport's stream was already opened once; it cannot be reopened");

    /// <summary>A handed-over stream cannot be reopened: the link stays disconnected when it ends.</summary>
    public bool CanReopen => false;
}

/// <summary>
/// Opens a serial device node as a plain <see cref="FileStream"/> (raw mode and baud rate are set outside,
/// e.g. by stty or udev). Its blocking reads cannot be interrupted by closing: the daemon uses
/// <see cref="TtyTransport"/> instead (docs/adr/0005-serial-io.md).
/// </summary>
/// <param name="devicePath">e.g. /dev/ttyTHS1.</param>
public sealed class DeviceFileTransport(string devicePath) : IBoardTransportFactory
{
    /// <inheritdoc />
    public Stream Open() => new FileStream(devicePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
}
