using Microsoft.Extensions.Logging;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Sensing;

namespace WarehouseHybrid.Edge.Serial;

/// <summary>State of the serial link to the controller board.</summary>
public enum BoardLinkState : byte
{
    /// <summary>Not started.</summary>
    NotStarted = 0,
    /// <summary>Stream open, threads running.</summary>
    Connected = 1,
    /// <summary>The stream ended or failed; sensors go stale and the shield stops the robot.</summary>
    Disconnected = 2,
    /// <summary>Stopped on purpose.</summary>
    Stopped = 3,
}

/// <summary>Board link counters.</summary>
/// <param name="SensorFrames">Sensor frames stored.</param>
/// <param name="Heartbeats">Heartbeats received.</param>
/// <param name="Faults">Board fault reports received.</param>
/// <param name="UnexpectedFrames">Valid frames of a type the board should not send (motor commands).</param>
/// <param name="CommandsWritten">Motor commands written.</param>
/// <param name="CommandsSuperseded">Commands replaced by a newer one before the writer got to them.</param>
/// <param name="ReadFailures">Read errors and end-of-stream events.</param>
/// <param name="WriteFailures">Write errors.</param>
/// <param name="Decoder">The frame decoder's counters (rejected frames by reason, sequence gaps).</param>
public readonly record struct BoardLinkCounters(
    long SensorFrames, long Heartbeats, long Faults, long UnexpectedFrames, long CommandsWritten, long CommandsSuperseded,
    long ReadFailures, long WriteFailures, SerialDecoderStats Decoder);

/// <summary>
/// The serial link to the controller board. A dedicated reader thread decodes frames and stores the latest sensor
/// frame in the <see cref="SensorSnapshotStore"/>; a dedicated writer thread drains a single-slot mailbox of the
/// latest motor command, so the control loop never waits for the line. A stream that ends or throws leaves the
/// link <see cref="BoardLinkState.Disconnected"/> (reconnecting through the transport factory is a later issue).
/// </summary>
public sealed partial class BoardLink : IMotorCommandSink, IDisposable
{
    private readonly IBoardTransportFactory _transport;
    private readonly SensorSnapshotStore _sensors;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SerialFrameDecoder _decoder = new();
    private readonly Lock _mailboxGate = new();
    private readonly AutoResetEvent _commandReady = new(false);
    private readonly Lock _statsGate = new();
    private MotorCommand _pending;
    private bool _hasPending;
    private SerialDecoderStats _decoderStats;
    private Stream? _stream;
    private Thread? _reader;
    private Thread? _writer;
    private volatile bool _stopping;
    private int _state;
    private long _sensorFrames;
    private long _heartbeats;
    private long _faults;
    private long _unexpected;
    private long _written;
    private long _superseded;
    private long _readFailures;
    private long _writeFailures;
    private BoardFault _lastFault;

    /// <summary>Creates a link; nothing is opened until <see cref="Start"/>.</summary>
    public BoardLink(IBoardTransportFactory transport, SensorSnapshotStore sensors, TimeProvider time, ILogger logger)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _sensors = sensors ?? throw new ArgumentNullException(nameof(sensors));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Raised (on the reader or writer thread) when the link state changes.</summary>
    public event Action<BoardLinkState>? StateChanged;

    /// <summary>Current state.</summary>
    public BoardLinkState State => (BoardLinkState)Volatile.Read(ref _state);

    /// <summary>The latest board fault report (default when none).</summary>
    public BoardFault LastFault
    {
        get
        {
            lock (_statsGate)
            {
                return _lastFault;
            }
        }
    }

    /// <summary>Counters.</summary>
    public BoardLinkCounters Counters
    {
        get
        {
            SerialDecoderStats decoder;
            lock (_statsGate)
            {
                decoder = _decoderStats;
            }

            return new BoardLinkCounters(
                Interlocked.Read(ref _sensorFrames), Interlocked.Read(ref _heartbeats), Interlocked.Read(ref _faults),
                Interlocked.Read(ref _unexpected), Interlocked.Read(ref _written), Interlocked.Read(ref _superseded),
                Interlocked.Read(ref _readFailures), Interlocked.Read(ref _writeFailures), decoder);
        }
    }

