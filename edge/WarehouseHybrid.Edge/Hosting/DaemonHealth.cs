using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Hosting;

/// <summary>One sample of the daemon's moving parts, taken at health-check rate (not per tick).</summary>
/// <param name="LoopRunning">Whether the control loop is started.</param>
/// <param name="LoopTicks">Ticks run so far (progress is this number growing).</param>
/// <param name="LoopOverruns">Periods missed.</param>
/// <param name="LatenessP99Us">p99 of tick start lateness, microseconds.</param>
/// <param name="WorkP99Us">p99 of tick work, microseconds.</param>
/// <param name="Mode">Decision mode text.</param>
/// <param name="Reason">Decision reason text.</param>
/// <param name="Board">Serial link state.</param>
/// <param name="BoardSilent">Whether the board sent no sensor frame within the stale timeout.</param>
/// <param name="Serial">Serial counters.</param>
/// <param name="CloudEnabled">Whether the cloud link is configured.</param>
/// <param name="CloudConnected">Whether the cloud link is connected.</param>
/// <param name="SiteAgeMs">Age of the latest site sensor message, ms (null: none yet or site sensing off).</param>
public sealed record DaemonHealthSample(
    bool LoopRunning, long LoopTicks, long LoopOverruns, double LatenessP99Us, double WorkP99Us, string Mode, string Reason,
    BoardLinkState Board, bool BoardSilent, BoardLinkCounters Serial, bool CloudEnabled, bool CloudConnected, double? SiteAgeMs)
{
    /// <summary>Version of the active learned model; empty when none is loaded.</summary>
    public string ModelVersion { get; init; } = string.Empty;

    /// <summary>Execution provider of the active model; empty when none is loaded.</summary>
    public string ExecutionProvider { get; init; } = string.Empty;

    /// <summary>Why the configured model package was refused; empty when it was installed or none is configured.</summary>
    public string ModelRefusal { get; init; } = string.Empty;

    /// <summary>Ticks the learned policy decided.</summary>
    public long LearnedTicks { get; init; }

    /// <summary>Whether the live model is on probation.</summary>
    public bool ModelOnProbation { get; init; }

    /// <summary>Models rolled back after failing probation.</summary>
    public long ModelRollbacks { get; init; }

    /// <summary>Out-of-schedule ticks a sensor frame demanded (brake).</summary>
    public long ImmediateTicks { get; init; }

    /// <summary>Bytes the control thread allocated inside ticks after warm-up.</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Audit log state (null when auditing is off).</summary>
    public DaemonAuditHealth? Audit { get; init; }

    /// <summary>Whether the site sensors are configured but stale or missing.</summary>
    public bool SiteStale { get; init; }
}

/// <summary>The audit log in a health sample.</summary>
/// <param name="HeadSeq">Latest record's sequence number.</param>
/// <param name="HeadHash">Its hash: an anchor for <c>audit verify --anchor</c>.</param>
/// <param name="Written">Records written.</param>
/// <param name="Dropped">Entries dropped (queue full).</param>
/// <param name="Lost">Entries lost (write failed).</param>
public sealed record DaemonAuditHealth(long HeadSeq, string HeadHash, long Written, long Dropped, long Lost);

/// <summary>Where the supervisor takes its samples (the hosted runtime).</summary>
public interface IDaemonHealthSource
{
    /// <summary>Samples the daemon now; null before the runtime exists.</summary>
    DaemonHealthSample? Sample();
}

/// <summary>The verdict of one health check.</summary>
/// <param name="LoopProgressing">The loop is running and ticked since the previous check: the only condition for WATCHDOG=1.</param>
/// <param name="Degraded">The loop is fine but an input is not (serial down or silent, cloud down): reported, never a restart.</param>
/// <param name="Status">One line for systemd's STATUS= and the log.</param>
public readonly record struct HealthVerdict(bool LoopProgressing, bool Degraded, string Status);

/// <summary>
/// Decides from consecutive samples whether the control loop makes progress (pure, testable). A hung loop stops the
/// watchdog pings so systemd restarts the service; a lost board or broker only degrades the status, because
/// restarting would not bring them back and the loop already stops the robot on stale inputs.
/// </summary>
public sealed class HealthJudge
{
    private long _lastTicks = -1;
    private long _lastAuditLost;

