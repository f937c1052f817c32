using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Security;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Contracts.Tracing;

namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>
/// The silo's link to the MQTT broker. Inbound: an MQTT 5 shared subscription (<c>$share/{group}/...</c>, so several
/// silos split the load) to the filter of every <see cref="IBridgeRoute"/> (telemetry, events, escalation requests,
/// task submissions, and whatever other features register); each message is copied into a bounded partition (one per
/// robot hash, so a robot's records stay in order) and handed to its route, and a bad one is counted by reason and
/// dropped without disturbing the others. The PUBACK goes only when the route has handled the message, so what the
/// broker was told is received is already in its grain (a silo that dies loses nothing acknowledged: the broker
/// delivers the rest again). A full partition holds up the MQTT receive path, so backpressure reaches the broker
/// instead of memory growing. Outbound: implements <see cref="IFleetCommandPublisher"/>,
/// <see cref="IModelDeploymentPublisher"/> and <see cref="IBridgeReplies"/> with a bounded queue drained at QoS 1 with
/// up to <see cref="MqttBridgeOptions.MaxInFlight"/> publishes awaiting their PUBACK, in order, so grains never wait
/// on the broker. Announces itself as the Sparkplug primary host (<see cref="MqttBridgeOptions.PrimaryHostId"/>).
/// Connects and reconnects with exponential backoff (Polly), over mutual TLS when configured.
/// </summary>
public sealed partial class MqttBridge : BackgroundService, IFleetCommandPublisher, IModelDeploymentPublisher, IBridgeReplies
{
    private readonly MqttBridgeOptions _options;
    private readonly IReadOnlyList<IBridgeRoute> _routes;
    private readonly Channel<Ingress>[] _partitions;
    private LoadedClientTls? _tls;
    private long _stateTimestamp;
    private long _queuedHighWater;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<MqttBridge> _logger;
    private readonly MqttClientFactory _factory = new();
    private readonly IMqttClient _client;
    private readonly Channel<MqttApplicationMessage> _outbound;
    private readonly BridgeCounters _counters = new();
    private readonly ResiliencePipeline _connectPipeline;
    private readonly string _clientId;
    private bool _sharedRefused;
    private CancellationToken _stopping;
    private TaskCompletionSource _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _disconnectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pendingPublishes;
    private int _connection;
    private TaskCompletionSource? _publishesSettled;