    /// <summary>Opens the stream and starts the reader and writer threads.</summary>
    public void Start()
    {
        if (_stream is not null)
        {
            throw new InvalidOperationException("the board link is already started");
        }

        _stream = _transport.Open();
        _stopping = false;
        SetState(BoardLinkState.Connected);
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "edge-serial-read" };
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "edge-serial-write" };
        _reader.Start();
        _writer.Start();
    }

    /// <inheritdoc />
    public void Submit(in MotorCommand command)
    {
        lock (_mailboxGate)
        {
            if (_hasPending)
            {
                _superseded++;
            }

            _pending = command;
            _hasPending = true;
        }

        _commandReady.Set();
    }

    /// <summary>
    /// Writes any pending command (the caller's final brake), then closes the stream and joins the threads.
    /// False when a thread did not end within <paramref name="timeout"/> (a hung device write).
    /// </summary>
    public bool Stop(TimeSpan timeout)
    {
        if (_stream is null)
        {
            return true;
        }

        var deadline = _time.GetTimestamp();
        _stopping = true;
        _commandReady.Set();
        var writerDone = _writer!.Join(timeout);
        SetState(BoardLinkState.Stopped);

        // Closing the stream unblocks the reader; a hung device close must not hang shutdown.
        var stream = _stream;
        var close = Task.Run(stream.Dispose);
        var remaining = timeout - _time.GetElapsedTime(deadline);
        var closed = close.Wait(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        remaining = timeout - _time.GetElapsedTime(deadline);
        var readerDone = _reader!.Join(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        return writerDone && closed && readerDone;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_stream is not null && State != BoardLinkState.Stopped)
        {
            Stop(TimeSpan.FromSeconds(1));
        }

        _commandReady.Dispose();
    }

    private void ReadLoop()
    {
        var buffer = new byte[4096];
        var stream = _stream!;
        try
        {
            while (!_stopping)
            {
                var n = stream.Read(buffer, 0, buffer.Length);
                if (n == 0)
                {
                    if (!_stopping)
                    {
                        Interlocked.Increment(ref _readFailures);
                        LogStreamEnded(_logger);
                        SetState(BoardLinkState.Disconnected);
                    }

                    return;
                }

                var now = _time.GetTimestamp();
                ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
                while (_decoder.TryDecode(ref input, out var frame))
                {
                    Handle(frame, now);
                }

                var stats = _decoder.Stats;
                lock (_statsGate)
                {
                    if (stats.FramesRejected != _decoderStats.FramesRejected)
                    {
                        LogFramesRejected(_logger, stats.FramesRejected - _decoderStats.FramesRejected, _decoder.LastError, _decoder.LastErrorOffset, _decoder.LastErrorDetail ?? string.Empty);
                    }

                    _decoderStats = stats;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or UnauthorizedAccessException)
        {
            if (!_stopping)
            {
                Interlocked.Increment(ref _readFailures);
                LogReadFailed(_logger, ex);
                SetState(BoardLinkState.Disconnected);
            }
        }
    }

    private void Handle(in DecodedFrame frame, long now)
    {
        switch (frame.Type)
        {
            case BoardMessageType.SensorFrame:
                _sensors.Publish(frame.Sensor, now);
                Interlocked.Increment(ref _sensorFrames);
                break;
            case BoardMessageType.Heartbeat:
                Interlocked.Increment(ref _heartbeats);
                break;
            case BoardMessageType.BoardFault:
                Interlocked.Increment(ref _faults);
                lock (_statsGate)
                {
                    _lastFault = frame.Fault;
                }

                LogBoardFault(_logger, frame.Fault.Code, frame.Fault.Severity, frame.Fault.BoardTimeMs);
                break;
            default:
                Interlocked.Increment(ref _unexpected);
                break;
        }
    }

    private void WriteLoop()
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        ushort sequence = 0;
        var stream = _stream!;
        while (true)
        {
            _commandReady.WaitOne();
            MotorCommand command;
            bool has;
            lock (_mailboxGate)
            {
                command = _pending;
                has = _hasPending;
                _hasPending = false;
            }

            if (has)
            {
                try
                {
                    var n = SerialFrameEncoder.Encode(command, sequence++, buffer);
                    stream.Write(buffer, 0, n);
                    stream.Flush();
                    Interlocked.Increment(ref _written);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException)
                {
                    Interlocked.Increment(ref _writeFailures);
                    if (!_stopping)
                    {
                        LogWriteFailed(_logger, ex);
                        SetState(BoardLinkState.Disconnected);
                    }

                    return;
                }
            }

            if (_stopping)
            {
                return;
            }
        }
    }

    private void SetState(BoardLinkState state)
    {
        var old = (BoardLinkState)Interlocked.Exchange(ref _state, (int)state);
        if (old != state && !(old == BoardLinkState.Stopped && state == BoardLinkState.Disconnected))
        {
            LogState(_logger, old, state);
            StateChanged?.Invoke(state);
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Board link {From} -> {To}")]
    private static partial void LogState(ILogger logger, BoardLinkState from, BoardLinkState to);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Board stream ended")]
    private static partial void LogStreamEnded(ILogger logger);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Board stream read failed")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Board stream write failed")]
    private static partial void LogWriteFailed(ILogger logger, Exception ex);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "{Count} serial frame(s) rejected, last {Error} at byte {Offset}: {Detail}")]
    private static partial void LogFramesRejected(ILogger logger, long count, FrameError error, long offset, string detail);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Board fault {Code} severity {Severity} at board time {BoardTimeMs} ms")]
    private static partial void LogBoardFault(ILogger logger, ushort code, byte severity, uint boardTimeMs);
}
