using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Board;

/// <summary>
/// One robot's controller board, simulated: it speaks the real serial protocol (COBS + CRC frames from
/// <see cref="SerialFrameEncoder"/>/<see cref="SerialFrameDecoder"/>) on a <see cref="Stream"/> and reads and
/// moves its robot in a <see cref="SimWorld"/>.
/// <para>
/// Incoming: motor commands are applied to the robot as they arrive (the world's command watchdog brakes the
/// robot when they stop); a command with <see cref="MotorFlags.ClearFault"/> clears a latched fault once the
/// robot is at rest. Read either by <see cref="StartReceiving"/> (a background loop) or by handing bytes to
/// <see cref="ProcessReceived"/> (deterministic tests), not both.
/// </para>
/// <para>
/// Outgoing: sensor frames every <see cref="VirtualBoardOptions.SensorPeriod"/> and heartbeats every
/// <see cref="VirtualBoardOptions.HeartbeatPeriod"/> of world time, sent when <see cref="PumpSensors"/> is called
/// (by <see cref="WorldDriver"/> after each world step, or by a test). The board's clock is the world's clock.
/// </para>
/// </summary>
public sealed class VirtualBoard : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly SimWorld _world;
    private readonly VirtualBoardOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _sendGate = new();
    private readonly Lock _receiveGate = new();
    private readonly byte[] _sendBuffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
    private readonly SerialFrameDecoder _decoder = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _receiveLoop = Task.CompletedTask;
    private ushort _sequence;
    private TimeSpan _nextSensor;
    private TimeSpan _nextHeartbeat;
    private bool _pumped;
    private bool _faultLatched;
    private bool _linkDown;
    private bool _wasWatchdogExpired;
    private bool _wasBumper;
    private MotorCommand? _lastCommand;
    private FrameError _lastReportedError;

    private long _sensorFramesSent;
    private long _heartbeatsSent;
    private long _faultsSent;
    private long _commandsApplied;
    private long _heartbeatsReceived;
    private long _unexpectedFrames;
    private long _writeFailures;
    private long _bytesReceived;
    private long _linkLostBrakes;
    private TimeSpan _lastDaemonFrame;
    private bool _heardDaemon;
    private bool _linkLostBraking;
    private TimeSpan _nextFaultRepeat;
    private ushort _latchedCode;
    private volatile bool _silent;

    /// <summary>Creates the board of robot <paramref name="robotIndex"/> on the board end of a serial line.</summary>
    public VirtualBoard(Stream boardEnd, SimWorld world, int robotIndex, VirtualBoardOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(boardEnd);
        ArgumentNullException.ThrowIfNull(world);
        if ((uint)robotIndex >= (uint)world.RobotCount)
        {
            throw new ArgumentOutOfRangeException(nameof(robotIndex), robotIndex, $"no robot {robotIndex}; the world has {world.RobotCount}");
        }

        _options = options ?? new VirtualBoardOptions();
        _options.Validate();
        _stream = boardEnd;
        _world = world;
        _logger = logger ?? NullLogger.Instance;
        RobotIndex = robotIndex;
        RobotId = world.GetRobot(robotIndex).Id;
    }

    /// <summary>The robot this board drives.</summary>
    public int RobotIndex { get; }

    /// <summary>The robot's name.</summary>
    public string RobotId { get; }

    /// <summary>Ok, or Faulted while a severity-2 fault is latched.</summary>
    public BoardStatus Status
    {
        get { lock (_sendGate) { return _faultLatched ? BoardStatus.Faulted : BoardStatus.Ok; } }
    }

    /// <summary>Whether the serial line has closed or failed (the board no longer sends).</summary>
    public bool LinkDown
    {
        get { lock (_sendGate) { return _linkDown; } }
    }

    /// <summary>The most recent motor command received, if any.</summary>
    public MotorCommand? LastCommand
    {
        get { lock (_receiveGate) { return _lastCommand; } }
    }

    /// <summary>The background receive loop (completed when it has not been started or has ended).</summary>
    public Task Receiving => _receiveLoop;

    /// <summary>Counters.</summary>
    public VirtualBoardStats Stats => new()
    {
        SensorFramesSent = Interlocked.Read(ref _sensorFramesSent),
        HeartbeatsSent = Interlocked.Read(ref _heartbeatsSent),
        FaultsSent = Interlocked.Read(ref _faultsSent),
        CommandsApplied = Interlocked.Read(ref _commandsApplied),
        HeartbeatsReceived = Interlocked.Read(ref _heartbeatsReceived),
        UnexpectedFrames = Interlocked.Read(ref _unexpectedFrames),
        WriteFailures = Interlocked.Read(ref _writeFailures),
        BytesReceived = Interlocked.Read(ref _bytesReceived),
        LinkLostBrakes = Interlocked.Read(ref _linkLostBrakes),
    };

    /// <summary>
    /// While true the board sends nothing at all (a hung board firmware: the "silent board" fault); it still
    /// receives and applies commands.
    /// </summary>
    public bool Silent
    {
        get => _silent;
        set => _silent = value;
    }

    /// <summary>The decoder's counters for bytes from the daemon (rejected frames by reason, sequence gaps).</summary>
    public SerialDecoderStats DecoderStats
    {
        get { lock (_receiveGate) { return _decoder.Stats; } }
    }

    /// <summary>Starts reading commands from the stream in the background until it ends or the board is disposed.</summary>
    public void StartReceiving()
    {
        if (!_receiveLoop.IsCompleted)
        {
            throw new InvalidOperationException($"board {RobotId} is already receiving");
        }

        _receiveLoop = Task.Run(() => ReceiveLoopAsync(_stop.Token));
    }

    /// <summary>Decodes bytes from the daemon and applies every complete frame; returns the frames decoded.</summary>
    public int ProcessReceived(ReadOnlySpan<byte> bytes)
    {
        var frames = 0;
        lock (_receiveGate)
        {
            Interlocked.Add(ref _bytesReceived, bytes.Length);
            while (!bytes.IsEmpty)
            {
                var rejectedBefore = _decoder.Stats.FramesRejected;
                var got = _decoder.TryDecode(ref bytes, out var frame);
                if (_decoder.Stats.FramesRejected != rejectedBefore && _decoder.LastError != _lastReportedError)
                {
                    // Logged once per change of reason so a noisy line does not flood the log.
                    _lastReportedError = _decoder.LastError;
                    BoardLog.FrameRejected(_logger, RobotId, _decoder.LastError, _decoder.LastErrorDetail);
                }

                if (!got)
                {
                    break;
                }

                frames++;
                Apply(frame);
            }
        }

        return frames;
    }

    /// <summary>
    /// Sends whatever is due at world time <paramref name="now"/>: a sensor frame every sensor period, a heartbeat
    /// every heartbeat period, and event faults (watchdog expiry, bumper) when they begin. Returns frames sent.
    /// </summary>
    public int PumpSensors(TimeSpan now)
    {
        var sent = 0;
        if (!_pumped)
        {
            // The cadence starts at the first pump, so frames go out at first, first + period, ...
            _pumped = true;
            _nextSensor = now;
            _nextHeartbeat = now;
            _lastDaemonFrame = now;
        }

        CheckDaemonSilence(now);
        if (_silent)
        {
            return 0;
        }

        if (_faultLatched && now >= _nextFaultRepeat)
        {
            sent += ReportFault(_latchedCode, 2) ? 1 : 0;
        }

        if (_options.ReportEvents)
        {
            var state = _options.LockStep ? _world.EventFlagsConcurrent(RobotIndex) : _world.EventFlags(RobotIndex);
            if (state.WatchdogExpired && !_wasWatchdogExpired)
            {
                sent += ReportFault(BoardFaultCodes.CommandWatchdogExpired, 1) ? 1 : 0;
            }

            if (state.Bumper && !_wasBumper)
            {
                sent += ReportFault(BoardFaultCodes.BumperHit, 1) ? 1 : 0;
            }

            _wasWatchdogExpired = state.WatchdogExpired;
            _wasBumper = state.Bumper;
        }

        if (now >= _nextSensor)
        {
            sent += SendSensorFrame() ? 1 : 0;
            _nextSensor += _options.SensorPeriod;
            if (_nextSensor <= now)
            {
                _nextSensor = now + _options.SensorPeriod; // fell behind: resume the cadence from now
            }
        }

        if (now >= _nextHeartbeat)
        {
            sent += SendHeartbeat() ? 1 : 0;
            _nextHeartbeat += _options.HeartbeatPeriod;
            if (_nextHeartbeat <= now)
            {
                _nextHeartbeat = now + _options.HeartbeatPeriod;
            }
        }

        return sent;
    }

    /// <summary>Sends one sensor frame with the robot's current readings now; false when the line is down.</summary>
    public bool SendSensorFrame()
    {
        var frame = _options.LockStep ? _world.SenseConcurrent(RobotIndex) : _world.Sense(RobotIndex);
        lock (_sendGate)
        {
            frame.Status = _faultLatched ? BoardStatus.Faulted : BoardStatus.Ok;
            if (!Send(SerialFrameEncoder.Encode(frame, _sequence, _sendBuffer)))
            {
                return false;
            }
        }

        Interlocked.Increment(ref _sensorFramesSent);
        return true;
    }

    /// <summary>Sends one heartbeat now; false when the line is down.</summary>
    public bool SendHeartbeat()
    {
        var uptime = unchecked((uint)(long)_world.Now.TotalMilliseconds);
        lock (_sendGate)
        {
            var beat = new Heartbeat { UptimeMs = uptime, Status = _faultLatched ? BoardStatus.Faulted : BoardStatus.Ok };
            if (!Send(SerialFrameEncoder.Encode(beat, _sequence, _sendBuffer)))
            {
                return false;
            }
        }

        Interlocked.Increment(ref _heartbeatsSent);
        return true;
    }

    /// <summary>
    /// Reports a fault to the daemon. Severity 2 (error) latches the fault: the motors brake and stay disabled
    /// until the daemon sends <see cref="MotorFlags.ClearFault"/> with the robot at rest.
    /// </summary>
    public bool ReportFault(ushort code, byte severity)
    {
        if (severity > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(severity), severity, "fault severity must be 0 (info), 1 (warning) or 2 (error)");
        }

        BoardLog.FaultReported(_logger, RobotId, code, severity);
        var now = unchecked((uint)(long)_world.Now.TotalMilliseconds);
        lock (_sendGate)
        {
            if (severity == 2)
            {
                _faultLatched = true;
                _latchedCode = code;
                _nextFaultRepeat = _world.Now + _options.FaultRepeatPeriod;
                _world.SetMotorsDisabled(RobotIndex, true);
            }

            var fault = new BoardFault { Code = code, Severity = severity, BoardTimeMs = now };
            if (!Send(SerialFrameEncoder.Encode(fault, _sequence, _sendBuffer)))
            {
                return false;
            }
        }

        Interlocked.Increment(ref _faultsSent);
        return true;
    }

    /// <summary>Presses or releases the robot's hardware emergency stop (reported as a warning when pressed).</summary>
    public void SetEmergencyStop(bool engaged)
    {
        _world.SetEmergencyStop(RobotIndex, engaged);
        if (engaged && _options.ReportEvents)
        {
            ReportFault(BoardFaultCodes.EmergencyStopEngaged, 1);
        }
    }

    /// <summary>Stops the receive loop. The stream belongs to the caller and is not disposed.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _receiveLoop;
        }
        catch (OperationCanceledException)
        {
            // expected on stop
        }

        _stop.Dispose();
    }

    // Protocol section 6: no valid frame from the daemon for LinkLostAfter -> brake, independent of the watchdog.
    private void CheckDaemonSilence(TimeSpan now)
    {
        TimeSpan last;
        bool heard;
        lock (_receiveGate)
        {
            last = _lastDaemonFrame;
            heard = _heardDaemon;
        }

        // Before the first valid frame the motors are braked anyway (no command yet).
        if (!heard || now - last < _options.LinkLostAfter)
        {
            _linkLostBraking = false;
            return;
        }

        if (!_linkLostBraking)
        {
            _linkLostBraking = true;
            Interlocked.Increment(ref _linkLostBrakes);
            _world.ApplyCommand(RobotIndex, new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = 0 });
        }
    }

    private void Apply(in DecodedFrame frame)
    {
        _lastDaemonFrame = _world.Now;
        _heardDaemon = true;
        switch (frame.Type)
        {
            case BoardMessageType.MotorCommand:
                _lastCommand = frame.Motor;
                if ((frame.Motor.Flags & MotorFlags.ClearFault) != 0)
                {
                    TryClearFault();
                }

                if (_options.LockStep)
                {
                    _world.ApplyCommandConcurrent(RobotIndex, frame.Motor);
                }
                else
                {
                    _world.ApplyCommand(RobotIndex, frame.Motor);
                }

                Interlocked.Increment(ref _commandsApplied);
                break;
            case BoardMessageType.Heartbeat:
                Interlocked.Increment(ref _heartbeatsReceived);
                break;
            default:
                Interlocked.Increment(ref _unexpectedFrames);
                break;
        }
    }

    private void TryClearFault()
    {
        lock (_sendGate)
        {
            if (!_faultLatched || !_world.GetRobot(RobotIndex).IsStopped)
            {
                return;
            }

            _faultLatched = false;
            _world.SetMotorsDisabled(RobotIndex, false);
        }

        BoardLog.FaultCleared(_logger, RobotId);
    }

    // Called under _sendGate with the encoded length; one write per frame so a dropping line loses whole frames.
    private bool Send(int length)
    {
        if (_linkDown)
        {
            return false;
        }

        try
        {
            _stream.Write(_sendBuffer.AsSpan(0, length));
            _sequence++;
            return true;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or TimeoutException or InvalidOperationException)
        {
            _linkDown = true;
            Interlocked.Increment(ref _writeFailures);
            BoardLog.WriteFailed(_logger, RobotId, ex.Message);
            return false;
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(buffer, cancellationToken);
                if (n == 0)
                {
                    BoardLog.LineClosed(_logger, RobotId);
                    break;
                }

                ProcessReceived(buffer.AsSpan(0, n));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            BoardLog.LineClosed(_logger, RobotId);
        }
        catch (Exception ex)
        {
            BoardLog.ReceiveFailed(_logger, RobotId, ex);
            throw;
        }
    }
}
