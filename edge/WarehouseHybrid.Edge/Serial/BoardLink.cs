using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
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
/// <param name="WriteFailures">Write errors (including bounded write timeouts).</param>
/// <param name="Decoder">The frame decoder's counters (rejected frames by reason, sequence gaps).</param>
public readonly record struct BoardLinkCounters(
    long SensorFrames, long Heartbeats, long Faults, long UnexpectedFrames, long CommandsWritten, long CommandsSuperseded,
    long ReadFailures, long WriteFailures, SerialDecoderStats Decoder)
{
    /// <summary>Sessions opened after the first (the device came back after an unplug).</summary>
    public long Reconnects { get; init; }

    /// <summary>Failed attempts to open the device.</summary>
    public long OpenFailures { get; init; }

    /// <summary>Times the board fell silent (no sensor frame for <see cref="BoardLinkSettings.SilentAfter"/>).</summary>
    public long SilentEpisodes { get; init; }

    /// <summary>Commands dropped because no session was open (the board's own watchdog stops the motors).</summary>
    public long CommandsDropped { get; init; }

    /// <summary>Closes that did not finish within <see cref="BoardLinkSettings.CloseTimeout"/> (abandoned on their task).</summary>
    public long CloseTimeouts { get; init; }

    /// <summary>Brakes written at once by the serial reader (<see cref="IUrgentBrake"/>).</summary>
    public long UrgentBrakes { get; init; }

    /// <summary>Drive commands turned into brakes because they were decided before the frame of an urgent brake.</summary>
    public long CommandsLatched { get; init; }
}

/// <summary>Sees every sensor frame on the serial reader thread, right after it is stored (must not block or allocate).</summary>
public interface ISensorFrameWatcher
{
    /// <summary>A frame arrived and is in the snapshot as frame number <paramref name="frameCount"/>.</summary>
    void OnSensorFrame(in SensorFrame frame, ulong frameCount);
}

/// <summary>How the board link reconnects and when it calls the board silent.</summary>
/// <param name="ReconnectDelay">First delay before reopening after a failure (exponential backoff with jitter after that, Polly).</param>
/// <param name="MaxReconnectDelay">Longest delay between attempts.</param>
/// <param name="SilentAfter">No sensor frame for this long: the board is reported silent (the control loop's stale check stops the robot).</param>
/// <param name="CloseTimeout">Longest wait for a device close (closing runs on its own task and is abandoned past this).</param>
public sealed record BoardLinkSettings(TimeSpan ReconnectDelay, TimeSpan MaxReconnectDelay, TimeSpan SilentAfter, TimeSpan CloseTimeout)
{
    /// <summary>500 ms first delay, 10 s cap, 200 ms silence, 1 s close.</summary>
    public static BoardLinkSettings Default { get; } = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1));

    /// <summary>Every problem, each naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
        {
            errors.Add($"ReconnectDelay/MaxReconnectDelay: {ReconnectDelay}/{MaxReconnectDelay} must be positive and ordered");
        }

        if (SilentAfter <= TimeSpan.Zero)
        {
            errors.Add($"SilentAfter: {SilentAfter} must be positive");
        }

        if (CloseTimeout <= TimeSpan.Zero)
        {
            errors.Add($"CloseTimeout: {CloseTimeout} must be positive");
        }

        return errors;
    }
}

