using System.Buffers;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Edge.Control;

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
    string RobotId, string SiteId, string Host, int Port, TimeSpan TelemetryPeriod, TimeSpan ReconnectDelay, TimeSpan MaxReconnectDelay, int MapWidth);

/// <summary>Cloud link counters.</summary>
/// <param name="Connects">Successful connections.</param>
/// <param name="ConnectFailures">Failed connection attempts.</param>
/// <param name="TelemetryPublished">Telemetry messages published.</param>
/// <param name="TelemetryDropped">Telemetry not published (disconnected or publish failed).</param>
/// <param name="EventsPublished">Events published.</param>
/// <param name="EventsDropped">Events dropped (queue full or publish failed).</param>
/// <param name="CommandsReceived">Plan, grant and task messages accepted by the parser.</param>
/// <param name="MalformedCommands">Command payloads that failed to parse or were addressed to another robot.</param>
public readonly record struct CloudLinkCounters(
    long Connects, long ConnectFailures, long TelemetryPublished, long TelemetryDropped, long EventsPublished, long EventsDropped,
    long CommandsReceived, long MalformedCommands);

/// <summary>
/// The robot's MQTT 5 link to the cloud (MQTTnet): subscribes to its command topics and hands plan, grant and task
/// messages to the control loop's inbox; publishes protobuf <see cref="Telemetry"/> periodically and at once when
/// a step completes, and <see cref="RobotEvent"/>s. Reconnects with exponential backoff (Polly). Never blocks the
/// control loop: the loop offers its latest state into a slot and events into a bounded queue. While disconnected
/// routine telemetry is dropped and counted (the durable outbox of a later issue replaces that).
/// </summary>
public sealed partial class CloudLink : ITelemetrySink, IRobotEventSink, IAsyncDisposable
{
    private readonly CloudLinkSettings _settings;
    private readonly IPlanInbox _inbox;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly string _telemetryTopic;
    private readonly string _eventsTopic;
    private readonly string _commandsFilter;
    private readonly Channel<RobotEventRecord> _events = Channel.CreateBounded<RobotEventRecord>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Lock _slotGate = new();
    private readonly SemaphoreSlim _urgent = new(0, 1);
    private readonly SemaphoreSlim _disconnected = new(0, 1);
    private readonly ResiliencePipeline _connectPipeline;
    private ControlSample _latest;
    private bool _hasSample;
    private CancellationTokenSource? _cts;
    private Task _connectLoop = Task.CompletedTask;
    private Task _publishLoop = Task.CompletedTask;
    private ulong _telemetrySeq;
    private ulong _eventSeq;
    private long _connects;
    private long _connectFailures;
    private long _telemetryPublished;
    private long _telemetryDropped;
    private long _eventsPublished;
    private long _eventsDropped;
    private long _commandsReceived;
    private long _malformed;

    /// <summary>Creates a link; nothing connects until <see cref="StartAsync"/>.</summary>
    public CloudLink(CloudLinkSettings settings, IPlanInbox inbox, TimeProvider time, ILogger logger)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _inbox = inbox ?? throw new ArgumentNullException(nameof(inbox));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _telemetryTopic = FleetTopics.Telemetry(settings.SiteId, settings.RobotId);
        _eventsTopic = FleetTopics.Events(settings.SiteId, settings.RobotId);
        _commandsFilter = FleetTopics.RobotCommandsFilter(settings.SiteId, settings.RobotId);

        var factory = new MqttClientFactory();
        _client = factory.CreateMqttClient();
        _clientOptions = factory.CreateClientOptionsBuilder()
            .WithTcpServer(settings.Host, settings.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"edge-{settings.SiteId}-{settings.RobotId}")
            .WithCleanStart(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(10))
            .WithTimeout(TimeSpan.FromSeconds(5))
            .Build();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;

        _connectPipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
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

    /// <summary>Counters.</summary>
    public CloudLinkCounters Counters => new(
        Interlocked.Read(ref _connects), Interlocked.Read(ref _connectFailures), Interlocked.Read(ref _telemetryPublished),
        Interlocked.Read(ref _telemetryDropped), Interlocked.Read(ref _eventsPublished), Interlocked.Read(ref _eventsDropped),
        Interlocked.Read(ref _commandsReceived), Interlocked.Read(ref _malformed));

    /// <summary>Starts connecting (in the background, with retries) and publishing.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_cts is not null)
        {
            throw new InvalidOperationException("the cloud link is already started");
        }

        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _disconnected.Release();
        _connectLoop = Task.Run(() => ConnectLoopAsync(_cts.Token), CancellationToken.None);
        _publishLoop = Task.Run(() => PublishLoopAsync(_cts.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Publishes a last telemetry message if connected, stops the loops and disconnects.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_cts is null)
        {
            return;
        }

        if (_client.IsConnected)
        {
            using var lastCts = new CancellationTokenSource(timeout, _time);
            await PublishTelemetryAsync(lastCts.Token).ConfigureAwait(false);
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_connectLoop, _publishLoop).WaitAsync(timeout, _time).ConfigureAwait(false);
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
                await _client.DisconnectAsync(
                    new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(),
                    disconnectCts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogDisconnectFailed(_logger, ex);
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

        if (urgent && _urgent.CurrentCount == 0)
        {
            try
            {
                _urgent.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled: one publication carries the latest state anyway.
            }
        }
    }

    /// <inheritdoc />
    public void Offer(RobotEventRecord record)
    {
        if (!_events.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _eventsDropped);
        }
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
        _urgent.Dispose();
        _disconnected.Dispose();
    }

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

