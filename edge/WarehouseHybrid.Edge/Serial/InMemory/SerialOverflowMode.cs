namespace WarehouseHybrid.Edge.Serial;

/// <summary>What a write does when the in-memory serial line's buffer has no room for it.</summary>
public enum SerialOverflowMode
{
    /// <summary>Wait for the reader to make room (honours the stream's WriteTimeout), like a host UART driver.</summary>
    Block = 0,

    /// <summary>
    /// Drop the whole write and count it, like a receiver overrun on a line without flow control.
    /// The sender never blocks; whole frames are lost, never half frames.
    /// </summary>
    DropWrite = 1,
}
