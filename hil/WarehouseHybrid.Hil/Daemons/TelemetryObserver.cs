using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Hil.Scenarios;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>
/// The rig's own MQTT client on the broker: subscribes to every robot's telemetry and events (QoS 1) and judges loss
/// from what reaches the broker, not from any daemon's internals: sequence numbers never seen between a record
/// stream's first and last (a robot's telemetry and events share one sequence per stream id, the link's outbox), and
/// the longest gap in sample time between consecutive telemetry messages. Also hands every message of the site's
/// topic tree to <see cref="OnMessage"/> (recording). Reconnects after a broker outage.
/// </summary>
public sealed class TelemetryObserver : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly Dictionary<string, RobotSeries> _series = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepConnected;
    private long _messages;
    private TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Connects to the broker in the background.</summary>
    public TelemetryObserver(int port)
    {
        var factory = new MqttClientFactory();
        _client = factory.CreateMqttClient();
        _options = factory.CreateClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"hil-observer-{Guid.NewGuid():N}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(true).Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            OnReceived(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        _keepConnected = Task.Run(KeepConnectedAsync);
    }

    /// <summary>Every message under wh/v1 (topic, payload), on an MQTT thread.</summary>
    public Action<string, byte[]>? OnMessage { get; set; }

    /// <summary>Whether the observer is connected and subscribed.</summary>
    public bool Connected => _client.IsConnected && _subscribed.Task.IsCompleted;

    /// <summary>
    /// Completes when the observer is connected and subscribed (again, after a broker restart). The broker keeps no
    /// session for it (clean start, no persistence), so a message a robot publishes before this completes would be
    /// accepted by the broker and never reach the judge.
    /// </summary>
    public Task WhenSubscribedAsync(TimeSpan timeout) => _subscribed.Task.WaitAsync(timeout);

    /// <summary>Telemetry messages received (events are counted in the sequence check, not here).</summary>
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
                    await _client.ConnectAsync(_options, _stop.Token).ConfigureAwait(false);
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

        if (telemetry)
        {
            Interlocked.Increment(ref _messages);
        }

        lock (_gate)
        {
            if (!_series.TryGetValue(robot, out var s))
            {
                _series[robot] = s = new RobotSeries();
            }

            s.Add(stream, seq, sampleMs);
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

        public void Add(ulong stream, ulong seq, long? sampleMs)
        {
            if (sampleMs is not null)
            {
                Count++;
            }

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
                return;
            }

            _sessionStart = Math.Min(_sessionStart, seq);
            _max = Math.Max(_max, seq);
            if (sampleMs is not { } ms)
            {
                return;
            }

            if (_lastSampleMs != long.MinValue && ms > _lastSampleMs)
            {
                LongestGapMs = Math.Max(LongestGapMs, ms - _lastSampleMs);
            }

            _lastSampleMs = Math.Max(_lastSampleMs, ms);
        }
    }
}
