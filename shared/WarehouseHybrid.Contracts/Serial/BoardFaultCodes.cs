namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// Fault codes of <see cref="BoardFault.Code"/> (docs/serial-protocol.md, "Fault codes").
/// 0x0001-0x7FFF are assigned here; 0x8000-0xFFFF are board-vendor specific and must be
/// treated by the daemon as the severity says.
/// </summary>
public static class BoardFaultCodes
{
    /// <summary>Left motor over-current.</summary>
    public const ushort LeftMotorOverCurrent = 0x0001;
    /// <summary>Right motor over-current.</summary>
    public const ushort RightMotorOverCurrent = 0x0002;
    /// <summary>Left wheel encoder not counting while driven.</summary>
    public const ushort LeftEncoderFault = 0x0003;
    /// <summary>Right wheel encoder not counting while driven.</summary>
    public const ushort RightEncoderFault = 0x0004;
    /// <summary>IMU not answering or heading invalid.</summary>
    public const ushort ImuFault = 0x0010;
    /// <summary>One or more range beams not answering.</summary>
    public const ushort RangeSensorFault = 0x0011;
    /// <summary>Battery below the low threshold.</summary>
    public const ushort BatteryLow = 0x0020;
    /// <summary>Battery below the critical threshold: motors disabled.</summary>
    public const ushort BatteryCritical = 0x0021;
    /// <summary>The motor-command watchdog expired and the board braked.</summary>
    public const ushort CommandWatchdogExpired = 0x0030;
    /// <summary>The hardware emergency stop was engaged.</summary>
    public const ushort EmergencyStopEngaged = 0x0031;
    /// <summary>The bumper was pressed while moving.</summary>
    public const ushort BumperHit = 0x0032;
    /// <summary>The board rejected received frames (CRC/COBS errors above its threshold).</summary>
    public const ushort SerialLinkErrors = 0x0040;
    /// <summary>The board restarted after a brown-out or its own watchdog.</summary>
    public const ushort BoardReset = 0x0050;
    /// <summary>Board over temperature.</summary>
    public const ushort OverTemperature = 0x0060;
    /// <summary>First vendor-specific code.</summary>
    public const ushort VendorSpecificFirst = 0x8000;
}
