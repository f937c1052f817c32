using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Hil.Scenarios;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>How the rig's <see cref="TelemetryObserver"/> keeps its session on the broker.</summary>
public sealed record TelemetryObserverOptions
{
    /// <summary>
    /// How long the broker keeps the observer's session (its subscription and the QoS 1 messages queued for it)
    /// while the observer is away: longer than any outage a run can have, so an hour by default (a 10-minute soak).
    /// </summary>
    public TimeSpan SessionExpiry { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The MQTT client id, kept for the observer's lifetime (a session is found by it); null: a new random one, so
    /// a run's judge never resumes an older run's session. A fixed id resumes whatever session the broker has for it.
    /// </summary>
    public string? ClientId { get; init; }

    /// <summary>Throws naming the first bad setting.</summary>
    public void Validate()
    {
        if (SessionExpiry < TimeSpan.FromSeconds(1) || SessionExpiry.TotalSeconds >= uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(SessionExpiry), SessionExpiry, "TelemetryObserverOptions.SessionExpiry must be at least 1 s and below 2^32 s (MQTT 5 session expiry interval)");
        }

        if (ClientId is { } id && (id.Length is 0 or > 128 || id.Any(char.IsControl) || id.Contains('/', StringComparison.Ordinal) || id.Contains('+', StringComparison.Ordinal) || id.Contains('#', StringComparison.Ordinal)))
        {
            throw new ArgumentException($"TelemetryObserverOptions.ClientId '{id}' must be 1-128 characters without control characters, '/', '+' or '#'", nameof(ClientId));
        }
    }
}