    /// <summary>Judges a sample against the previous one.</summary>
    public HealthVerdict Judge(DaemonHealthSample? sample)
    {
        if (sample is null)
        {
            return new HealthVerdict(false, true, "starting");
        }

        var progressing = sample.LoopRunning && sample.LoopTicks > _lastTicks && _lastTicks >= 0;
        var first = _lastTicks < 0;
        _lastTicks = sample.LoopTicks;
        var serialOk = sample.Board == BoardLinkState.Connected && !sample.BoardSilent;
        var cloudOk = !sample.CloudEnabled || sample.CloudConnected;
        var lost = sample.Audit?.Lost ?? 0;
        var auditOk = lost <= _lastAuditLost;
        _lastAuditLost = lost;
        var status = new StringBuilder()
            .Append(progressing || (first && sample.LoopRunning) ? "loop ok" : "loop STALLED")
            .Append(", serial ").Append(sample.Board == BoardLinkState.Connected ? (sample.BoardSilent ? "silent" : "ok") : sample.Board.ToString().ToLowerInvariant())
            .Append(", cloud ").Append(!sample.CloudEnabled ? "off" : sample.CloudConnected ? "ok" : "down")
            .Append(", ").Append(sample.Mode).Append('/').Append(sample.Reason)
            .Append(sample.SiteStale ? ", site sensors stale (speed capped)" : string.Empty)
            .Append(auditOk ? string.Empty : ", audit LOSING records")
            .ToString();

        // The first sample has nothing to compare with: a running loop gets the benefit of the doubt once.
        return new HealthVerdict(progressing || (first && sample.LoopRunning), !serialOk || !cloudOk || !auditOk || sample.SiteStale, status);
    }
}

