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
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Cloud.Tasks;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>
/// The silo's link to the MQTT broker. Inbound: a shared subscription to every robot's telemetry
/// and events; each message is checked (<see cref="InboundMessage.Decode"/>) and handed to its
/// robot grain, and a bad one is counted by reason and dropped without disturbing the others.
/// Outbound: implements <see cref="IFleetCommandPublisher"/> with a bounded queue drained at QoS 1,
/// so grains never wait on the broker. Connects and reconnects with exponential backoff (Polly).
/// </summary>
public sealed partial class MqttBridge : BackgroundService, IFleetCommandPublisher, IModelDeploymentPublisher
{
    private readonly MqttBridgeOptions _options;
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<MqttBridge> _logger;
    private readonly MqttClientFactory _factory = new();
    private readonly IMqttClient _client;
    private readonly Channel<MqttApplicationMessage> _outbound;
    private readonly BridgeCounters _counters = new();
    private readonly ResiliencePipeline _connectPipeline;
    private readonly string _clientId;
    private readonly MqttTaskIntake _taskIntake;
    private readonly Channel<(MqttApplicationMessageReceivedEventArgs Args, InboundMessage Message)>[] _lanes;
    private bool _sharedRefused;
    private TaskCompletionSource _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _disconnectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the bridge (it connects when the host starts it).</summary>
    public MqttBridge(IOptions<MqttBridgeOptions> options, IGrainFactory grains, MqttTaskIntake taskIntake, TimeProvider timeProvider, ILogger<MqttBridge> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _taskIntake = taskIntake;
        _options = options.Value;
        _grains = grains;
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
        _lanes = Enumerable.Range(0, _options.InboundLanes)
            .Select(_ => Channel.CreateBounded<(MqttApplicationMessageReceivedEventArgs, InboundMessage)>(new BoundedChannelOptions(256) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }))
            .ToArray();
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
    public BridgeStats Stats => _counters.Snapshot(_client.IsConnected);

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
        var sender = Task.Run(() => SendLoopAsync(stoppingToken), CancellationToken.None);
        var lanes = _lanes.Select(l => Task.Run(() => LaneLoopAsync(l.Reader, stoppingToken), CancellationToken.None)).ToArray();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _connectPipeline.ExecuteAsync(ConnectAndSubscribeAsync, stoppingToken).ConfigureAwait(false);
                await Volatile.Read(ref _disconnectedSignal).Task.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }

        await sender.ConfigureAwait(false);
        await Task.WhenAll(lanes).ConfigureAwait(false);
    }

    private async ValueTask ConnectAndSubscribeAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _disconnectedSignal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var options = _factory.CreateClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(_clientId)
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .Build();
        var connected = await _client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
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

        _counters.Connected();
        LogConnected(_logger, _options.Host, _options.Port, _clientId);
        Volatile.Read(ref _connectedSignal).TrySetResult();
    }

    private MqttClientSubscribeOptions SubscribeOptions(bool shared)
    {
        string Filter(string filter) => shared ? FleetTopics.Shared(_options.SharedGroup, filter) : filter;
        return _factory.CreateSubscribeOptionsBuilder()
            .WithTopicFilter(Filter(FleetTopics.AllTelemetryFilter), MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter(Filter(FleetTopics.AllEventsFilter), MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter(Filter(FleetTopics.AllTaskSubmitFilter), MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
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
        if (FleetTopics.TryParseTaskSubmitTopic(args.ApplicationMessage.Topic, out var site))
        {
            await RouteTaskSubmissionAsync(args.ApplicationMessage, site).ConfigureAwait(false);
            return;
        }

        var message = InboundMessage.Decode(args.ApplicationMessage.Topic, args.ApplicationMessage.Payload, _options.MaxPayloadBytes);
        if (message.Rejection is { } reason)
        {
            _counters.Reject(reason);
            LogRejected(_logger, reason, message.Detail);
            return;
        }

        // Robots' records go to a lane chosen by robot id: one robot's records stay in order, different robots' grain
        // calls run side by side. The PUBACK goes when the grain has the record.
        var robot = message.Telemetry?.RobotId ?? message.Event!.RobotId;
        args.AutoAcknowledge = false;
        await _lanes[(int)((uint)StringComparer.Ordinal.GetHashCode(robot) % (uint)_lanes.Length)].Writer.WriteAsync((args, message)).ConfigureAwait(false);
    }

    private async Task LaneLoopAsync(ChannelReader<(MqttApplicationMessageReceivedEventArgs Args, InboundMessage Message)> lane, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (args, message) in lane.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await RouteAsync(message, args.ApplicationMessage.Topic).ConfigureAwait(false);
                try
                {
                    await args.AcknowledgeAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // The connection went meanwhile: the broker redelivers (QoS 1), the grain drops the duplicate.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    private async Task RouteAsync(InboundMessage message, string topic)
    {
        try
        {
            if (message.Telemetry is { } telemetry)
            {
                await _grains.GetGrain<IRobotGrain>(telemetry.RobotId).ReportTelemetryAsync(telemetry).ConfigureAwait(false);
                _counters.TelemetryRouted();
            }
            else if (message.Event is { } robotEvent)
            {
                await _grains.GetGrain<IRobotGrain>(robotEvent.RobotId).ReportEventAsync(robotEvent).ConfigureAwait(false);
                _counters.EventRouted();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _counters.Reject(RejectionReason.RoutingFailed);
            LogRoutingFailed(_logger, ex, topic);
        }
    }

    // Task intake (Tasks/MqttTaskIntake): the answer goes to the submission's response topic with its correlation data.
    private async Task RouteTaskSubmissionAsync(MqttApplicationMessage message, string site)
    {
        try
        {
            var reply = await _taskIntake.HandleAsync(site, message.Payload, message.ResponseTopic, message.CorrelationData, _options.MaxPayloadBytes).ConfigureAwait(false);
            if (reply is not null)
            {
                var mqtt = new MqttApplicationMessageBuilder()
                    .WithTopic(reply.Topic)
                    .WithPayload(reply.Reply.ToByteArray())
                    .WithCorrelationData(reply.CorrelationData)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build();
                await _outbound.Writer.WriteAsync(mqtt).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _counters.Reject(RejectionReason.RoutingFailed);
            LogRoutingFailed(_logger, ex, message.Topic);
        }
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

    // Sends queued commands in order, up to MaxInFlight awaiting their PUBACK at once (MQTTnet writes them to the wire
    // in call order, so one robot's commands keep their order); a failed publish is retried after the next (re)connect.
    private async Task SendLoopAsync(CancellationToken stoppingToken)
    {
        using var window = new SemaphoreSlim(_options.MaxInFlight, _options.MaxInFlight);
        try
        {
            await foreach (var message in _outbound.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await window.WaitAsync(stoppingToken).ConfigureAwait(false);
                await Volatile.Read(ref _connectedSignal).Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                _ = PublishAsync(message, window, stoppingToken);
            }

            // Drain: wait for the publishes still in flight.
            for (var i = 0; i < _options.MaxInFlight; i++)
            {
                await window.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping; queued commands are dropped (robots hold when the cloud goes quiet).
        }
    }

    private async Task PublishAsync(MqttApplicationMessage message, SemaphoreSlim window, CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                try
                {
                    await Volatile.Read(ref _connectedSignal).Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                    var result = await _client.PublishAsync(message, stoppingToken).ConfigureAwait(false);
                    if (result.IsSuccess)
                    {
                        _counters.Published();
                    }
                    else
                    {
                        _counters.PublishFailed();
                        LogPublishRefused(_logger, message.Topic, result.ReasonCode.ToString());
                    }

                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    _counters.PublishFailed();
                    LogPublishFailed(_logger, message.Topic, ex.Message);
                    await Task.Delay(_options.ReconnectDelay, _timeProvider, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
        finally
        {
            window.Release();
        }
    }

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

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "Broker {Host}:{Port} has no MQTT 5 shared subscriptions; this bridge subscribes directly (run one bridge per broker)")]
    private static partial void LogNoSharedSubscription(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "MQTT bridge disconnect failed: {Error}")]
    private static partial void LogDisconnectFailed(ILogger logger, string error);
}
