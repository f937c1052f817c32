using System.Buffers;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;

namespace WarehouseHybrid.Edge.Sensing;

/// <summary>Settings of the site sensor subscriber.</summary>
/// <param name="SiteId">The site.</param>
/// <param name="ClientId">MQTT client id (unique per robot).</param>
/// <param name="Host">Broker host.</param>
/// <param name="Port">Broker port.</param>
/// <param name="Zones">The site's zones in cell coordinates.</param>
/// <param name="ResolveInterval">How often the robot's zone is re-resolved from its pose between messages.</param>
/// <param name="ReconnectDelay">First reconnect delay (exponential backoff with jitter after that).</param>
/// <param name="MaxReconnectDelay">Longest reconnect delay.</param>
public sealed record SiteSensorSettings(
    string SiteId, string ClientId, string Host, int Port, IReadOnlyList<SiteZone> Zones, TimeSpan ResolveInterval,
    TimeSpan ReconnectDelay, TimeSpan MaxReconnectDelay);

/// <summary>
/// The second sensor source: subscribes to the site's sensor topics (<see cref="SiteSensorTopics"/>) on its own
/// MQTT connection, applies them to a <see cref="SiteSensorState"/> and publishes the conditions at the robot's
/// cell into the <see cref="SensorSnapshotStore"/> (on every message and every <see cref="SiteSensorSettings.ResolveInterval"/>,
/// as the robot moves between zones). Malformed messages are counted and logged with their topic, never applied.
/// The control loop never waits on it.
/// </summary>
public sealed partial class SiteSensorSubscriber : IAsyncDisposable
{
    private readonly SiteSensorSettings _settings;
    private readonly SensorSnapshotStore _store;
    private readonly Func<(int X, int Y)?> _robotCell;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SiteSensorState _state;
    private readonly Lock _gate = new();
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly ResiliencePipeline _connect;
    private readonly SemaphoreSlim _disconnected = new(1, 1);
    private CancellationTokenSource? _cts;
    private Task? _loop;
    private ITimer? _timer;
    private long _connects;

    /// <summary>Creates a subscriber; nothing connects until <see cref="StartAsync"/>.</summary>
    /// <param name="settings">Broker, site and zones.</param>
    /// <param name="store">Where the conditions go.</param>
    /// <param name="robotCell">The robot's current cell (x, y), null when not localised.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Logging.</param>
    public SiteSensorSubscriber(SiteSensorSettings settings, SensorSnapshotStore store, Func<(int X, int Y)?> robotCell, TimeProvider time, ILogger logger)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _robotCell = robotCell ?? throw new ArgumentNullException(nameof(robotCell));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _state = new SiteSensorState(settings.SiteId, settings.Zones);
        _client = new MqttClientFactory().CreateMqttClient();
        _options = new MqttClientOptionsBuilder()
            .WithTcpServer(settings.Host, settings.Port)
            .WithClientId(settings.ClientId)
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(5))
            .Build();
        _connect = new ResiliencePipelineBuilder { TimeProvider = time }
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
                    LogConnectFailed(_logger, _settings.Host, _settings.Port, args.Outcome.Exception?.Message ?? string.Empty);
                    return default;
                },
            })
            .Build();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
    }

    /// <summary>Whether the MQTT connection is up.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Successful connections.</summary>
    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>Messages applied.</summary>
    public long Applied
    {
        get
        {
            lock (_gate)
            {
                return _state.Applied;
            }
        }
    }

    /// <summary>Messages refused (malformed or unknown).</summary>
    public long Rejected
    {
        get
        {
            lock (_gate)
            {
                return _state.Rejected;
            }
        }
    }

    /// <summary>Starts connecting in the background (returns at once) and the zone re-resolution timer.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_cts is not null)
        {
            throw new InvalidOperationException("the site sensor subscriber is already started");
        }

        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ct = _cts.Token;
        _loop = Task.Run(() => ConnectLoopAsync(ct), CancellationToken.None);
        _timer = _time.CreateTimer(static s => ((SiteSensorSubscriber)s!).Resolve(), this, _settings.ResolveInterval, _settings.ResolveInterval);
        return Task.CompletedTask;
    }

    /// <summary>Stops and disconnects within <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _timer?.Dispose();
        if (_cts is null)
        {
            return;
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_client.IsConnected)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptions(), cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                // Leaving anyway.
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        _cts?.Dispose();
        _client.Dispose();
        _disconnected.Dispose();
    }

    private void Resolve()
    {
        SiteConditions c;
        lock (_gate)
        {
            c = _state.Resolve(_robotCell());
        }

        _store.PublishSite(c);
    }

    private async Task ConnectLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await _disconnected.WaitAsync(ct).ConfigureAwait(false);
                await _connect.ExecuteAsync(ConnectOnceAsync, ct).ConfigureAwait(false);
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

        var result = await _client.ConnectAsync(_options, ct).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"broker {_settings.Host}:{_settings.Port} refused the connection: {result.ResultCode}");
        }

        var filter = SiteSensorTopics.Filter(_settings.SiteId);
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct).ConfigureAwait(false);
        Interlocked.Increment(ref _connects);
        LogConnected(_logger, _settings.Host, _settings.Port, filter);
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs args)
    {
        if (_cts is { IsCancellationRequested: false } && _disconnected.CurrentCount == 0)
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

        return Task.CompletedTask;
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var message = args.ApplicationMessage;
        ReadOnlySpan<byte> payload = message.Payload.IsSingleSegment ? message.Payload.FirstSpan : message.Payload.ToArray();
        bool ok;
        string error;
        SiteConditions c = default;
        lock (_gate)
        {
            ok = _state.TryApply(message.Topic, payload, _time.GetTimestamp(), out error);
            if (ok)
            {
                c = _state.Resolve(_robotCell());
            }
        }

        if (ok)
        {
            _store.PublishSite(c);
            if (c.EmergencyStop)
            {
                LogSiteEStop(_logger, message.Topic);
            }
        }
        else
        {
            LogRejected(_logger, error);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Site sensors: connected to {Host}:{Port}, subscribed to {Filter}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string filter);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Site sensors: connecting to {Host}:{Port} failed: {Error}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, string error);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Site sensor message refused: {Error}")]
    private static partial void LogRejected(ILogger logger, string error);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Site emergency stop engaged ({Topic})")]
    private static partial void LogSiteEStop(ILogger logger, string topic);
}
