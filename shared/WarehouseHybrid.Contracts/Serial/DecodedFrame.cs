namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// One decoded frame. Only the field named by <see cref="Type"/> is filled; the others are default.
/// A plain struct so decoding allocates nothing.
/// </summary>
public struct DecodedFrame
{
    /// <summary>Which message the frame carried.</summary>
    public BoardMessageType Type;
    /// <summary>The sender's sequence number of the frame.</summary>
    public ushort Sequence;
    /// <summary>Set when <see cref="Type"/> is <see cref="BoardMessageType.SensorFrame"/>.</summary>
    public SensorFrame Sensor;
    /// <summary>Set when <see cref="Type"/> is <see cref="BoardMessageType.MotorCommand"/>.</summary>
    public MotorCommand Motor;
    /// <summary>Set when <see cref="Type"/> is <see cref="BoardMessageType.Heartbeat"/>.</summary>
    public Heartbeat Heartbeat;
    /// <summary>Set when <see cref="Type"/> is <see cref="BoardMessageType.BoardFault"/>.</summary>
    public BoardFault Fault;
}
