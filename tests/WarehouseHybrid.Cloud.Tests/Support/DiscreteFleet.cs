using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>When a robot got a plan step: the site's issue time and the local receipt time.</summary>
/// <param name="Robot">Robot id.</param>
/// <param name="Step">The step.</param>
/// <param name="IssuedUnixMs">The segment's issued_unix_ms (the site stamps it right after planning and checkpointing).</param>
/// <param name="ReceivedAt">When the simulated robot received it.</param>
internal readonly record struct PlanReceipt(string Robot, uint Step, long IssuedUnixMs, DateTimeOffset ReceivedAt);

/// <summary>
/// Simulated robots at the discrete level over real MQTT (one client for the whole fleet): each takes its plan
/// segments, completes a granted step at once (an ungranted one when its grant arrives), and publishes its telemetry
/// with the new pose and last completed step, as the edge's plan executor does. Optionally every robot also repeats
/// its telemetry at a heartbeat rate, as the edge does at 5 Hz. Records every plan receipt.
/// </summary>
internal sealed class DiscreteFleet : IAsyncDisposable
{
    private readonly string _site;
    private readonly Dictionary<string, Robot> _robots;
    private readonly MqttClientFactory _factory = new();
    private readonly IMqttClient _client;
    private readonly Channel<Robot> _outbound = Channel.CreateUnbounded<Robot>(new UnboundedChannelOptions { SingleReader = false });
    private readonly ConcurrentQueue<PlanReceipt> _receipts = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan? _heartbeat;
    private readonly List<Task> _loops = new();
    private long _segments;
    private long _published;

    public DiscreteFleet(string site, IEnumerable<RobotSeat> roster, TimeSpan? heartbeat = null)
    {
        _site = site;
        _heartbeat = heartbeat;
        _robots = roster.ToDictionary(r => r.RobotId, r => new Robot(r.RobotId, r.StartCell, r.StartHeading), StringComparer.Ordinal);
        _client = _factory.CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    /// <summary>Whether each receipt is recorded (turn off for long runs that only count).</summary>
    public bool RecordReceipts { get; init; } = true;

    /// <summary>Plan segments received.</summary>
    public long SegmentsReceived => Interlocked.Read(ref _segments);

    /// <summary>Telemetry records published.</summary>
    public long TelemetryPublished => Interlocked.Read(ref _published);

    /// <summary>Every plan receipt so far.</summary>
    public IReadOnlyList<PlanReceipt> Receipts => _receipts.ToArray();

    /// <summary>The last step a robot completed.</summary>
    public uint LastCompleted(string robot) => Volatile.Read(ref _robots[robot].LastCompletedBoxed);

    /// <summary>Connects, subscribes to every robot's commands and reports every robot at its start (step 0).</summary>
    public async Task StartAsync(string host, int port, int senders = 4)
    {
        await _client.ConnectAsync(_factory.CreateClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"fleet-{_site}-{Guid.NewGuid():N}")
            .WithCleanStart(true)
            .Build());
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter($"{FleetTopics.Root}/{_site}/robots/+/cmd/#", MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        for (var i = 0; i < senders; i++)
        {
            _loops.Add(Task.Run(SendLoopAsync));
        }

        if (_heartbeat is { } every)
        {
            _loops.Add(Task.Run(() => HeartbeatAsync(every)));
        }

        foreach (var r in _robots.Values)
        {
            _outbound.Writer.TryWrite(r);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _outbound.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_loops);
        }
        catch (OperationCanceledException)
        {
        }

        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var topic = args.ApplicationMessage.Topic;
        if (!FleetTopics.TryParseRobotTopic(topic, out _, out var id, out var leaf) || !_robots.TryGetValue(id, out var robot))
        {
            return Task.CompletedTask;
        }

        var now = TimeProvider.System.GetUtcNow();
        if (leaf == "cmd/plan")
        {
            var segment = PlanSegment.Parser.ParseFrom(args.ApplicationMessage.Payload);
            Interlocked.Increment(ref _segments);
            if (RecordReceipts)
            {
                foreach (var s in segment.Steps)
                {
                    _receipts.Enqueue(new PlanReceipt(id, s.Step, segment.IssuedUnixMs, now));
                }
            }

            if (robot.Apply(segment))
            {
                _outbound.Writer.TryWrite(robot);
            }
        }
        else if (leaf == "cmd/grant" && robot.Apply(GrantUpdate.Parser.ParseFrom(args.ApplicationMessage.Payload)))
        {
            _outbound.Writer.TryWrite(robot);
        }

        return Task.CompletedTask;
    }

    private async Task SendLoopAsync()
    {
        await foreach (var robot in _outbound.Reader.ReadAllAsync(_stop.Token))
        {
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(FleetTopics.Telemetry(_site, robot.Id))
                .WithPayload(robot.Telemetry(_site).ToByteArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            try
            {
                await _client.PublishAsync(message, _stop.Token);
                Interlocked.Increment(ref _published);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A broker hiccup: the heartbeat (or the next step) reports again.
            }
        }
    }

    private async Task HeartbeatAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every);
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            foreach (var r in _robots.Values)
            {
                _outbound.Writer.TryWrite(r);
            }
        }
    }

    /// <summary>One robot's discrete state (guarded by its own lock: the receive handler and the senders share it).</summary>
    private sealed class Robot(string id, int cell, DomainHeading heading)
    {
        private readonly object _lock = new();
        private int _cell = cell;
        private Heading _heading = (Heading)(int)heading;
        private string _planId = string.Empty;
        private ulong _revision;
        private PlanStep? _waiting;
        private ulong _seq;

        public string Id { get; } = id;

        public uint LastCompletedBoxed;

        public bool Apply(PlanSegment segment)
        {
            lock (_lock)
            {
                if (segment.PlanId == _planId && segment.Revision <= _revision)
                {
                    return false;
                }

                _planId = segment.PlanId;
                _revision = segment.Revision;
                _waiting = null;
                var changed = false;
                foreach (var s in segment.Steps)
                {
                    if (s.Step <= LastCompletedBoxed)
                    {
                        continue;
                    }

                    if (!s.Granted)
                    {
                        _waiting = s;
                        break;
                    }

                    Complete(s);
                    changed = true;
                }

                return changed;
            }
        }

        public bool Apply(GrantUpdate grant)
        {
            lock (_lock)
            {
                if (_waiting is not { } s || grant.PlanId != _planId || grant.Revision != _revision || grant.GrantedThroughStep < s.Step)
                {
                    return false;
                }

                _waiting = null;
                Complete(s);
                return true;
            }
        }

        public Telemetry Telemetry(string site)
        {
            lock (_lock)
            {
                return new Telemetry
                {
                    RobotId = Id,
                    SiteId = site,
                    Seq = ++_seq,
                    TimestampUnixMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(),
                    Pose = new Pose { Cell = _cell, Heading = _heading },
                    State = _waiting is null ? RobotState.Idle : RobotState.WaitingGrant,
                    Progress = new PlanProgress { PlanId = _planId, PlanRevision = _revision, LastCompletedStep = LastCompletedBoxed, HasPlan = _planId.Length > 0 },
                    ModelVersion = "sim-discrete",
                    DecisionMode = DecisionMode.Rule,
                    BatteryFraction = 1f,
                };
            }
        }

        private void Complete(PlanStep s)
        {
            _cell = s.TargetCell;
            _heading = s.TargetHeading;
            Volatile.Write(ref LastCompletedBoxed, s.Step);
        }
    }
}