/// <summary>
/// The serial link to the controller board. A dedicated reader thread decodes frames and stores the latest sensor
/// frame in the <see cref="SensorSnapshotStore"/>; a dedicated writer thread drains a single-slot mailbox of the
/// latest motor command, so the control loop never waits for the line. When the stream ends or fails (unplug, a
/// killed socat, a write past its timeout) the link goes <see cref="BoardLinkState.Disconnected"/>, closes the old
/// stream on a task with a deadline, and the reader thread reopens the device through the transport with jittered
/// exponential backoff (Polly) until it is back or the link is stopped. A board that sends no sensor frame for
/// <see cref="BoardLinkSettings.SilentAfter"/> is reported silent (<see cref="IsSilent"/>, a log event, a counter).
/// </summary>
public sealed partial class BoardLink : IMotorCommandSink, IUrgentBrake, IDisposable
{
    private readonly IBoardTransportFactory _transport;
    private readonly SensorSnapshotStore _sensors;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BoardLinkSettings _settings;
    private readonly SerialFrameDecoder _decoder = new();
    private readonly Lock _mailboxGate = new();
    private readonly Lock _writeGate = new();
    private readonly byte[] _urgentBuffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
    private ushort _txSequence;
    private long _urgentEpoch;
    private ulong _latchFrame;
    private long _urgentBrakes;
    private long _latched;
    private readonly AutoResetEvent _commandReady = new(false);
    private readonly Lock _statsGate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ResiliencePipeline<Stream> _reopen;
    private MotorCommand _pending;
    private bool _hasPending;
    private SerialDecoderStats _decoderStats;
    private Stream? _session;
    private Thread? _reader;
    private Thread? _writer;
    private ITimer? _silenceTimer;
    private volatile bool _stopping;
    private int _state;
    private int _silent;
    private long _sensorFrames;
    private long _heartbeats;
    private long _faults;
    private long _unexpected;
    private long _written;
    private long _superseded;
    private long _readFailures;
    private long _writeFailures;
    private long _reconnects;
    private long _openFailures;
    private long _silentEpisodes;
    private long _dropped;
    private long _closeTimeouts;
    private long _lastFrameTimestamp;
    private ushort _writeSequence;
    private long _disconnectedTimestamp;
    private long _lastDowntimeTicks = -1;
    private BoardFault _lastFault;

    /// <summary>Creates a link with <see cref="BoardLinkSettings.Default"/>; nothing is opened until <see cref="Start"/>.</summary>
    public BoardLink(IBoardTransportFactory transport, SensorSnapshotStore sensors, TimeProvider time, ILogger logger)
        : this(transport, sensors, time, logger, BoardLinkSettings.Default)
    {
    }

