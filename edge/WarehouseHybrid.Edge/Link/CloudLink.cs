using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Security;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Contracts.Tracing;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Outbox;

namespace WarehouseHybrid.Edge.Link;

/// <summary>Cloud link settings (from <see cref="Runtime.EdgeOptions"/>).</summary>
/// <param name="RobotId">This robot.</param>
/// <param name="SiteId">Its site.</param>
/// <param name="Host">Broker host.</param>
/// <param name="Port">Broker port.</param>
/// <param name="TelemetryPeriod">Periodic telemetry interval.</param>
/// <param name="ReconnectDelay">First reconnect delay.</param>
/// <param name="MaxReconnectDelay">Longest reconnect delay.</param>
/// <param name="MapWidth">Map width, to turn cell ids back into poses for telemetry.</param>
public sealed record CloudLinkSettings(
    string RobotId, string SiteId, string Host, int Port, TimeSpan TelemetryPeriod, TimeSpan ReconnectDelay, TimeSpan MaxReconnectDelay, int MapWidth)
{
    /// <summary>State directory, TLS, outbox, Sparkplug and delivery settings.</summary>
    public CloudLinkOptions Link { get; init; } = new();
}

/// <summary>
/// The robot's one MQTT 5 connection to the site broker (MQTTnet), owning its reconnect loop (Polly, exponential
/// backoff with jitter). Outbound, every telemetry record and event goes through the <see cref="DurableOutbox"/>:
/// the control loop only offers its latest sample into a slot and events into a bounded queue (never waiting on
/// disk or network); the link's append loop stamps each record with the next outbox seq and the record stream id,
/// appends it (acknowledged by the group commit), and the sender loop delivers durable records in order at QoS 1
/// with a window of <see cref="CloudLinkOptions.MaxInFlight"/>, marking them delivered on PUBACK. The same telemetry
/// is mirrored as Sparkplug B 3.0 through a <see cref="SparkplugSession"/> (NBIRTH/DBIRTH, DDATA by alias, NDEATH as
/// the MQTT Will with the persisted bdSeq, rebirth on NCMD); while the primary host's STATE is offline, Sparkplug
/// data is held and the outbox delivers nothing. Inbound: plans, grants and tasks go to the control loop's inbox,
/// escalation answers to <see cref="Escalation"/>, and other subscribers of the robot (site sensors) get theirs
/// through <see cref="AddSubscription"/>.
/// </summary>
public sealed partial class CloudLink : ITelemetrySink, IRobotEventSink, IAsyncDisposable
{
    private const string StreamIdFile = "stream-id";
    private const string BdSeqFile = "sparkplug-bdseq";
    private static readonly TimeSpan OutboxRetryPeriod = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan TransientRefusalPause = TimeSpan.FromMilliseconds(500);

    private readonly CloudLinkSettings _settings;
    private readonly CloudLinkOptions _link;
    private readonly IPlanInbox _inbox;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MqttClientFactory _factory = new();
    private readonly IMqttClient _client;
    private readonly string _telemetryTopic;
    private readonly string _eventsTopic;
    private readonly string _commandsFilter;
    private readonly string _commandsPrefix;
    private readonly string _escalationRequestTopic;
    private readonly string _escalationResponseTopic;
    private readonly string _modelTopic;
    private readonly string _clientId;
    private readonly List<ILinkSubscription> _subscriptions = [];
    private readonly Channel<(RobotEventRecord Record, OutboxRecordClass Class)> _events;
    private readonly Channel<SparkplugMessage> _sparkplugOut = Channel.CreateBounded<SparkplugMessage>(
        new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Lock _slotGate = new();
    private readonly Lock _sparkplugGate = new();
    private readonly SemaphoreSlim _work = new(0, 1);
    private readonly SemaphoreSlim _sendPulse = new(0, 1);
    private readonly SemaphoreSlim _disconnected = new(0, 1);
    private readonly ResiliencePipeline _connectPipeline;
    private readonly SparkplugValue[] _metricValues = new SparkplugValue[RobotMetrics.Definitions.Count];
    private LoadedClientTls? _tls;
    private SparkplugSession? _sparkplug;
    private SparkplugMessage? _will;
    private DurableOutbox? _outbox;
    private long _outboxRetryAt;
    private string _stateDirectory = string.Empty;
    private bool _temporaryState;
    private ulong _streamId;
    private ControlSample _latest;
    private bool _hasSample;
    private int _urgentRequested;
    private CancellationTokenSource? _cts;
    private Task _connectLoop = Task.CompletedTask;
    private Task _appendLoop = Task.CompletedTask;
    private Task _sendLoop = Task.CompletedTask;
    private long _connects;
    private long _connectFailures;
    private long _telemetryPublished;
    private long _telemetryDropped;
    private long _eventsPublished;
    private long _eventsDropped;
    private long _commandsReceived;
    private long _malformed;
    private long _stored;
    private long _syncFailures;
    private long _refusedByBroker;
    private long _publishFailures;
    private long _sparkplugPublished;
    private long _sparkplugDropped;

    /// <summary>Creates a link; nothing connects or touches the disk until <see cref="StartAsync"/>.</summary>
    public CloudLink(CloudLinkSettings settings, IPlanInbox inbox, TimeProvider time, ILogger logger)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _inbox = inbox ?? throw new ArgumentNullException(nameof(inbox));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _link = (settings.Link ?? new CloudLinkOptions()).Clone();
        _telemetryTopic = FleetTopics.Telemetry(settings.SiteId, settings.RobotId);
        _eventsTopic = FleetTopics.Events(settings.SiteId, settings.RobotId);
        _commandsFilter = FleetTopics.RobotCommandsFilter(settings.SiteId, settings.RobotId);
        _commandsPrefix = _commandsFilter[..^1]; // ".../cmd/"
        _escalationRequestTopic = FleetTopics.EscalationRequest(settings.SiteId, settings.RobotId);
        _escalationResponseTopic = FleetTopics.EscalationResponse(settings.SiteId, settings.RobotId);
        _modelTopic = FleetTopics.Model(settings.SiteId, settings.RobotId);
        _clientId = $"edge-{settings.SiteId}-{settings.RobotId}";
        _events = Channel.CreateBounded<(RobotEventRecord, OutboxRecordClass)>(new BoundedChannelOptions(_link.EventQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the offer is counted as dropped, never blocks
        });
        Escalation = new MqttEscalationClient(settings.RobotId, 64, time, () => _client!.IsConnected, () => Pulse(_sendPulse));

        _client = _factory.CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _connectPipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true, // decorrelated jitter: a site's robots do not come back in one wave after a broker restart
                Delay = settings.ReconnectDelay,
                MaxDelay = settings.MaxReconnectDelay,
                MaxRetryAttempts = int.MaxValue,
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _connectFailures);
                    LogConnectFailed(_logger, _settings.Host, _settings.Port, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message ?? "no exception");
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Whether the client is connected now.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>The escalation client over this connection (for the runtime-assurance policy).</summary>
    public MqttEscalationClient Escalation { get; }