    /// <summary>Creates the bridge (it connects when the host starts it).</summary>
    public MqttBridge(IOptions<MqttBridgeOptions> options, IEnumerable<IBridgeRoute> routes, TimeProvider timeProvider, ILogger<MqttBridge> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(routes);
        _options = options.Value;
        _routes = [.. routes];
        _partitions = new Channel<Ingress>[_options.IngressPartitions];
        for (var i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = Channel.CreateBounded<Ingress>(new BoundedChannelOptions(_options.IngressCapacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }

        _timeProvider = timeProvider;
        _logger = logger;
        _clientId = _options.ClientId.Length > 0 ? _options.ClientId : $"cloud-bridge-{Guid.NewGuid():N}";
        _client = _factory.CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _outbound = Channel.CreateBounded<MqttApplicationMessage>(new BoundedChannelOptions(_options.OutboundCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _connectPipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.ReconnectDelay,
                MaxDelay = _options.ReconnectMaxDelay,
                OnRetry = args =>
                {
                    LogConnectFailed(_logger, _options.Host, _options.Port, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message ?? "unknown");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>The bridge's counters now.</summary>
    public BridgeStats Stats => _counters.Snapshot(_client.IsConnected) with
    {
        IngressQueued = QueuedInPartitions(),
        IngressHighWater = Interlocked.Read(ref _queuedHighWater),
        IngressCapacity = (long)_options.IngressCapacity * _options.IngressPartitions,
    };

    /// <inheritdoc />
    public bool TryReply(string topic, IMessage message, byte[]? correlationData, string? traceParent, TimeSpan? expiresIn)
    {
        ArgumentNullException.ThrowIfNull(message);
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(message.ToByteArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType("application/x-protobuf");
        if (expiresIn is { } expiry)
        {
            builder.WithMessageExpiryInterval((uint)Math.Max(1, Math.Ceiling(expiry.TotalSeconds)));
        }

        if (correlationData is not null)
        {
            builder.WithCorrelationData(correlationData);
        }

        if (TraceParent.IsValid(traceParent))
        {
            builder.WithUserProperty(TraceParent.PropertyName, System.Text.Encoding.UTF8.GetBytes(traceParent).AsMemory());
        }

        return _outbound.Writer.TryWrite(builder.Build());
    }

    /// <summary>Completes when the bridge is connected and subscribed.</summary>
    public Task WhenConnectedAsync(CancellationToken cancellationToken = default) => Volatile.Read(ref _connectedSignal).Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask PublishPlanAsync(string siteId, PlanSegment segment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return Enqueue(FleetTopics.Plan(siteId, segment.RobotId), segment, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PublishTaskAsync(string siteId, TaskAssignment assignment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        return Enqueue(FleetTopics.Task(siteId, assignment.RobotId), assignment, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PublishGrantAsync(string siteId, GrantUpdate grant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return Enqueue(FleetTopics.Grant(siteId, grant.RobotId), grant, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PublishModelAsync(string siteId, ModelDeployment deployment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return Enqueue(FleetTopics.Model(siteId, deployment.RobotId), deployment, cancellationToken);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _client.Dispose();
        _tls?.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_client.IsConnected)
        {
            try
            {
                if (_options.PrimaryHostId.Length > 0)
                {
                    // Leaving on purpose: say so (a clean disconnect discards the Will).
                    await _client.PublishAsync(StateMessage(online: false), cancellationToken).ConfigureAwait(false);
                }

                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogDisconnectFailed(_logger, ex.Message);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        if (_options.Tls.Enabled)
        {
            _tls = _options.Tls.Load();
        }

        var sender = Task.Run(() => SendLoopAsync(stoppingToken), CancellationToken.None);
        var workers = _partitions.Select(p => Task.Run(() => RouteLoopAsync(p.Reader, stoppingToken), CancellationToken.None)).ToArray();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _connectPipeline.ExecuteAsync(ConnectAndSubscribeAsync, stoppingToken).ConfigureAwait(false);
                await Volatile.Read(ref _disconnectedSignal).Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                await WhenPublishesSettledAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }

        await sender.ConfigureAwait(false);
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    private async ValueTask ConnectAndSubscribeAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _disconnectedSignal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var builder = _factory.CreateClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(_clientId)
            // A persistent session (docs/adr/0010-link.md): what the broker accepted while this bridge was away, or
            // had sent it without its PUBACK, is delivered on reconnect; duplicates are the grains' to drop by seq.
            .WithCleanStart(_options.SessionExpiry == TimeSpan.Zero)
            .WithSessionExpiryInterval((uint)_options.SessionExpiry.TotalSeconds)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15));
        if (_tls is { } tls)
        {
            var serverName = _options.Tls.ServerName.Length > 0 ? _options.Tls.ServerName : _options.Host;
            builder.WithTlsOptions(o => o.UseTls()
                .WithTargetHost(serverName)
                .WithClientCertificates([tls.Client])
                .WithCertificateValidationHandler(args => tls.ValidateServer(args.Certificate, args.SslPolicyErrors)));
        }

        if (_options.PrimaryHostId.Length > 0)
        {
            // Sparkplug 3.0: the Will carries the same timestamp as the online STATE of this session.
            Interlocked.Exchange(ref _stateTimestamp, _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            builder.WithWillTopic(SparkplugTopic.State(_options.PrimaryHostId))
                .WithWillPayload(new SparkplugHostState(false, Interlocked.Read(ref _stateTimestamp)).Encode()).WithWillRetain(true).WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var connected = await _client.ConnectAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        if (_options.SessionExpiry > TimeSpan.Zero)
        {
            if (connected.IsSessionPresent)
            {
                _counters.SessionResumed();
                LogSessionResumed(_logger, _clientId);
            }
            else if (Volatile.Read(ref _connection) > 0)
            {
                _counters.SessionLost();
                LogSessionLost(_logger, _clientId, _options.Host, _options.Port);
            }
        }

        try
        {
            // Subscribed every time, session or not: idempotent on a present session (MQTT 5 replaces a subscription
            // with the same filter, nothing queued is lost), and the only way back after a lost one.
            // MQTT 5 brokers announce shared-subscription support in CONNACK; the in-process MQTTnet
            // broker has none, and a single bridge is then subscribed directly.
            var useShared = _options.SharedGroup.Length > 0 && connected.SharedSubscriptionAvailable && !_sharedRefused;
            var result = await _client.SubscribeAsync(SubscribeOptions(useShared), cancellationToken).ConfigureAwait(false);
            if (useShared && result.Items.Any(i => i.ResultCode == MqttClientSubscribeResultCode.SharedSubscriptionsNotSupported))
            {
                _sharedRefused = true;
                result = await _client.SubscribeAsync(SubscribeOptions(false), cancellationToken).ConfigureAwait(false);
            }

            if (_options.SharedGroup.Length > 0 && (!useShared || _sharedRefused))
            {
                LogNoSharedSubscription(_logger, _options.Host, _options.Port);
            }

            foreach (var item in result.Items)
            {
                if ((int)item.ResultCode > (int)MqttClientSubscribeResultCode.GrantedQoS2)
                {
                    throw new InvalidOperationException($"broker {_options.Host}:{_options.Port} refused subscription '{item.TopicFilter.Topic}': {item.ResultCode}");
                }
            }
        }
        catch
        {
            // Leave the client disconnected so the next attempt can connect again.
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        if (_options.PrimaryHostId.Length > 0)
        {
            await _client.PublishAsync(StateMessage(online: true), cancellationToken).ConfigureAwait(false);
        }

        _counters.Connected();
        LogConnected(_logger, _options.Host, _options.Port, _clientId);
        Interlocked.Increment(ref _connection);
        Volatile.Read(ref _connectedSignal).TrySetResult();
    }

    private MqttClientSubscribeOptions SubscribeOptions(bool shared)
    {
        string Filter(string filter) => shared ? FleetTopics.Shared(_options.SharedGroup, filter) : filter;
        var builder = _factory.CreateSubscribeOptionsBuilder();
        foreach (var route in _routes)
        {
            builder.WithTopicFilter(Filter(route.TopicFilter), MqttQualityOfServiceLevel.AtLeastOnce);
        }

        if (_options.PrimaryHostId.Length > 0)
        {
            // Not shared: every bridge watches the host STATE (see OnStateAsync).
            builder.WithTopicFilter(SparkplugTopic.State(_options.PrimaryHostId), MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return builder.Build();
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs args)
    {
        if (args.ClientWasConnected)
        {
            LogDisconnected(_logger, args.Reason.ToString());
            Interlocked.Exchange(ref _connectedSignal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        Volatile.Read(ref _disconnectedSignal).TrySetResult();
        return Task.CompletedTask;
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var m = args.ApplicationMessage;
        var topic = m.Topic;
        if (_options.PrimaryHostId.Length > 0 && topic == SparkplugTopic.State(_options.PrimaryHostId))
        {
            OnHostState(m.Payload);
            return;
        }

        IBridgeRoute? route = null;
        foreach (var r in _routes)
        {
            if (MqttTopicFilterComparer.Compare(topic, r.TopicFilter) == MqttTopicFilterCompareResult.IsMatch)
            {
                route = r;
                break;
            }
        }

        if (route is null)
        {
            var reason = FleetTopics.TryParseRobotTopic(topic, out _, out _, out _) ? RejectionReason.UnknownLeaf : RejectionReason.TopicInvalid;
            Reject(reason, $"topic '{topic}' has no route");
            return;
        }

        if (m.Payload.Length > _options.MaxPayloadBytes)
        {
            Reject(RejectionReason.PayloadTooLarge, $"topic '{topic}': payload of {m.Payload.Length} bytes exceeds the limit of {_options.MaxPayloadBytes}");
            return;
        }

        // The payload buffer belongs to MQTTnet only for this callback: copy it (it is at most MaxPayloadBytes).
        var message = new BridgeMessage(topic, System.Buffers.BuffersExtensions.ToArray(m.Payload), TraceOf(m), m.ResponseTopic, m.CorrelationData);
        var partition = _partitions[(int)((uint)StringComparer.Ordinal.GetHashCode(PartitionKey(message)) % (uint)_partitions.Length)];

        // Acknowledged by the partition's worker once the route has handled it (see RouteLoopAsync).
        args.AutoAcknowledge = false;
        var ingress = new Ingress(route, message, args);
        if (!partition.Writer.TryWrite(ingress))
        {
            // Full: hold the receive path until there is room: the broker keeps the backlog.
            _counters.BackpressureWait();
            try
            {
                await partition.Writer.WriteAsync(ingress, _stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // stopping: not acknowledged, the broker delivers it again
            }
        }

        // Counted from the channels themselves: a counter beside them could run ahead of a reader that has taken a
        // message but not yet counted it, and report more than the bound.
        var queued = QueuedInPartitions();
        long high;
        while (queued > (high = Interlocked.Read(ref _queuedHighWater)) && Interlocked.CompareExchange(ref _queuedHighWater, queued, high) != high)
        {
            // Retry until the high-water mark is at least this.
        }
    }

    private long QueuedInPartitions()
    {
        long queued = 0;
        foreach (var partition in _partitions)
        {
            queued += partition.Reader.Count;
        }

        return queued;
    }

    // Robot topics by robot (one robot's records in order); requests off the robot tree by their response topic (one
    // requester's submissions in order, requesters in parallel), else by topic (e.g. one site's submit topic).
    private static string PartitionKey(BridgeMessage message) =>
        FleetTopics.TryParseRobotTopic(message.Topic, out _, out var robot, out _) ? robot
        : !string.IsNullOrEmpty(message.ResponseTopic) ? message.ResponseTopic
        : message.Topic;

    private async Task RouteLoopAsync(ChannelReader<Ingress> reader, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (route, message, args) in reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var outcome = await route.HandleAsync(message, stoppingToken).ConfigureAwait(false);
                    if (outcome.Rejection is { } reason)
                    {
                        Reject(reason, outcome.Detail);
                    }
                    else
                    {
                        _counters.Routed(route);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
                {
                    // Acknowledged all the same: a message its grain refuses would come back on every reconnect.
                    _counters.Reject(RejectionReason.RoutingFailed);
                    LogRoutingFailed(_logger, ex, message.Topic);
                }

                await AcknowledgeAsync(args, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping: what was not handled is not acknowledged; the broker delivers it again.
        }
    }

    private async Task AcknowledgeAsync(MqttApplicationMessageReceivedEventArgs args, CancellationToken stoppingToken)
    {
        try
        {
            await args.AcknowledgeAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // The connection went meanwhile: the broker delivers the message again, the grain drops the duplicate.
            _counters.AcknowledgeFailed();
        }
    }

    private void Reject(RejectionReason reason, string detail)
    {
        _counters.Reject(reason);
        LogRejected(_logger, reason, detail);
    }

    private static string? TraceOf(MqttApplicationMessage m)
    {
        if (m.UserProperties is not { Count: > 0 } properties)
        {
            return null;
        }

        foreach (var p in properties)
        {
            if (p.Name == TraceParent.PropertyName)
            {
                var value = System.Text.Encoding.UTF8.GetString(p.ValueBuffer.Span);
                return TraceParent.IsValid(value) ? value : null;
            }
        }

        return null;
    }

    private MqttApplicationMessage StateMessage(bool online) =>
        new MqttApplicationMessageBuilder()
            .WithTopic(SparkplugTopic.State(_options.PrimaryHostId))
            .WithPayload(new SparkplugHostState(online, Interlocked.Read(ref _stateTimestamp)).Encode())
            .WithRetainFlag(true)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();

    // Several bridges share one primary host id. When the newest of them dies its Will marks the host offline although
    // others live on: a live bridge that sees an offline STATE newer than its own announcement reconnects, so it
    // announces online again with a fresh timestamp (and registers a Will with that timestamp).
    private void OnHostState(System.Buffers.ReadOnlySequence<byte> payload)
    {
        var bytes = System.Buffers.BuffersExtensions.ToArray(payload);
        if (!SparkplugHostState.TryParse(bytes, out var state, out _) || state.Online || state.TimestampMs < Interlocked.Read(ref _stateTimestamp))
        {
            return;
        }

        if (state.TimestampMs == Interlocked.Read(ref _stateTimestamp))
        {
            return; // our own retained Will from an earlier session of the same millisecond: nothing to do
        }

        LogReannounce(_logger, _options.PrimaryHostId, state.TimestampMs);
        _ = Task.Run(async () =>
        {
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogDisconnectFailed(_logger, ex.Message);
            }
        });
    }

    private ValueTask Enqueue(string topic, IMessage message, CancellationToken cancellationToken)
    {
        var mqtt = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(message.ToByteArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        return _outbound.Writer.WriteAsync(mqtt, cancellationToken);
    }

    // Sends queued commands in order with up to MaxInFlight awaiting their PUBACK (MQTTnet writes them to the wire in
    // call order, so one robot's commands arrive in the order its grains queued them). A failed publish sends it and
    // every command after it again, in order, once the bridge is reconnected (like the edge's outbox sender; the edge
    // takes repeated commands as the same). A refusal by the broker is counted and not retried.
    private async Task SendLoopAsync(CancellationToken stoppingToken)
    {
        var window = new Queue<(MqttApplicationMessage Message, Task<MqttClientPublishResult> Ack, int Connection)>(_options.MaxInFlight);
        var again = new List<MqttApplicationMessage>();
        var next = 0;
        try
        {
            while (true)
            {
                // Nothing goes out on a new connection while publishes of an earlier one are still to be judged: one of
                // them may have failed, and it and everything after it must go again first, in order.
                while (window.Count < _options.MaxInFlight)
                {
                    await Volatile.Read(ref _connectedSignal).Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                    if ((window.Count > 0 && window.Peek().Connection != Volatile.Read(ref _connection)) || !TryNext(out var message))
                    {
                        break;
                    }

                    window.Enqueue((message, PublishOneAsync(message, stoppingToken), Volatile.Read(ref _connection)));
                }

                if (window.Count == 0)
                {
                    if (!await _outbound.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                var (sent, ack, _) = window.Dequeue();
                try
                {
                    var result = await ack.ConfigureAwait(false);
                    if (result.IsSuccess)
                    {
                        _counters.Published();
                    }
                    else
                    {
                        _counters.PublishFailed();
                        LogPublishRefused(_logger, sent.Topic, result.ReasonCode.ToString());
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
                {
                    // Includes a cancelled PUBACK wait: MQTTnet cancels the pending ones when the connection drops.
                    _counters.PublishFailed();
                    LogPublishFailed(_logger, sent.Topic, ex.Message);

                    // This one and everything after it go again, in order, ahead of what is still to be read.
                    var resend = new List<MqttApplicationMessage>(window.Count + 1 + again.Count - next) { sent };
                    while (window.TryDequeue(out var later))
                    {
                        await later.Ack.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                        resend.Add(later.Message);
                    }

                    resend.AddRange(again.Skip(next));
                    again = resend;
                    next = 0;
                    await Task.Delay(_options.ReconnectDelay, _timeProvider, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping; queued commands are dropped (robots hold when the cloud goes quiet).
        }

        bool TryNext(out MqttApplicationMessage message)
        {
            if (next < again.Count)
            {
                message = again[next++];
                if (next == again.Count)
                {
                    again.Clear();
                    next = 0;
                }

                return true;
            }

            return _outbound.Reader.TryRead(out message!);
        }
    }

    private Task<MqttClientPublishResult> PublishOneAsync(MqttApplicationMessage message, CancellationToken stoppingToken)
    {
        Task<MqttClientPublishResult> publish;
        try
        {
            publish = _client.PublishAsync(message, stoppingToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Task.FromException<MqttClientPublishResult>(ex);
        }

        return publish.IsCompleted ? publish : TrackAsync(publish);
    }

    // Counts a publish until it completes (acknowledged or failed), for WhenPublishesSettledAsync.
    private async Task<MqttClientPublishResult> TrackAsync(Task<MqttClientPublishResult> publish)
    {
        Interlocked.Increment(ref _pendingPublishes);
        try
        {
            return await publish.ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.Decrement(ref _pendingPublishes) == 0)
            {
                Volatile.Read(ref _publishesSettled)?.TrySetResult();
            }
        }
    }

    // Before connecting again, every publish of the lost connection must have completed: MQTTnet writes a publish
    // that was still waiting for the client's send path on whatever connection the client has when it gets there, so
    // a command queued behind the failure could reach the broker on the new connection ahead of the ones the send
    // loop resends, and one robot's commands would arrive out of order (BridgeDeliveryTests). They fail quickly once
    // the client is disconnected; the wait is bounded all the same.
    private async Task WhenPublishesSettledAsync(CancellationToken stoppingToken)
    {
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _publishesSettled, settled);
        if (Volatile.Read(ref _pendingPublishes) == 0)
        {
            return;
        }

        try
        {
            await settled.Task.WaitAsync(TimeSpan.FromSeconds(10), _timeProvider, stoppingToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogPublishesUnsettled(_logger, Volatile.Read(ref _pendingPublishes));
        }
    }

    /// <summary>A message waiting in an ingress partition, with what acknowledges it to the broker.</summary>
    private readonly record struct Ingress(IBridgeRoute Route, BridgeMessage Message, MqttApplicationMessageReceivedEventArgs Args);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "MQTT bridge connected to {Host}:{Port} as {ClientId}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string clientId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "MQTT bridge cannot reach {Host}:{Port} (attempt {Attempt}, next in {DelayMs} ms): {Error}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, int attempt, double delayMs, string error);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "MQTT bridge disconnected: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "MQTT message rejected ({Reason}): {Detail}")]
    private static partial void LogRejected(ILogger logger, RejectionReason reason, string detail);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "MQTT message on {Topic} could not be handed to its grain")]
    private static partial void LogRoutingFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Publish on {Topic} failed, retrying: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Publish on {Topic} refused by the broker: {Reason}")]
    private static partial void LogPublishRefused(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Warning, Message = "Reconnecting with {Count} publishes of the lost connection still pending after 10 s; order across the reconnect is not guaranteed for them")]
    private static partial void LogPublishesUnsettled(ILogger logger, int count);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "Broker {Host}:{Port} has no MQTT 5 shared subscriptions; this bridge subscribes directly (run one bridge per broker)")]
    private static partial void LogNoSharedSubscription(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Primary host {HostId} marked offline by another bridge's Will ({Timestamp}); reconnecting to announce it online")]
    private static partial void LogReannounce(ILogger logger, string hostId, long timestamp);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Information, Message = "MQTT bridge resumed its session {ClientId}: the broker delivers what it queued meanwhile")]
    private static partial void LogSessionResumed(ILogger logger, string clientId);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Warning, Message = "Broker {Host}:{Port} had no session for {ClientId} any more (expired, or lost in a broker crash): messages it held for this bridge are gone")]
    private static partial void LogSessionLost(ILogger logger, string clientId, string host, int port);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "MQTT bridge disconnect failed: {Error}")]
    private static partial void LogDisconnectFailed(ILogger logger, string error);
}