    /// <summary>Creates a link; nothing is opened until <see cref="Start"/>.</summary>
    public BoardLink(IBoardTransportFactory transport, SensorSnapshotStore sensors, TimeProvider time, ILogger logger, BoardLinkSettings settings)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _sensors = sensors ?? throw new ArgumentNullException(nameof(sensors));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        var errors = settings.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid board link settings: " + string.Join("; ", errors), nameof(settings));
        }

        _reopen = new ResiliencePipelineBuilder<Stream> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<Stream>
            {
                ShouldHandle = new PredicateBuilder<Stream>().Handle<IOException>().Handle<UnauthorizedAccessException>().Handle<TimeoutException>(),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.ReconnectDelay,
                MaxDelay = settings.MaxReconnectDelay,
                MaxRetryAttempts = int.MaxValue,
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _openFailures);
                    LogOpenFailed(_logger, _transport.ToString() ?? "board", args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message ?? "no stream");
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Raised (on the reader or writer thread) when the link state changes.</summary>
    public event Action<BoardLinkState>? StateChanged;

    /// <summary>Sees every sensor frame on the reader thread (the brake trigger); set before <see cref="Start"/>.</summary>
    public ISensorFrameWatcher? FrameWatcher { get; set; }

    /// <summary>Current state.</summary>
    public BoardLinkState State => (BoardLinkState)Volatile.Read(ref _state);

    /// <summary>Whether no sensor frame arrived for <see cref="BoardLinkSettings.SilentAfter"/> (a silent or absent board).</summary>
    public bool IsSilent => Volatile.Read(ref _silent) != 0;

    /// <summary>How long the last disconnection lasted, from losing the stream to the reopened one (null before any reconnect).</summary>
    public TimeSpan? LastDowntime
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastDowntimeTicks);
            return ticks < 0 ? null : TimeSpan.FromTicks(ticks);
        }
    }

    /// <summary>Time since the latest sensor frame (or since start when none came yet).</summary>
    public TimeSpan SinceLastSensorFrame => _time.GetElapsedTime(Interlocked.Read(ref _lastFrameTimestamp));

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
                Interlocked.Read(ref _readFailures), Interlocked.Read(ref _writeFailures), decoder)
            {
                Reconnects = Interlocked.Read(ref _reconnects),
                OpenFailures = Interlocked.Read(ref _openFailures),
                SilentEpisodes = Interlocked.Read(ref _silentEpisodes),
                CommandsDropped = Interlocked.Read(ref _dropped),
                CloseTimeouts = Interlocked.Read(ref _closeTimeouts),
                UrgentBrakes = Interlocked.Read(ref _urgentBrakes),
                CommandsLatched = Interlocked.Read(ref _latched),
            };
        }
    }

    /// <summary>
    /// Opens the stream once and starts the reader and writer threads. When the device cannot be opened and the
    /// transport can reopen, the link starts <see cref="BoardLinkState.Disconnected"/> and keeps trying in the
    /// background; a transport that cannot reopen rethrows.
    /// </summary>
    public void Start()
    {
        if (_reader is not null)
        {
            throw new InvalidOperationException("the board link is already started");
        }

        _stopping = false;
        Interlocked.Exchange(ref _lastFrameTimestamp, _time.GetTimestamp());
        try
        {
            Volatile.Write(ref _session, _transport.Open());
            SetState(BoardLinkState.Connected);
        }
        catch (Exception ex) when (_transport.CanReopen && IsDeviceError(ex))
        {
            Interlocked.Increment(ref _openFailures);
            LogOpenFailed(_logger, _transport.ToString() ?? "board", 1, 0, ex.Message);
            Interlocked.Exchange(ref _disconnectedTimestamp, _time.GetTimestamp());
            SetState(BoardLinkState.Disconnected);
        }

        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "edge-serial-read" };
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "edge-serial-write" };
        _reader.Start();
        _writer.Start();
        var check = _settings.SilentAfter / 4;
        check = check < TimeSpan.FromMilliseconds(5) ? TimeSpan.FromMilliseconds(5) : check;
        _silenceTimer = _time.CreateTimer(static s => ((BoardLink)s!).CheckSilence(), this, check, check);
    }

    /// <inheritdoc />
    public void Submit(in MotorCommand command, ulong basedOnFrame)
    {
        if ((command.Flags & MotorFlags.Brake) == 0 && basedOnFrame < Volatile.Read(ref _latchFrame))
        {
            // Decided before the frame that made the reader brake: hold the brake until a decision has seen it.
            Interlocked.Increment(ref _latched);
            Submit(new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = command.TimeoutMs });
            return;
        }

        Submit(command);
    }

    /// <inheritdoc />
    public void BrakeNow(in MotorCommand brake, ulong latchUntilFrame)
    {
        if (Volatile.Read(ref _latchFrame) < latchUntilFrame)
        {
            Volatile.Write(ref _latchFrame, latchUntilFrame);
        }

        lock (_mailboxGate)
        {
            // Anything queued or taken but not yet written was decided before this brake: it must not follow it.
            Interlocked.Increment(ref _urgentEpoch);
            if (_hasPending && (_pending.Flags & MotorFlags.Brake) == 0)
            {
                _hasPending = false;
                _superseded++;
            }
        }

        var stream = Volatile.Read(ref _session);
        if (stream is null)
        {
            // No line open here (reconnecting, or a host stepping the runtime and taking the bytes itself through
            // EncodePending): the brake waits in the mailbox, ahead of anything decided before it.
            Submit(brake);
            return;
        }

        if (WriteCommand(stream, brake, _urgentBuffer, epoch: -1))
        {
            Interlocked.Increment(ref _urgentBrakes);
        }
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
    /// False when a thread did not end within <paramref name="timeout"/> (a hung device write or close).
    /// </summary>
    public bool Stop(TimeSpan timeout)
    {
        if (_reader is null || _stopping)
        {
            return true;
        }

        var started = _time.GetTimestamp();
        _stopping = true;
        _silenceTimer?.Dispose();
        _stop.Cancel();
        _commandReady.Set();
        var writerDone = _writer!.Join(timeout);
        SetState(BoardLinkState.Stopped);

        // Closing the stream unblocks the reader; a hung device close must not hang shutdown.
        var closed = true;
        if (Interlocked.Exchange(ref _session, null) is { } stream)
        {
            closed = CloseWithDeadline(stream, Remaining(timeout, started));
        }

        var readerDone = _reader.Join(Remaining(timeout, started));
        return writerDone && closed && readerDone;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_reader is not null && !_stopping)
        {
            Stop(_settings.CloseTimeout);
        }

        _silenceTimer?.Dispose();
        _stop.Dispose();
        _commandReady.Dispose();
    }

    private static bool IsDeviceError(Exception ex) =>
        ex is IOException or ObjectDisposedException or InvalidOperationException or UnauthorizedAccessException or TimeoutException or NotSupportedException;

    private TimeSpan Remaining(TimeSpan timeout, long started)
    {
        var left = timeout - _time.GetElapsedTime(started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private bool CloseWithDeadline(Stream stream, TimeSpan deadline)
    {
        var close = Task.Run(stream.Dispose);
        bool done;
        try
        {
            done = close.Wait(deadline);
        }
        catch (AggregateException ex)
        {
            LogCloseFailed(_logger, ex.InnerException ?? ex);
            return true;
        }

        if (!done)
        {
            Interlocked.Increment(ref _closeTimeouts);
            LogCloseTimedOut(_logger, deadline.TotalMilliseconds);
        }

        return done;
    }

    private void ReadLoop()
    {
        var buffer = new byte[4096];
        while (!_stopping)
        {
            var stream = Volatile.Read(ref _session);
            if (stream is null)
            {
                if (!_transport.CanReopen)
                {
                    return;
                }

                stream = Reopen();
                if (stream is null)
                {
                    return;
                }
            }

            ReadSession(stream, buffer);
            if (_stopping)
            {
                return;
            }

            // The session failed (the reader saw it, or the writer closed it): drop it and go round to reopen.
            Interlocked.CompareExchange(ref _session, null, stream);
            Interlocked.Exchange(ref _disconnectedTimestamp, _time.GetTimestamp());
            SetState(BoardLinkState.Disconnected);
            CloseWithDeadline(stream, _settings.CloseTimeout);
        }
    }

    private Stream? Reopen()
    {
        Stream stream;
        try
        {
            stream = _reopen.Execute(static (t, _) => t.Open(), _transport, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        if (_stopping)
        {
            stream.Dispose();
            return null;
        }

        Volatile.Write(ref _session, stream);
        Interlocked.Increment(ref _reconnects);
        var down = _time.GetElapsedTime(Interlocked.Read(ref _disconnectedTimestamp));
        Interlocked.Exchange(ref _lastDowntimeTicks, down.Ticks);
        LogReconnected(_logger, _transport.ToString() ?? "board", down.TotalMilliseconds);
        SetState(BoardLinkState.Connected);
        return stream;
    }

    private void ReadSession(Stream stream, byte[] buffer)
    {
        try
        {
            while (!_stopping)
            {
                var n = stream.Read(buffer, 0, buffer.Length);
                if (n == 0)
                {
                    if (!_stopping && Volatile.Read(ref _session) == stream)
                    {
                        Interlocked.Increment(ref _readFailures);
                        LogStreamEnded(_logger);
                    }

                    return;
                }

                Ingest(buffer.AsSpan(0, n));
            }
        }
        catch (Exception ex) when (IsDeviceError(ex))
        {
            if (!_stopping)
            {
                Interlocked.Increment(ref _readFailures);
                LogReadFailed(_logger, ex);
            }
        }
    }

    /// <summary>
    /// Decodes bytes from the board and stores what they carry, stamped now: the reader thread's work for one read.
    /// Also called directly by a host that steps the runtime on its own thread (<see cref="Runtime.EdgeRuntime.StepIngest"/>).
    /// </summary>
    internal void Ingest(ReadOnlySpan<byte> input)
    {
        var now = _time.GetTimestamp();
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

    /// <summary>
    /// Encodes the pending motor command (if any) into <paramref name="destination"/> with the link's sequence
    /// counter and returns its length (0 when none is pending): the writer thread's work for one command, for a
    /// host that steps the runtime on its own thread (<see cref="Runtime.EdgeRuntime.StepTakeOutput"/>).
    /// </summary>
    internal int EncodePending(Span<byte> destination)
    {
        MotorCommand command;
        lock (_mailboxGate)
        {
            if (!_hasPending)
            {
                return 0;
            }

            command = _pending;
            _hasPending = false;
        }

        var n = SerialFrameEncoder.Encode(command, _writeSequence++, destination);
        Interlocked.Increment(ref _written);
        return n;
    }

    private void Handle(in DecodedFrame frame, long now)
    {
        switch (frame.Type)
        {
            case BoardMessageType.SensorFrame:
                var count = _sensors.Publish(frame.Sensor, now);
                FrameWatcher?.OnSensorFrame(frame.Sensor, count);
                Interlocked.Increment(ref _sensorFrames);
                Interlocked.Exchange(ref _lastFrameTimestamp, now);
                if (Interlocked.Exchange(ref _silent, 0) != 0)
                {
                    LogBoardResumed(_logger);
                }

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

    private void CheckSilence()
    {
        if (_stopping)
        {
            return;
        }

        var age = _time.GetElapsedTime(Interlocked.Read(ref _lastFrameTimestamp));
        if (age > _settings.SilentAfter && Interlocked.CompareExchange(ref _silent, 1, 0) == 0)
        {
            Interlocked.Increment(ref _silentEpisodes);
            LogBoardSilent(_logger, age.TotalMilliseconds, State);
        }
    }

    private void WriteLoop()
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        while (true)
        {
            _commandReady.WaitOne();
            MotorCommand command;
            bool has;
            long epoch;
            lock (_mailboxGate)
            {
                command = _pending;
                has = _hasPending;
                _hasPending = false;
                epoch = _urgentEpoch;
            }

            if (has)
            {
                var stream = Volatile.Read(ref _session);
                if (stream is null)
                {
                    Interlocked.Increment(ref _dropped);
                }
                else
                {
                    WriteCommand(stream, command, buffer, (command.Flags & MotorFlags.Brake) != 0 ? -1 : epoch);
                }
            }

            if (_stopping)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Encodes and writes one command under the write lock (the writer thread and an urgent brake share the line and
    /// the sequence number). A drive command taken before an urgent brake (<paramref name="epoch"/> older than the
    /// current one) is dropped instead: it must not follow the brake. A failed write drops the session (the reader reopens).
    /// </summary>
    private bool WriteCommand(Stream stream, in MotorCommand command, byte[] buffer, long epoch)
    {
        try
        {
            lock (_writeGate)
            {
                if (epoch >= 0 && epoch != Interlocked.Read(ref _urgentEpoch))
                {
                    Interlocked.Increment(ref _superseded);
                    return false;
                }

                var n = SerialFrameEncoder.Encode(command, _txSequence++, buffer);
                stream.Write(buffer, 0, n);
                stream.Flush();
            }

            Interlocked.Increment(ref _written);
            return true;
        }
        catch (Exception ex) when (IsDeviceError(ex))
        {
            Interlocked.Increment(ref _writeFailures);
            if (!_stopping && Interlocked.CompareExchange(ref _session, null, stream) == stream)
            {
                // Closing the failed stream ends the reader's session; the reader reopens.
                LogWriteFailed(_logger, ex);
                Interlocked.Exchange(ref _disconnectedTimestamp, _time.GetTimestamp());
                SetState(BoardLinkState.Disconnected);
                CloseWithDeadline(stream, _settings.CloseTimeout);
            }

            return false;
        }
    }

    private void SetState(BoardLinkState state)
    {
        var old = (BoardLinkState)Interlocked.Exchange(ref _state, (int)state);
        if (old == BoardLinkState.Stopped && state != BoardLinkState.Stopped)
        {
            // Stopped is final: a late reader or writer must not revive it.
            Interlocked.Exchange(ref _state, (int)BoardLinkState.Stopped);
            return;
        }

        if (old != state)
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

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Opening board device {Device} failed (attempt {Attempt}), next try in {DelayMs:F0} ms: {Error}")]
    private static partial void LogOpenFailed(ILogger logger, string device, int attempt, double delayMs, string error);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Board device {Device} reopened after {DowntimeMs:F0} ms")]
    private static partial void LogReconnected(ILogger logger, string device, double downtimeMs);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Board silent: no sensor frame for {AgeMs:F0} ms (link {State})")]
    private static partial void LogBoardSilent(ILogger logger, double ageMs, BoardLinkState state);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Board sensor frames resumed")]
    private static partial void LogBoardResumed(ILogger logger);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Board device close did not finish within {DeadlineMs:F0} ms; abandoned")]
    private static partial void LogCloseTimedOut(ILogger logger, double deadlineMs);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Debug, Message = "Board device close failed")]
    private static partial void LogCloseFailed(ILogger logger, Exception ex);
}