/// <summary>Writes the health file atomically (temp file + rename) so a reader never sees half of it.</summary>
public static class HealthFile
{
    /// <summary>Serialises a sample and its verdict as JSON.</summary>
    public static byte[] ToJson(DaemonHealthSample? sample, in HealthVerdict verdict, DateTimeOffset at, string phase)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("time", at);
            w.WriteString("phase", phase);
            w.WriteBoolean("healthy", verdict.LoopProgressing && !verdict.Degraded);
            w.WriteBoolean("loopProgressing", verdict.LoopProgressing);
            w.WriteBoolean("degraded", verdict.Degraded);
            w.WriteString("status", verdict.Status);
            if (sample is not null)
            {
                w.WriteStartObject("loop");
                w.WriteBoolean("running", sample.LoopRunning);
                w.WriteNumber("ticks", sample.LoopTicks);
                w.WriteNumber("overruns", sample.LoopOverruns);
                w.WriteNumber("latenessP99Us", sample.LatenessP99Us);
                w.WriteNumber("workP99Us", sample.WorkP99Us);
                w.WriteString("mode", sample.Mode);
                w.WriteString("reason", sample.Reason);
                w.WriteNumber("immediateTicks", sample.ImmediateTicks);
                w.WriteNumber("allocatedBytes", sample.AllocatedBytes);
                w.WriteEndObject();
                w.WriteStartObject("serial");
                w.WriteString("state", sample.Board.ToString());
                w.WriteBoolean("silent", sample.BoardSilent);
                w.WriteNumber("sensorFrames", sample.Serial.SensorFrames);
                w.WriteNumber("framesRejected", sample.Serial.Decoder.FramesRejected);
                w.WriteNumber("readFailures", sample.Serial.ReadFailures);
                w.WriteNumber("writeFailures", sample.Serial.WriteFailures);
                w.WriteNumber("reconnects", sample.Serial.Reconnects);
                w.WriteNumber("openFailures", sample.Serial.OpenFailures);
                w.WriteNumber("silentEpisodes", sample.Serial.SilentEpisodes);
                w.WriteNumber("commandsWritten", sample.Serial.CommandsWritten);
                w.WriteEndObject();
                w.WriteStartObject("cloud");
                w.WriteBoolean("enabled", sample.CloudEnabled);
                w.WriteBoolean("connected", sample.CloudConnected);
                w.WriteEndObject();
                w.WriteStartObject("model");
                w.WriteString("version", sample.ModelVersion);
                w.WriteString("executionProvider", sample.ExecutionProvider);
                w.WriteString("refusal", sample.ModelRefusal);
                w.WriteNumber("learnedTicks", sample.LearnedTicks);
                w.WriteBoolean("onProbation", sample.ModelOnProbation);
                w.WriteNumber("rollbacks", sample.ModelRollbacks);
                w.WriteEndObject();
                if (sample.Audit is { } audit)
                {
                    w.WriteStartObject("audit");
                    w.WriteNumber("headSeq", audit.HeadSeq);
                    w.WriteString("headHash", audit.HeadHash);
                    w.WriteNumber("written", audit.Written);
                    w.WriteNumber("dropped", audit.Dropped);
                    w.WriteNumber("lost", audit.Lost);
                    w.WriteEndObject();
                }

                w.WriteStartObject("site");
                w.WriteBoolean("stale", sample.SiteStale);
                if (sample.SiteAgeMs is { } age)
                {
                    w.WriteNumber("ageMs", age);
                }
                else
                {
                    w.WriteNull("ageMs");
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <paramref name="json"/> to <paramref name="path"/> via a temp file in the same directory and a rename.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> json)
    {
        var temp = path + ".tmp";
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
        {
            f.Write(json);
        }

        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>
/// The daemon's supervisor: READY=1 once the runtime is up, then at a fixed interval (half of WatchdogSec when
/// systemd armed a watchdog) samples the runtime, sends WATCHDOG=1 only if the control loop ticked since the last
/// check, updates STATUS= when it changes and rewrites the health file; STOPPING=1 at shutdown. Timed by the
/// <see cref="TimeProvider"/> (tests drive it with FakeTimeProvider and a bound datagram socket).
/// </summary>
public sealed partial class DaemonSupervisor : IDisposable
{
    private readonly IDaemonHealthSource _source;
    private readonly SystemdNotifier? _notifier;
    private readonly string? _healthFile;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HealthJudge _judge = new();
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private string _lastStatus = string.Empty;
    private bool _wasProgressing = true;
    private long _watchdogPings;
    private long _withheld;

    /// <summary>Creates a supervisor.</summary>
    /// <param name="source">The runtime to sample.</param>
    /// <param name="notifier">The sd_notify channel, null when not under systemd.</param>
    /// <param name="watchdog">systemd's watchdog interval (WATCHDOG_USEC), null when none: then no WATCHDOG=1 is sent.</param>
    /// <param name="checkInterval">Health check interval when no watchdog is armed (with one: half the watchdog interval or this, whichever is shorter).</param>
    /// <param name="healthFile">Where to write the health JSON, null for none.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Logging.</param>
    public DaemonSupervisor(IDaemonHealthSource source, SystemdNotifier? notifier, TimeSpan? watchdog, TimeSpan checkInterval, string? healthFile, TimeProvider time, ILogger logger)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _notifier = notifier;
        Watchdog = watchdog;
        _healthFile = string.IsNullOrWhiteSpace(healthFile) ? null : healthFile;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        if (checkInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(checkInterval), checkInterval, "the health check interval must be positive");
        }

        Interval = watchdog is { } w && w / 2 < checkInterval ? w / 2 : checkInterval;
    }

    /// <summary>The watchdog interval systemd expects, if any.</summary>
    public TimeSpan? Watchdog { get; }

    /// <summary>How often the supervisor checks.</summary>
    public TimeSpan Interval { get; }

    /// <summary>WATCHDOG=1 messages sent.</summary>
    public long WatchdogPings => Interlocked.Read(ref _watchdogPings);

    /// <summary>Checks that withheld the ping because the loop made no progress.</summary>
    public long PingsWithheld => Interlocked.Read(ref _withheld);

    /// <summary>Sends READY=1 and starts the periodic check.</summary>
    public void Start()
    {
        var verdict = CheckCore("running", sendPing: false);
        _notifier?.Ready(verdict.Status);
        LogReady(_logger, Watchdog?.TotalMilliseconds ?? 0, Interval.TotalMilliseconds, _notifier?.SocketPath ?? "(none)");
        _timer = _time.CreateTimer(static s => ((DaemonSupervisor)s!).Check(), this, Interval, Interval);
    }

    /// <summary>One check now (the timer calls this).</summary>
    public HealthVerdict Check() => CheckCore("running", sendPing: true);

    /// <summary>Stops checking, sends STOPPING=1 and writes a last health file.</summary>
    public void Stopping()
    {
        _timer?.Dispose();
        _timer = null;
        _notifier?.Stopping();
        lock (_gate)
        {
            WriteFile(_source.Sample(), new HealthVerdict(false, true, "stopping"), "stopping");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _timer?.Dispose();

    private HealthVerdict CheckCore(string phase, bool sendPing)
    {
        lock (_gate)
        {
            var sample = _source.Sample();
            var verdict = _judge.Judge(sample);
            if (sendPing && Watchdog is not null)
            {
                if (verdict.LoopProgressing)
                {
                    if (_notifier?.Watchdog() == true)
                    {
                        Interlocked.Increment(ref _watchdogPings);
                    }
                }
                else
                {
                    Interlocked.Increment(ref _withheld);
                }
            }

            if (verdict.LoopProgressing != _wasProgressing)
            {
                _wasProgressing = verdict.LoopProgressing;
                if (verdict.LoopProgressing)
                {
                    LogLoopRecovered(_logger, verdict.Status);
                }
                else
                {
                    LogLoopStalled(_logger, verdict.Status);
                }
            }

            if (verdict.Status != _lastStatus)
            {
                _lastStatus = verdict.Status;
                _notifier?.Status(verdict.Status);
                LogStatus(_logger, verdict.Status);
            }

            WriteFile(sample, verdict, phase);
            return verdict;
        }
    }

    private void WriteFile(DaemonHealthSample? sample, in HealthVerdict verdict, string phase)
    {
        if (_healthFile is null)
        {
            return;
        }

        try
        {
            HealthFile.WriteAtomically(_healthFile, HealthFile.ToJson(sample, verdict, _time.GetUtcNow(), phase));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogHealthFileFailed(_logger, _healthFile, ex.Message);
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Daemon ready: watchdog {WatchdogMs} ms, checks every {IntervalMs} ms, notify socket {Socket}")]
    private static partial void LogReady(ILogger logger, double watchdogMs, double intervalMs, string socket);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Health: {Status}")]
    private static partial void LogStatus(ILogger logger, string status);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Control loop made no progress since the last check; withholding the watchdog ping ({Status})")]
    private static partial void LogLoopStalled(ILogger logger, string status);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Control loop progressing again ({Status})")]
    private static partial void LogLoopRecovered(ILogger logger, string status);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Cannot write the health file {Path}: {Error}")]
    private static partial void LogHealthFileFailed(ILogger logger, string path, string error);
}