        var result = await _client.ConnectAsync(_clientOptions, ct).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"broker {_settings.Host}:{_settings.Port} refused the connection: {result.ResultCode} {result.ReasonString}");
        }

        var subscribe = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(_commandsFilter, MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        await _client.SubscribeAsync(subscribe, ct).ConfigureAwait(false);
        Interlocked.Increment(ref _connects);
        LogConnected(_logger, _settings.Host, _settings.Port, _commandsFilter);
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs args)
    {
        if (_cts is { IsCancellationRequested: false })
        {
            if (args.ClientWasConnected)
            {
                LogDisconnected(_logger, args.Reason.ToString(), args.Exception?.Message ?? string.Empty);
            }

            if (_disconnected.CurrentCount == 0)
            {
                try
                {
                    _disconnected.Release();
                }
                catch (SemaphoreFullException)
                {
                    // A reconnect is already due.
                }
            }
        }

        return Task.CompletedTask;
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var message = args.ApplicationMessage;
        var topic = message.Topic;
        var payload = message.Payload;
        try
        {
            if (topic.EndsWith("/cmd/plan", StringComparison.Ordinal))
            {
                var segment = PlanSegment.Parser.ParseFrom(payload);
                if (IsForMe(segment.RobotId, topic))
                {
                    Interlocked.Increment(ref _commandsReceived);
                    _inbox.Post(segment);
                }
            }
            else if (topic.EndsWith("/cmd/grant", StringComparison.Ordinal))
            {
                var grant = GrantUpdate.Parser.ParseFrom(payload);
                if (IsForMe(grant.RobotId, topic))
                {
                    Interlocked.Increment(ref _commandsReceived);
                    _inbox.Post(grant);
                }
            }
            else if (topic.EndsWith("/cmd/task", StringComparison.Ordinal))
            {
                var task = TaskAssignment.Parser.ParseFrom(payload);
                if (IsForMe(task.RobotId, topic))
                {
                    Interlocked.Increment(ref _commandsReceived);
                    _inbox.Post(task);
                }
            }
            else
            {
                LogUnknownCommand(_logger, topic);
            }
        }
        catch (InvalidProtocolBufferException ex)
        {
            Interlocked.Increment(ref _malformed);
            LogMalformed(_logger, topic, payload.Length, ex.Message);
        }

        return Task.CompletedTask;
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

    private async Task PublishLoopAsync(CancellationToken ct)
    {
        Task? urgentWait = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                urgentWait ??= _urgent.WaitAsync(ct);
                var delay = Task.Delay(_settings.TelemetryPeriod, _time, ct);
                var woke = await Task.WhenAny(urgentWait, delay).ConfigureAwait(false);
                if (woke == urgentWait)
                {
                    await urgentWait.ConfigureAwait(false);
                    urgentWait = null;
                }

                ct.ThrowIfCancellationRequested();
                await PublishTelemetryAsync(ct).ConfigureAwait(false);
                await PublishEventsAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task PublishTelemetryAsync(CancellationToken ct)
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

        if (!_client.IsConnected)
        {
            Interlocked.Increment(ref _telemetryDropped);
            return;
        }

        var telemetry = TelemetryMapper.ToTelemetry(sample, _settings.RobotId, _settings.SiteId, ++_telemetrySeq, _time.GetUtcNow());
        if (await TryPublishAsync(_telemetryTopic, telemetry, ct).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _telemetryPublished);
        }
        else
        {
            Interlocked.Increment(ref _telemetryDropped);
        }
    }

    private async Task PublishEventsAsync(CancellationToken ct)
    {
        // Events wait in their bounded queue while disconnected (oldest dropped when full).
        while (_client.IsConnected && _events.Reader.TryRead(out var record))
        {
            var evt = new RobotEvent
            {
                RobotId = _settings.RobotId,
                Seq = ++_eventSeq,
                TimestampUnixMs = record.Timestamp.ToUnixTimeMilliseconds(),
                Kind = record.Kind,
                Detail = record.Detail,
                TraceId = record.TraceId,
            };
            if (await TryPublishAsync(_eventsTopic, evt, ct).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _eventsPublished);
            }
            else
            {
                Interlocked.Increment(ref _eventsDropped);
            }
        }
    }

    private async Task<bool> TryPublishAsync(string topic, IMessage message, CancellationToken ct)
    {
        try
        {
            var mqtt = new MqttApplicationMessageBuilder()
                .WithTopic(topic)
                .WithPayload(message.ToByteArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithContentType("application/x-protobuf")
                .Build();
            var result = await _client.PublishAsync(mqtt, ct).ConfigureAwait(false);
            return result.IsSuccess;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // MQTTnet throws when the connection dropped between the check and the publish.
            LogPublishFailed(_logger, topic, ex.Message);
            return false;
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Connected to broker {Host}:{Port}, subscribed {Filter}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string filter);

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

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Publish to {Topic} failed: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Cloud link loops did not stop in time")]
    private static partial void LogStopTimedOut(ILogger logger);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug, Message = "Disconnect failed")]
    private static partial void LogDisconnectFailed(ILogger logger, Exception ex);
}
