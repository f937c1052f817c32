namespace WarehouseHybrid.Edge.Serial;

/// <summary>
/// Options of an in-memory serial line. The defaults model a board that never blocks (its frames are
/// dropped whole when the daemon stops reading) and a daemon whose writes wait for the board to read.
/// </summary>
public sealed record InMemorySerialOptions
{
    /// <summary>Bytes buffered per direction before the overflow rule applies (default 64 KiB).</summary>
    public int CapacityBytes { get; init; } = 64 * 1024;

    /// <summary>What the board end's writes do on a full line (default: drop the write).</summary>
    public SerialOverflowMode BoardToDaemonOverflow { get; init; } = SerialOverflowMode.DropWrite;

    /// <summary>What the daemon end's writes do on a full line (default: wait for room).</summary>
    public SerialOverflowMode DaemonToBoardOverflow { get; init; } = SerialOverflowMode.Block;
}

/// <summary>
/// Two connected <see cref="Stream"/>s standing in for a serial cable between a controller board and the edge
/// daemon: what one end writes the other reads, in order. Used by the demo and by tests instead of a
/// pseudo-terminal pair.
/// </summary>
public sealed class InMemorySerialPair : IDisposable
{
    private InMemorySerialPair(InMemorySerialStream boardEnd, InMemorySerialStream daemonEnd)
    {
        BoardEnd = boardEnd;
        DaemonEnd = daemonEnd;
    }

    /// <summary>The end the virtual board reads commands from and writes sensor frames to.</summary>
    public InMemorySerialStream BoardEnd { get; }

    /// <summary>The end the edge daemon opens instead of a serial port.</summary>
    public InMemorySerialStream DaemonEnd { get; }

    /// <summary>Creates a connected pair with default options.</summary>
    public static InMemorySerialPair Create() => Create(new InMemorySerialOptions());

    /// <summary>Creates a connected pair whose directions each buffer <paramref name="capacityBytes"/> bytes.</summary>
    public static InMemorySerialPair Create(int capacityBytes) => Create(new InMemorySerialOptions { CapacityBytes = capacityBytes });

    /// <summary>Creates a connected pair.</summary>
    public static InMemorySerialPair Create(InMemorySerialOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.CapacityBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.CapacityBytes, "InMemorySerialOptions.CapacityBytes must be at least 1");
        }

        var toDaemon = new SerialByteQueue(options.CapacityBytes, options.BoardToDaemonOverflow);
        var toBoard = new SerialByteQueue(options.CapacityBytes, options.DaemonToBoardOverflow);
        var board = new InMemorySerialStream("board", incoming: toBoard, outgoing: toDaemon);
        var daemon = new InMemorySerialStream("daemon", incoming: toDaemon, outgoing: toBoard);
        return new InMemorySerialPair(board, daemon);
    }

    /// <summary>Splits into (board end, daemon end).</summary>
    public void Deconstruct(out InMemorySerialStream boardEnd, out InMemorySerialStream daemonEnd)
    {
        boardEnd = BoardEnd;
        daemonEnd = DaemonEnd;
    }

    /// <summary>Closes both ends.</summary>
    public void Dispose()
    {
        BoardEnd.Dispose();
        DaemonEnd.Dispose();
    }
}