/// <summary>
/// The rig's own MQTT client on the broker: subscribes to every robot's telemetry and events (QoS 1) and judges loss
/// from what reaches the broker, not from any daemon's internals: sequence numbers never seen between a record
/// stream's first and last (a robot's telemetry and events share one sequence per stream id, the link's outbox), and
/// the longest gap in sample time between consecutive telemetry messages. Also hands every message of the site's
/// topic tree to <see cref="OnMessage"/> (recording). Reconnects after a broker outage into the same persistent
/// session (MQTT 5 without clean start, one client id for its lifetime, a session expiry interval), so what
/// the broker accepted while the observer was away, or in the instant before a graceful broker stop (the broker
/// persists sessions), is delivered when it is back. A QoS 1 redelivery is counted as a duplicate, never twice.
/// </summary>
public sealed class TelemetryObserver : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientFactory _factory = new();
    private readonly int _port;
    private readonly TelemetryObserverOptions _settings;
    private readonly Dictionary<string, RobotSeries> _series = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepConnected;
    private long _messages;
    private int _connections;
    private int _sessionsLost;
    private TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Connects to the broker on 127.0.0.1:<paramref name="port"/> in the background.</summary>
    public TelemetryObserver(int port, TelemetryObserverOptions? options = null)
    {
        _settings = options ?? new TelemetryObserverOptions();
        _settings.Validate();
        _port = port;
        ClientId = _settings.ClientId ?? $"hil-observer-{Guid.NewGuid():N}";
        _client = _factory.CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            OnReceived(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        _keepConnected = Task.Run(KeepConnectedAsync);
    }

    /// <summary>The MQTT client id (the broker keeps the session under it).</summary>
    public string ClientId { get; }

    /// <summary>
    /// Reconnections on which the broker had no session for the observer any more (expired, or lost by a broker
    /// crash between autosaves): whatever it held for the observer then is gone, and the judge may see it missing.
    /// </summary>
    public int SessionsLost => Volatile.Read(ref _sessionsLost);

    /// <summary>Every message under wh/v1 (topic, payload), on an MQTT thread.</summary>
    public Action<string, byte[]>? OnMessage { get; set; }

    /// <summary>Whether the observer is connected and subscribed.</summary>
    public bool Connected => _client.IsConnected && _subscribed.Task.IsCompleted;

    /// <summary>
    /// Completes when the observer is connected and subscribed (again, after a broker restart). The session makes
    /// this no longer a condition of the judgement: the broker queues for the observer while it is away.
    /// </summary>
    public Task WhenSubscribedAsync(TimeSpan timeout) => _subscribed.Task.WaitAsync(timeout);

    /// <summary>Telemetry records received, each once (redeliveries are duplicates; events are counted in the sequence check, not here).</summary>
    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>The verdict so far.</summary>
    public TelemetryRecord Summary(long? cloudReceived)
    {
        lock (_gate)
        {
            return new TelemetryRecord(Messages, _series.Values.Sum(s => s.Duplicates), _series.Values.Sum(s => s.Missing),
                _series.Values.Count == 0 ? 0 : _series.Values.Max(s => s.LongestGapMs) / 1000.0, cloudReceived);
        }
    }

    /// <summary>The robot with the most missing sequence numbers (then the longest gap), for the report; null before any message.</summary>
    public (string Robot, long Missing, double LongestGapSeconds)? Worst()
    {
        lock (_gate)
        {
            return _series.Count == 0
                ? null
                : _series.OrderByDescending(kv => kv.Value.Missing).ThenByDescending(kv => kv.Value.LongestGapMs).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => ((string, long, double)?)(kv.Key, kv.Value.Missing, kv.Value.LongestGapMs / 1000.0)).First();
        }
    }

    /// <summary>Messages received per robot id.</summary>
    public IReadOnlyDictionary<string, long> PerRobot()
    {
        lock (_gate)
        {
            return _series.ToDictionary(kv => kv.Key, kv => kv.Value.Count);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _keepConnected.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_client.IsConnected)
        {
            await _client.DisconnectAsync().ConfigureAwait(false);
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private async Task KeepConnectedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (!_client.IsConnected)
            {
                if (_subscribed.Task.IsCompleted)
                {
                    _subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                try
                {
                    // Never clean start, not even the first time: Mosquitto 2.0.11 does not write a session that began
                    // with clean start to its database (measured: it is kept while the broker runs, gone after a
                    // graceful restart). The judge still begins empty: the default client id is new for every observer.
                    var first = Volatile.Read(ref _connections) == 0;
                    var options = _factory.CreateClientOptionsBuilder().WithTcpServer("127.0.0.1", _port).WithClientId(ClientId)
                        .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(false)
                        .WithSessionExpiryInterval((uint)_settings.SessionExpiry.TotalSeconds).Build();
                    var connected = await _client.ConnectAsync(options, _stop.Token).ConfigureAwait(false);
                    if (!first && !connected.IsSessionPresent)
                    {
                        Interlocked.Increment(ref _sessionsLost);
                    }

                    Interlocked.Increment(ref _connections);

                    // Always (again): idempotent on a present session, and the only way back after a lost one.
                    await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                        .WithTopicFilter(FleetTopics.Root + "/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), _stop.Token).ConfigureAwait(false);
                    _subscribed.TrySetResult();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // broker not up (yet, or again): retry below
                }
            }

            await Task.Delay(100, _stop.Token).ConfigureAwait(false);
        }
    }

    private void OnReceived(string topic, byte[] payload)
    {
        OnMessage?.Invoke(topic, payload);
        var telemetry = topic.EndsWith("/telemetry", StringComparison.Ordinal);
        if (!telemetry && !topic.EndsWith("/events", StringComparison.Ordinal))
        {
            return;
        }

        string robot;
        ulong stream, seq;
        long? sampleMs = null;
        try
        {
            if (telemetry)
            {
                var t = Telemetry.Parser.ParseFrom(payload);
                (robot, stream, seq, sampleMs) = (t.RobotId, t.StreamId, t.Seq, t.TimestampUnixMs);
            }
            else
            {
                var e = RobotEvent.Parser.ParseFrom(payload);
                (robot, stream, seq) = (e.RobotId, e.StreamId, e.Seq);
            }
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return; // not ours to judge; the cloud counts malformed messages
        }

        lock (_gate)
        {
            if (!_series.TryGetValue(robot, out var s))
            {
                _series[robot] = s = new RobotSeries();
            }

            if (s.Add(stream, seq, sampleMs) && telemetry)
            {
                Interlocked.Increment(ref _messages);
            }
        }
    }

    private sealed class RobotSeries
    {
        private readonly HashSet<ulong> _seen = [];
        private ulong _max;
        private ulong _stream;
        private ulong _sessionStart = ulong.MaxValue;
        private long _lastSampleMs = long.MinValue;

        public long Count { get; private set; }

        public long Duplicates { get; private set; }

        public long Missing => _sessionStart == ulong.MaxValue ? 0 : (long)(_max - _sessionStart + 1) - _seen.Count + MissingBefore;

        public long MissingBefore { get; private set; }

        public long LongestGapMs { get; private set; }

        // True when the record is new (not a redelivery).
        public bool Add(ulong stream, ulong seq, long? sampleMs)
        {
            if (_seen.Count > 0 && (stream != _stream || seq + 1 < _sessionStart))
            {
                // A new record stream (a fresh outbox) or a restarted sequence: close the old session's count.
                MissingBefore = Missing;
                _seen.Clear();
                _sessionStart = ulong.MaxValue;
                _max = 0;
            }

            _stream = stream;
            if (!_seen.Add(seq))
            {
                Duplicates++;
                return false;
            }

            _sessionStart = Math.Min(_sessionStart, seq);
            _max = Math.Max(_max, seq);
            if (sampleMs is not { } ms)
            {
                return true;
            }

            Count++;

            if (_lastSampleMs != long.MinValue && ms > _lastSampleMs)
            {
                LongestGapMs = Math.Max(LongestGapMs, ms - _lastSampleMs);
            }

            _lastSampleMs = Math.Max(_lastSampleMs, ms);
            return true;
        }
    }
}