    /// <summary>The outbox once open (null before start or when its directory could not be opened).</summary>
    public DurableOutbox? Outbox => Volatile.Read(ref _outbox);

    /// <summary>The Sparkplug session's state (Disconnected when Sparkplug is off).</summary>
    public SparkplugSessionState SparkplugState
    {
        get
        {
            lock (_sparkplugGate)
            {
                return _sparkplug?.State ?? SparkplugSessionState.Disconnected;
            }
        }
    }

    /// <summary>The record stream id stamped on every telemetry record and event (0 before start).</summary>
    public ulong StreamId => _streamId;

    /// <summary>Counters.</summary>
    public CloudLinkCounters Counters => new(
        Interlocked.Read(ref _connects), Interlocked.Read(ref _connectFailures), Interlocked.Read(ref _telemetryPublished),
        Interlocked.Read(ref _telemetryDropped), Interlocked.Read(ref _eventsPublished), Interlocked.Read(ref _eventsDropped),
        Interlocked.Read(ref _commandsReceived), Interlocked.Read(ref _malformed))
    {
        RecordsStored = Interlocked.Read(ref _stored),
        SyncFailures = Interlocked.Read(ref _syncFailures),
        RefusedByBroker = Interlocked.Read(ref _refusedByBroker),
        PublishFailures = Interlocked.Read(ref _publishFailures),
        Backlog = Outbox is { } o ? Math.Max(0, o.DurableSeq - o.DeliveredSeq) : 0,
        SparkplugPublished = Interlocked.Read(ref _sparkplugPublished),
        SparkplugDropped = Interlocked.Read(ref _sparkplugDropped),
        WaitingForHost = _client.IsConnected && !DeliveryAllowed,
        OutboxOpen = Outbox is not null,
    };

    /// <summary>Takes the cloud rollout's model deployments from <c>.../cmd/model</c> (null: they are ignored and logged).</summary>
    public Models.ModelDeploymentHandler? ModelDeployments { get; set; }

    /// <summary>
    /// Fills <see cref="Telemetry.ModelHealth"/> of each telemetry record from the sample it is built from; called on the
    /// link's append thread, never on the control thread (null: no model health is sent).
    /// </summary>
    public Func<ControlSample, ModelHealth?>? ModelHealthSource { get; set; }

    /// <summary>Adds a subscriber on this connection (before <see cref="StartAsync"/>).</summary>
    public void AddSubscription(ILinkSubscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        if (_cts is not null)
        {
            throw new InvalidOperationException("subscriptions are added before the link starts");
        }

        _subscriptions.Add(subscription);
    }

    /// <summary>
    /// Opens the state directory (outbox, bdSeq, stream id), loads the TLS files and starts connecting (in the
    /// background, with retries), appending and delivering. An outbox that cannot be opened is reported and retried;
    /// the robot drives on.
    /// </summary>
    /// <exception cref="CryptographicException">The TLS files cannot be loaded (validated at start before this).</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_cts is not null)
        {
            throw new InvalidOperationException("the cloud link is already started");
        }

        _stateDirectory = _link.ResolveStateDirectory(_settings.SiteId, _settings.RobotId, out _temporaryState);
        if (_temporaryState)
        {
            LogTemporaryState(_logger, _stateDirectory);
        }

        if (_link.Tls.Enabled)
        {
            _tls = _link.Tls.Load();
        }

