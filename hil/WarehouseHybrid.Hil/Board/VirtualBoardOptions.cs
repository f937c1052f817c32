namespace WarehouseHybrid.Hil.Board;

/// <summary>Timing of a <see cref="VirtualBoard"/>'s outgoing frames, in world time.</summary>
public sealed record VirtualBoardOptions
{
    /// <summary>Time between sensor frames (default 20 ms = 50 Hz).</summary>
    public TimeSpan SensorPeriod { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Time between heartbeats (default 250 ms = 4 Hz, docs/serial-protocol.md section 6).</summary>
    public TimeSpan HeartbeatPeriod { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>No valid frame from the daemon for this long: the board brakes on its own (protocol: 1 s).</summary>
    public TimeSpan LinkLostAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A latched error fault is reported again this often, so a restarted daemon learns about it (protocol: 1 s).</summary>
    public TimeSpan FaultRepeatPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Lock-step hosting (fleets that pump boards and apply commands in parallel between world steps): sense, read
    /// event flags and apply commands through <see cref="World.SimWorld.SenseConcurrent"/>,
    /// <see cref="World.SimWorld.EventFlagsConcurrent"/> and <see cref="World.SimWorld.ApplyCommandConcurrent"/>
    /// instead of the members that take the world's lock (hundreds of boards on two threads contend for it).
    /// </summary>
    public bool LockStep { get; init; }

    /// <summary>Whether the board reports watchdog expiry, e-stop and bumper hits as BoardFault frames (warnings).</summary>
    public bool ReportEvents { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (SensorPeriod <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SensorPeriod), SensorPeriod, "VirtualBoardOptions.SensorPeriod must be positive");
        }

        if (HeartbeatPeriod <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatPeriod), HeartbeatPeriod, "VirtualBoardOptions.HeartbeatPeriod must be positive");
        }

        if (LinkLostAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(LinkLostAfter), LinkLostAfter, "VirtualBoardOptions.LinkLostAfter must be positive");
        }

        if (FaultRepeatPeriod <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(FaultRepeatPeriod), FaultRepeatPeriod, "VirtualBoardOptions.FaultRepeatPeriod must be positive");
        }
    }
}

/// <summary>Counters of a <see cref="VirtualBoard"/>.</summary>
public readonly record struct VirtualBoardStats
{
    /// <summary>Sensor frames written.</summary>
    public long SensorFramesSent { get; init; }

    /// <summary>Heartbeats written.</summary>
    public long HeartbeatsSent { get; init; }

    /// <summary>Fault frames written.</summary>
    public long FaultsSent { get; init; }

    /// <summary>Motor commands received and applied to the robot.</summary>
    public long CommandsApplied { get; init; }

    /// <summary>Heartbeats received from the daemon.</summary>
    public long HeartbeatsReceived { get; init; }

    /// <summary>Decoded frames of a type a board does not accept (sensor or fault frames sent to it).</summary>
    public long UnexpectedFrames { get; init; }

    /// <summary>Writes that failed because the line was closed or timed out.</summary>
    public long WriteFailures { get; init; }

    /// <summary>Bytes received from the daemon.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Times the board braked on its own because the daemon fell silent for <see cref="VirtualBoardOptions.LinkLostAfter"/>.</summary>
    public long LinkLostBrakes { get; init; }
}