        TryOpenOutbox();
        if (_link.SparkplugEnabled)
        {
            var options = new SparkplugSessionOptions(
                _link.SparkplugGroupId.Length > 0 ? _link.SparkplugGroupId : _settings.SiteId,
                _link.SparkplugEdgeNodeId.Length > 0 ? _link.SparkplugEdgeNodeId : _settings.RobotId)
            {
                PrimaryHostId = _link.PrimaryHostId.Length > 0 ? _link.PrimaryHostId : null,
                MaxHeldSamples = _link.MaxHeldSamples,
            };
            Directory.CreateDirectory(_stateDirectory);
            var bdSeq = new FileBdSeqStore(Path.Combine(_stateDirectory, BdSeqFile));
            _sparkplug = new SparkplugSession(options, RobotMetrics.Definitions, bdSeq, _time);
            if (bdSeq.TryLoad(out _) is false && bdSeq.LastLoadError is { } problem)
            {
                LogBdSeqUnreadable(_logger, problem);
            }
        }

        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ct = _cts.Token;
        _disconnected.Release();
        _connectLoop = Task.Run(() => ConnectLoopAsync(ct), CancellationToken.None);
        _appendLoop = Task.Run(() => AppendLoopAsync(ct), CancellationToken.None);
        _sendLoop = Task.Run(() => SendLoopAsync(ct), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Appends a last telemetry record, gives the sender up to <paramref name="timeout"/> to deliver the backlog,
    /// stops the loops and disconnects (with the Will, so Sparkplug consumers see the NDEATH). Records not delivered
    /// stay in the outbox for the next start.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_cts is null || _cts.IsCancellationRequested)
        {
            return;
        }

        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        Interlocked.Exchange(ref _urgentRequested, 1);
        Pulse(_work);
        if (Outbox is { } outbox)
        {
            // Wait (bounded) until the last sample is stored and, when connected, delivered.
            while (_time.GetTimestamp() < deadline && (Volatile.Read(ref _urgentRequested) == 1 || (_client.IsConnected && DeliveryAllowed && outbox.DeliveredSeq < outbox.DurableSeq)))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), _time).ConfigureAwait(false);
            }
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_connectLoop, _appendLoop, _sendLoop).WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogStopTimedOut(_logger);
        }

        if (_client.IsConnected)
        {
            using var disconnectCts = new CancellationTokenSource(timeout, _time);
            try
            {
                // Sparkplug: an edge node going away on purpose publishes its NDEATH itself (a clean disconnect
                // discards the Will), with the bdSeq of this session.
                if (_will is { } will)
                {
                    await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(will.Topic).WithPayload(will.Payload)
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), disconnectCts.Token).ConfigureAwait(false);
                }

                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(),
                    disconnectCts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogDisconnectFailed(_logger, ex);
            }
        }

        var open = Interlocked.Exchange(ref _outbox, null);
        open?.Flush();
        open?.Dispose();
        if (_temporaryState)
        {
            try
            {
                Directory.Delete(_stateDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A temporary directory left behind is harmless.
            }
        }
    }

    /// <inheritdoc />
    public void Offer(in ControlSample sample, bool urgent)
    {
        lock (_slotGate)
        {
            _latest = sample;
            _hasSample = true;
        }

        if (urgent)
        {
            Interlocked.Exchange(ref _urgentRequested, 1);
            Pulse(_work);
        }
    }

    /// <inheritdoc />
    public void Offer(RobotEventRecord record) => Offer(record, ClassOf(record?.Kind ?? string.Empty));

    /// <summary>Offers an event of a known class (audit records come here with <see cref="OutboxRecordClass.Audit"/>); never blocks.</summary>
    public void Offer(RobotEventRecord record, OutboxRecordClass recordClass)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!_events.Writer.TryWrite((record, recordClass)))
        {
            Interlocked.Increment(ref _eventsDropped);
            LogEventQueueFull(_logger, record.Kind, _link.EventQueueCapacity);
            return;
        }

        Pulse(_work);
    }

    /// <summary>
    /// The outbox class of an event kind: safety-related kinds (shield, e-stop, board faults) are
    /// <see cref="OutboxRecordClass.Safety"/>, task and errand kinds <see cref="OutboxRecordClass.Task"/>, audit kinds
    /// <see cref="OutboxRecordClass.Audit"/>; all others <see cref="OutboxRecordClass.Event"/>. None is ever dropped by the cap.
    /// </summary>
    public static OutboxRecordClass ClassOf(string kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (kind.StartsWith("audit", StringComparison.Ordinal))
        {
            return OutboxRecordClass.Audit;
        }

        if (kind.Contains("estop", StringComparison.Ordinal) || kind.Contains("shield", StringComparison.Ordinal)
            || kind.Contains("safety", StringComparison.Ordinal) || kind.Contains("fault", StringComparison.Ordinal))
        {
            return OutboxRecordClass.Safety;
        }

        return kind.StartsWith("task", StringComparison.Ordinal) || kind.StartsWith("errand", StringComparison.Ordinal)
            ? OutboxRecordClass.Task
            : OutboxRecordClass.Event;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_cts is not null)
        {
            await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            _cts.Dispose();
        }

        _client.Dispose();
        _tls?.Dispose();
        _work.Dispose();
        _sendPulse.Dispose();
        _disconnected.Dispose();
    }

    private bool DeliveryAllowed
    {
        get
        {
            lock (_sparkplugGate)
            {
                return _sparkplug is null || _sparkplug.HostStateTopic is null || _sparkplug.State == SparkplugSessionState.Online;
            }
        }
    }

    private static void Pulse(SemaphoreSlim signal)
    {
        if (signal.CurrentCount == 0)
        {
            try
            {
                signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
            catch (ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }

    // Waits for a signal or the timeout on the injected clock (SemaphoreSlim's own timeout would use the wall clock).
    private async Task WaitAsync(SemaphoreSlim signal, TimeSpan timeout, CancellationToken ct)
    {
        using var timer = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            await signal.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Timed out.
        }
    }

    // ---- outbox and stream id -------------------------------------------------------------------------------

    private void TryOpenOutbox()
    {
        var directory = Path.Combine(_stateDirectory, "outbox");
        try
        {
            var outbox = DurableOutbox.Open(new OutboxOptions
            {
                Directory = directory,
                FsyncPolicy = _link.FsyncPolicy,
                GroupCommitInterval = _link.GroupCommitInterval,
                MaxBytes = _link.OutboxMaxBytes,
                HardMaxBytes = _link.OutboxHardMaxBytes,
                SegmentBytes = Math.Min(4L * 1024 * 1024, _link.OutboxMaxBytes),
                MaxRecordBytes = Math.Min(256 * 1024, (int)Math.Min(int.MaxValue, Math.Min(4L * 1024 * 1024, _link.OutboxMaxBytes) - 300)),
            }, time: _time, logger: _logger);
            foreach (var q in outbox.Recovery.Quarantined)
            {
                LogOutboxQuarantined(_logger, q.Segment, q.QuarantinedAs, q.Offset, q.Reason, q.RecordsKept);
            }

            _streamId = LoadStreamId(fresh: outbox.Recovery.Segments == 0);
            Volatile.Write(ref _outbox, outbox);
            LogOutboxOpen(_logger, directory, outbox.Recovery.Pending, _streamId.ToString("x16", CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            _outboxRetryAt = _time.GetTimestamp() + (long)(OutboxRetryPeriod.TotalSeconds * _time.TimestampFrequency);
            LogOutboxUnavailable(_logger, directory, ex.Message);
        }
    }

    private ulong LoadStreamId(bool fresh)
    {
        // A new stream id whenever the outbox starts empty: its seq restarts at 0, and the cloud must not take the
        // new records for duplicates of the old stream's.
        var path = Path.Combine(_stateDirectory, StreamIdFile);
        if (!fresh && File.Exists(path)
            && ulong.TryParse(File.ReadAllText(path).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var known) && known != 0)
        {
            return known;
        }

        Span<byte> bytes = stackalloc byte[8];
        ulong id;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            id = BitConverter.ToUInt64(bytes);
        }
        while (id == 0);

        var tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(id.ToString("x16", CultureInfo.InvariantCulture) + "\n"));
            stream.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
        return id;
    }

    // ---- append loop: the link's thread that stamps and stores records ----------------------------------------

    private async Task AppendLoopAsync(CancellationToken ct)
    {
        var periodTicks = (long)(_settings.TelemetryPeriod.TotalSeconds * _time.TimestampFrequency);
        var nextTelemetry = _time.GetTimestamp() + periodTicks;
        var acks = new List<(ValueTask<OutboxAppendResult> Ack, OutboxRecordClass Class)>(64);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var wait = TimeSpan.FromSeconds(Math.Max(0, nextTelemetry - _time.GetTimestamp()) / (double)_time.TimestampFrequency);
                if (wait > TimeSpan.Zero && Volatile.Read(ref _urgentRequested) == 0 && _events.Reader.Count == 0)
                {
                    await WaitAsync(_work, wait, ct).ConfigureAwait(false);
                }

                if (Outbox is null && _time.GetTimestamp() >= _outboxRetryAt)
                {
                    TryOpenOutbox();
                }

                while (_events.Reader.TryRead(out var item))
                {
                    StoreEvent(item.Record, item.Class, acks);
                }

                var now = _time.GetTimestamp();
                var urgent = Interlocked.Exchange(ref _urgentRequested, 0) == 1;
                if (urgent || now >= nextTelemetry)
                {
                    StoreTelemetry(acks);
                    nextTelemetry = now + periodTicks;
                }

                foreach (var (ack, recordClass) in acks)
                {
                    Acknowledged(await ack.ConfigureAwait(false), recordClass);
                }

                if (acks.Count > 0)
                {
                    acks.Clear();
                    Pulse(_sendPulse);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void StoreTelemetry(List<(ValueTask<OutboxAppendResult>, OutboxRecordClass)> acks)
    {
        ControlSample sample;
        lock (_slotGate)
        {
            if (!_hasSample)
            {
                return;
            }

            sample = _latest;
        }

        var outbox = Outbox;
        var seq = outbox?.NextSeq ?? 0;
        var telemetry = TelemetryMapper.ToTelemetry(sample, _settings.RobotId, _settings.SiteId, (ulong)seq, _time.GetUtcNow());
        telemetry.StreamId = _streamId;
        if (ModelHealthSource is { } health)
        {
            telemetry.ModelHealth = health(sample);
        }

        if (!TraceParent.IsValid(telemetry.TraceId))
        {
            // Telemetry without a plan starts a trace of its own, which the optimizer continues.
            telemetry.TraceId = TraceParent.NewRoot();
        }

        MirrorToSparkplug(telemetry);
        if (outbox is null)
        {
            Interlocked.Increment(ref _telemetryDropped);
            return;
        }

        acks.Add((outbox.AppendAsync(_settings.RobotId, OutboxRecordClass.Telemetry, telemetry.ToByteArray()), OutboxRecordClass.Telemetry));
    }

    private void StoreEvent(RobotEventRecord record, OutboxRecordClass recordClass, List<(ValueTask<OutboxAppendResult>, OutboxRecordClass)> acks)
    {
        var outbox = Outbox;
        if (outbox is null)
        {
            Interlocked.Increment(ref _eventsDropped);
            LogEventLost(_logger, record.Kind, "the outbox is not open");
            return;
        }

        var evt = new RobotEvent
        {
            RobotId = _settings.RobotId,
            Seq = (ulong)outbox.NextSeq,
            TimestampUnixMs = record.Timestamp.ToUnixTimeMilliseconds(),
            Kind = record.Kind,
            Detail = record.Detail,
            TraceId = record.TraceId ?? string.Empty,
            StreamId = _streamId,
            EventClass = recordClass.ToString().ToLowerInvariant(),
        };
        acks.Add((outbox.AppendAsync(_settings.RobotId, recordClass, evt.ToByteArray()), recordClass));
    }

    private void Acknowledged(OutboxAppendResult result, OutboxRecordClass recordClass)
    {
        switch (result.Rejection)
        {
            case OutboxRejection.None:
                Interlocked.Increment(ref _stored);
                break;
            case OutboxRejection.SyncFailed:
                // Written but maybe not on the platter: it is still delivered (it is in the log), counted apart.
                Interlocked.Increment(ref _stored);
                Interlocked.Increment(ref _syncFailures);
                break;
            default:
                Interlocked.Increment(ref recordClass == OutboxRecordClass.Telemetry ? ref _telemetryDropped : ref _eventsDropped);
                LogAppendRefused(_logger, recordClass, result.Rejection, result.Detail ?? string.Empty);
                break;
        }
    }

    private void MirrorToSparkplug(Telemetry telemetry)
    {
        if (_sparkplug is null)
        {
            return;
        }

        lock (_sparkplugGate)
        {
            RobotMetrics.Fill(telemetry, _metricValues);
            EnqueueSparkplug(_sparkplug.SetDevice(_settings.RobotId, _metricValues));
        }
    }

    // Called under _sparkplugGate so the queue order is the session's order.
    private void EnqueueSparkplug(IReadOnlyList<SparkplugMessage> messages)
    {
        foreach (var m in messages)
        {
            if (!_sparkplugOut.Writer.TryWrite(m))
            {
                Interlocked.Increment(ref _sparkplugDropped);
            }
        }

        if (messages.Count > 0)
        {
            Pulse(_sendPulse);
        }
    }

    // ---- connection ------------------------------------------------------------------------------------------

    private async Task ConnectLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await _disconnected.WaitAsync(ct).ConfigureAwait(false);
                await _connectPipeline.ExecuteAsync(ConnectOnceAsync, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async ValueTask ConnectOnceAsync(CancellationToken ct)
    {
        if (_client.IsConnected)
        {
            return;
        }

        var builder = _factory.CreateClientOptionsBuilder()
            .WithTcpServer(_settings.Host, _settings.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(_clientId)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(10))
            .WithTimeout(TimeSpan.FromSeconds(5));
        if (_tls is { } tls)
        {
            var serverName = _link.Tls.ServerName.Length > 0 ? _link.Tls.ServerName : _settings.Host;
            builder.WithTlsOptions(o => o.UseTls()
                .WithTargetHost(serverName)
                .WithClientCertificates([tls.Client])
                .WithCertificateValidationHandler(args => tls.ValidateServer(args.Certificate, args.SslPolicyErrors)));
        }

        if (_sparkplug is not null)
        {
            SparkplugMessage will;
            lock (_sparkplugGate)
            {
                will = _sparkplug.BeginConnect(); // the next bdSeq, persisted before it is registered
            }

            _will = will;
            builder.WithWillTopic(will.Topic).WithWillPayload(will.Payload).WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var result = await _client.ConnectAsync(builder.Build(), ct).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"broker {_settings.Host}:{_settings.Port} refused the connection: {result.ResultCode} {result.ReasonString}");
        }

        // Before subscribing: the retained host STATE may arrive before SubscribeAsync returns, and must find the
        // session waiting for it.
        if (_sparkplug is not null)
        {
            lock (_sparkplugGate)
            {
                // Whatever was queued for the previous MQTT session would now precede the birth: drop it (QoS 0 data).
                while (_sparkplugOut.Reader.TryRead(out _))
                {
                    Interlocked.Increment(ref _sparkplugDropped);
                }

                EnqueueSparkplug(_sparkplug.OnConnected());
            }
        }

        var subscribe = _factory.CreateSubscribeOptionsBuilder().WithTopicFilter(_commandsFilter, MqttQualityOfServiceLevel.AtLeastOnce);
        if (_sparkplug is not null)
        {
            subscribe.WithTopicFilter(_sparkplug.NodeCommandTopic, MqttQualityOfServiceLevel.AtMostOnce);
            if (_sparkplug.HostStateTopic is { } state)
            {
                subscribe.WithTopicFilter(state, MqttQualityOfServiceLevel.AtLeastOnce);
            }
        }

        foreach (var s in _subscriptions)
        {
            subscribe.WithTopicFilter(s.TopicFilter, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var granted = await _client.SubscribeAsync(subscribe.Build(), ct).ConfigureAwait(false);
        foreach (var item in granted.Items)
        {
            if ((int)item.ResultCode > (int)MqttClientSubscribeResultCode.GrantedQoS2)
            {
                LogSubscriptionRefused(_logger, item.TopicFilter.Topic, item.ResultCode.ToString());
            }
        }

        Interlocked.Increment(ref _connects);
        LogConnected(_logger, _settings.Host, _settings.Port, _tls is null ? "tcp" : "mutual TLS", _commandsFilter);
        Pulse(_sendPulse);
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs args)
    {
        if (_sparkplug is not null)
        {
            lock (_sparkplugGate)
            {
                _sparkplug.OnDisconnected();
            }
        }

        if (_cts is { IsCancellationRequested: false })
        {
            if (args.ClientWasConnected)
            {
                LogDisconnected(_logger, args.Reason.ToString(), args.Exception?.Message ?? string.Empty);
            }

            Pulse(_disconnected);
        }

        return Task.CompletedTask;
    }

    // ---- inbound ---------------------------------------------------------------------------------------------

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var message = args.ApplicationMessage;
        var topic = message.Topic;
        var model = topic == _modelTopic;
        var limit = model ? _link.MaxModelDeploymentBytes : _link.MaxCommandBytes;
        if (message.Payload.Length > limit)
        {
            Interlocked.Increment(ref _malformed);
            var option = model ? "MaxModelDeploymentBytes" : "MaxCommandBytes";
            LogMalformed(_logger, topic, message.Payload.Length, $"larger than Edge:Link:{option} {limit}");
            if (model)
            {
                // The rollout waits for an answer: the handler reports the refusal without reading the payload.
                ModelDeployments?.OfferOversize(message.Payload.Length);
            }

            return Task.CompletedTask;
        }

        ReadOnlySpan<byte> payload = message.Payload.IsSingleSegment ? message.Payload.FirstSpan : message.Payload.ToArray();
        if (topic.StartsWith(_commandsPrefix, StringComparison.Ordinal))
        {
            OnCommand(topic, topic[_commandsPrefix.Length..], message.CorrelationData, payload);
        }
        else if (_sparkplug is not null && topic == _sparkplug.NodeCommandTopic)
        {
            OnSparkplug(topic, payload, hostState: false);
        }
        else if (_sparkplug?.HostStateTopic is { } state && topic == state)
        {
            OnSparkplug(topic, payload, hostState: true);
        }
        else
        {
            foreach (var s in _subscriptions)
            {
                if (MqttTopicFilterComparer.Compare(topic, s.TopicFilter) == MqttTopicFilterCompareResult.IsMatch)
                {
                    s.OnMessage(topic, payload);
                }
            }
        }

        return Task.CompletedTask;
    }

    private void OnSparkplug(string topic, ReadOnlySpan<byte> payload, bool hostState)
    {
        SparkplugReaction reaction;
        lock (_sparkplugGate)
        {
            reaction = hostState ? _sparkplug!.OnHostState(payload) : _sparkplug!.OnNodeCommand(payload);
            EnqueueSparkplug(reaction.Messages);
        }

        if (reaction.Rejected is { } why)
        {
            LogSparkplugRejected(_logger, topic, why);
        }

        // Host state decides whether the outbox may deliver.
        Pulse(_sendPulse);
    }

    private void OnCommand(string topic, string leaf, byte[]? correlationData, ReadOnlySpan<byte> payload)
    {
        try
        {
            switch (leaf)
            {
                case "plan":
                    var segment = PlanSegment.Parser.ParseFrom(payload);
                    if (IsForMe(segment.RobotId, topic))
                    {
                        Interlocked.Increment(ref _commandsReceived);
                        _inbox.Post(segment);
                    }

                    break;
                case "grant":
                    var grant = GrantUpdate.Parser.ParseFrom(payload);
                    if (IsForMe(grant.RobotId, topic))
                    {
                        Interlocked.Increment(ref _commandsReceived);
                        _inbox.Post(grant);
                    }

                    break;
                case "task":
                    var task = TaskAssignment.Parser.ParseFrom(payload);
                    if (IsForMe(task.RobotId, topic))
                    {
                        Interlocked.Increment(ref _commandsReceived);
                        _inbox.Post(task);
                    }

                    break;
                case "escalation":
                    Escalation.OnResponse(correlationData, payload);
                    break;
                case "model":
                    if (ModelDeployments is { } deployments)
                    {
                        Interlocked.Increment(ref _commandsReceived);
                        deployments.Offer(payload); // checks and reports on its own; installs off this thread
                    }
                    else
                    {
                        LogUnknownCommand(_logger, topic);
                    }

                    break;
                default:
                    LogUnknownCommand(_logger, topic);
                    break;
            }
        }
        catch (InvalidProtocolBufferException ex)
        {
            Interlocked.Increment(ref _malformed);
            LogMalformed(_logger, topic, payload.Length, ex.Message);
        }
    }

    private bool IsForMe(string robotId, string topic)
    {
        if (robotId.Length == 0 || robotId == _settings.RobotId)
        {
            return true;
        }

        Interlocked.Increment(ref _malformed);
        LogMisaddressed(_logger, topic, robotId);
        return false;
    }

    // ---- sender ----------------------------------------------------------------------------------------------

    private async Task SendLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var worked = false;
                if (_client.IsConnected)
                {
                    worked |= await SendEscalationsAsync(ct).ConfigureAwait(false);
                    worked |= await SendSparkplugAsync(ct).ConfigureAwait(false);
                    if (DeliveryAllowed && Outbox is { } outbox)
                    {
                        worked |= await DeliverAsync(outbox, ct).ConfigureAwait(false);
                    }
                }

                if (!worked)
                {
                    // Woken by new records, a (re)connect, a host STATE or an escalation; the timeout only re-checks.
                    await WaitAsync(_sendPulse, TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task<bool> SendEscalationsAsync(CancellationToken ct)
    {
        var any = false;
        while (Escalation.TryDequeue(out var request, out var remainingMs))
        {
            any = true;
            var trace = TraceParent.IsValid(request.TraceId) ? request.TraceId : TraceParent.NewRoot();
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(_escalationRequestTopic)
                .WithPayload(request.ToByteArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithContentType("application/x-protobuf")
                .WithResponseTopic(_escalationResponseTopic)
                .WithCorrelationData(Encoding.UTF8.GetBytes(request.RequestId))
                .WithMessageExpiryInterval((uint)Math.Max(1, (remainingMs + 999) / 1000)) // the broker drops it once useless
                .WithUserProperty(TraceParent.PropertyName, Encoding.UTF8.GetBytes(trace).AsMemory())
                .Build();
            try
            {
                var result = await _client.PublishAsync(message, ct).ConfigureAwait(false);
                if (IsDelivered(result.ReasonCode))
                {
                    Escalation.Published();
                }
                else
                {
                    Escalation.Unsent(request);
                    LogPublishRefused(_logger, _escalationRequestTopic, -1, result.ReasonCode.ToString());
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                Escalation.Unsent(request);
                LogPublishFailed(_logger, _escalationRequestTopic, ex.Message);
                return true;
            }
        }

        return any;
    }

    private async Task<bool> SendSparkplugAsync(CancellationToken ct)
    {
        var any = false;
        while (_sparkplugOut.Reader.TryRead(out var m))
        {
            any = true;
            try
            {
                var message = new MqttApplicationMessageBuilder()
                    .WithTopic(m.Topic)
                    .WithPayload(m.Payload)
                    .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)m.QoS)
                    .Build();
                await _client.PublishAsync(message, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _sparkplugPublished);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // QoS 0 by specification: what the connection loses is lost; the next birth restates the values.
                Interlocked.Increment(ref _sparkplugDropped);
                LogPublishFailed(_logger, m.Topic, ex.Message);
                return true;
            }
        }

        return any;
    }

    // Publishes durable records in order with a window of MaxInFlight, and moves the cursor over every record
    // acknowledged without a gap. A failure stops the batch: the records after the cursor are sent again after the
    // reconnect (the cloud discards the duplicates by seq).
    private async Task<bool> DeliverAsync(DurableOutbox outbox, CancellationToken ct)
    {
        var batch = outbox.ReadPending(_link.MaxInFlight * 4);
        if (batch.Count == 0)
        {
            return false;
        }

        var window = new Queue<(OutboxRecord Record, Task<MqttClientPublishResult> Ack)>(_link.MaxInFlight);
        var next = 0;
        long delivered = -1;
        var stopped = false;
        while (!stopped && (next < batch.Count || window.Count > 0))
        {
            while (next < batch.Count && window.Count < _link.MaxInFlight)
            {
                var record = batch[next++];
                window.Enqueue((record, PublishRecordAsync(record, ct)));
            }

            var (sent, ack) = window.Dequeue();
            try
            {
                var result = await ack.ConfigureAwait(false);
                if (IsDelivered(result.ReasonCode))
                {
                    delivered = sent.Seq;
                    Interlocked.Increment(ref sent.Class == OutboxRecordClass.Telemetry ? ref _telemetryPublished : ref _eventsPublished);
                }
                else if (result.ReasonCode is MqttClientPublishReasonCode.NotAuthorized or MqttClientPublishReasonCode.TopicNameInvalid
                         or MqttClientPublishReasonCode.PayloadFormatInvalid)
                {
                    // Refused for good (e.g. an ACL that does not match this identity): retrying would block the queue.
                    delivered = sent.Seq;
                    Interlocked.Increment(ref _refusedByBroker);
                    LogPublishRefused(_logger, TopicOf(sent), sent.Seq, result.ReasonCode.ToString());
                }
                else
                {
                    stopped = true; // quota or server trouble: try again shortly
                    LogPublishRefused(_logger, TopicOf(sent), sent.Seq, result.ReasonCode.ToString());
                    await Task.Delay(TransientRefusalPause, _time, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                stopped = true;
                Interlocked.Increment(ref _publishFailures);
                LogPublishFailed(_logger, TopicOf(sent), ex.Message);
            }
        }

        foreach (var (_, ack) in window)
        {
            // Observe the abandoned publishes; whatever they did, the cursor stays at the last gap-free PUBACK.
            await ack.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (delivered >= 0)
        {
            outbox.MarkDelivered(delivered);
        }

        return !stopped;
    }

    private Task<MqttClientPublishResult> PublishRecordAsync(OutboxRecord record, CancellationToken ct)
    {
        try
        {
            var trace = TraceOf(record);
            var builder = new MqttApplicationMessageBuilder()
                .WithTopic(TopicOf(record))
                .WithPayload(record.Payload.ToArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithContentType("application/x-protobuf");
            if (trace is not null)
            {
                builder.WithUserProperty(TraceParent.PropertyName, Encoding.UTF8.GetBytes(trace).AsMemory());
            }

            return _client.PublishAsync(builder.Build(), ct);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Task.FromException<MqttClientPublishResult>(ex);
        }
    }

    private string TopicOf(OutboxRecord record) => record.Class == OutboxRecordClass.Telemetry ? _telemetryTopic : _eventsTopic;

    private static string? TraceOf(OutboxRecord record)
    {
        try
        {
            var trace = record.Class == OutboxRecordClass.Telemetry
                ? Telemetry.Parser.ParseFrom(record.Payload.Span).TraceId
                : RobotEvent.Parser.ParseFrom(record.Payload.Span).TraceId;
            return TraceParent.IsValid(trace) ? trace : null;
        }
        catch (InvalidProtocolBufferException)
        {
            return null; // the record is still delivered; the cloud counts it malformed
        }
    }

    private static bool IsDelivered(MqttClientPublishReasonCode code) =>
        code is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers;

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Connected to broker {Host}:{Port} ({Transport}), subscribed {Filter}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string transport, string filter);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Connecting to broker {Host}:{Port} failed (attempt {Attempt}), retrying in {Delay}: {Error}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, int attempt, TimeSpan delay, string error);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Disconnected from broker ({Reason}) {Error}")]
    private static partial void LogDisconnected(ILogger logger, string reason, string error);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Malformed command on {Topic} ({Length} bytes) dropped: {Error}")]
    private static partial void LogMalformed(ILogger logger, string topic, long length, string error);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Command on {Topic} addressed to robot '{RobotId}' dropped")]
    private static partial void LogMisaddressed(ILogger logger, string topic, string robotId);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Debug, Message = "Command on unknown topic {Topic} ignored")]
    private static partial void LogUnknownCommand(ILogger logger, string topic);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Publish to {Topic} failed (re-sent after the reconnect): {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Cloud link loops did not stop in time")]
    private static partial void LogStopTimedOut(ILogger logger);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug, Message = "Disconnect failed")]
    private static partial void LogDisconnectFailed(ILogger logger, Exception ex);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Cloud link state in the temporary directory {Directory}: records survive broker outages but not a restart (set Edge:Link:StateDirectory)")]
    private static partial void LogTemporaryState(ILogger logger, string directory);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Outbox {Directory} open: {Pending} records to deliver, stream {StreamId}")]
    private static partial void LogOutboxOpen(ILogger logger, string directory, long pending, string streamId);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Error, Message = "Outbox {Directory} cannot be opened (telemetry and events are dropped and counted until it can; retried): {Error}")]
    private static partial void LogOutboxUnavailable(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Error, Message = "Outbox segment {Segment} was corrupt at offset {Offset} ({Reason}): quarantined as {QuarantinedAs}, {Kept} records before it kept")]
    private static partial void LogOutboxQuarantined(ILogger logger, string segment, string quarantinedAs, long offset, string reason, int kept);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "Outbox refused a {Class} record ({Rejection}): {Detail}")]
    private static partial void LogAppendRefused(ILogger logger, OutboxRecordClass @class, OutboxRejection rejection, string detail);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Warning, Message = "Event '{Kind}' dropped: the in-memory queue of {Capacity} is full (the link's thread is behind)")]
    private static partial void LogEventQueueFull(ILogger logger, string kind, int capacity);

    [LoggerMessage(EventId = 3016, Level = LogLevel.Error, Message = "Event '{Kind}' lost: {Why}")]
    private static partial void LogEventLost(ILogger logger, string kind, string why);

    [LoggerMessage(EventId = 3017, Level = LogLevel.Error, Message = "Broker refused seq {Seq} on {Topic}: {Reason}")]
    private static partial void LogPublishRefused(ILogger logger, string topic, long seq, string reason);

    [LoggerMessage(EventId = 3018, Level = LogLevel.Error, Message = "Broker refused the subscription {Filter}: {Reason} (check the ACL for this device's identity)")]
    private static partial void LogSubscriptionRefused(ILogger logger, string filter, string reason);

    [LoggerMessage(EventId = 3019, Level = LogLevel.Warning, Message = "Sparkplug message on {Topic} ignored: {Reason}")]
    private static partial void LogSparkplugRejected(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "Sparkplug bdSeq store unreadable, starting at 0: {Problem}")]
    private static partial void LogBdSeqUnreadable(ILogger logger, string problem);
}
