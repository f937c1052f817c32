using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Escalation;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Contracts.Tracing;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>The MQTT bridge against the real Mosquitto 2 (started per test class on a free loopback port).</summary>
public sealed class MosquittoBridgeTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly List<IHost> _hosts = [];
    private MosquittoServer _broker = null!;
    private IMqttClient _robot = null!;
    private readonly ConcurrentQueue<MqttApplicationMessage> _received = new();

    public async Task InitializeAsync()
    {
        Assert.True(MosquittoServer.Available, "mosquitto is not installed (./test.sh installs it)");
        _broker = await MosquittoServer.StartNewAsync();
        _robot = new MqttClientFactory().CreateMqttClient();
        _robot.ApplicationMessageReceivedAsync += e =>
        {
            _received.Enqueue(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await _robot.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port).WithClientId("robots")
            .WithProtocolVersion(MqttProtocolVersion.V500).Build());
    }

    public async Task DisposeAsync()
    {
        await _robot.DisconnectAsync();
        _robot.Dispose();
        foreach (var h in _hosts)
        {
            await h.StopAsync();
            h.Dispose();
        }

        await _broker.DisposeAsync();
    }

    internal static async Task<IHost> StartSiloAsync(int brokerPort, Action<CloudOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        services?.Invoke(builder.Services);
        builder.AddWarehouseCloud((map, starts) => new CorridorPlanner(map, starts.Count), o =>
        {
            o.Silo.SiloPort = FreePort.Next();
            o.Silo.GatewayPort = FreePort.Next();
            o.Silo.ClusterId = "mq-" + Guid.NewGuid().ToString("N");
            o.Mqtt.Host = "127.0.0.1";
            o.Mqtt.Port = brokerPort;
            o.Mqtt.MaxPayloadBytes = 4096;
            o.Http.Enabled = false; // a generic host: the bridge tests need no HTTP endpoint
            configure?.Invoke(o);
        });
        var host = builder.Build();
        await host.StartAsync();
        await host.GetBridge()!.WhenConnectedAsync().WaitAsync(Timeout);
        return host;
    }

    private async Task<IHost> SiloAsync(Action<CloudOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var host = await StartSiloAsync(_broker.Port, configure, services);
        _hosts.Add(host);
        return host;
    }

    private Task PublishAsync(string topic, IMessage message, string? traceParent = null, string? responseTopic = null, byte[]? correlation = null)
    {
        var b = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(message.ToByteArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (traceParent is not null)
        {
            b.WithUserProperty(TraceParent.PropertyName, Encoding.UTF8.GetBytes(traceParent).AsMemory());
        }

        if (responseTopic is not null)
        {
            b.WithResponseTopic(responseTopic);
        }

        if (correlation is not null)
        {
            b.WithCorrelationData(correlation);
        }

        return _robot.PublishAsync(b.Build());
    }

    private static Telemetry TelemetryOf(string robot, ulong seq, ulong stream = 77) => new()
    {
        RobotId = robot, Seq = seq, StreamId = stream, Pose = new Pose { Cell = 1 }, Progress = new PlanProgress { LastCompletedStep = (uint)seq },
    };

    [Fact]
    public async Task Two_bridges_on_one_mosquitto_split_the_telemetry_through_the_shared_subscription_and_lose_none()
    {
        var a = await SiloAsync();
        var b = await SiloAsync();
        const int n = 400;
        for (var i = 0; i < n; i++)
        {
            await PublishAsync(FleetTopics.Telemetry("s1", $"bot-{i % 20}"), TelemetryOf($"bot-{i % 20}", (ulong)(i / 20 + 1)));
        }

        await Eventually.UntilAsync(() => a.GetBridge()!.Stats.TelemetryRouted + b.GetBridge()!.Stats.TelemetryRouted == n, Timeout, "every record routed by one of the bridges");
        Assert.True(a.GetBridge()!.Stats.TelemetryRouted > 0, "bridge A got none: the subscription is not shared");
        Assert.True(b.GetBridge()!.Stats.TelemetryRouted > 0, "bridge B got none: the subscription is not shared");
    }

    [Fact]
    public async Task A_redelivered_record_is_discarded_by_stream_and_seq_and_a_new_stream_starts_afresh()
    {
        var silo = await SiloAsync();
        foreach (var seq in new ulong[] { 1, 2, 3, 2, 3, 4 })
        {
            await PublishAsync(FleetTopics.Telemetry("s1", "dup"), TelemetryOf("dup", seq));
        }

        await PublishAsync(FleetTopics.Telemetry("s1", "dup"), TelemetryOf("dup", 1, stream: 78)); // a fresh outbox
        var status = await Eventually.WaitForAsync(() => silo.GetRobot("dup").GetStatusAsync(), s => s is { TelemetryCount: 5 }, "five records applied");
        Assert.Equal(2, status!.DuplicatesDropped);
        Assert.Equal(78UL, status.LastTelemetry!.StreamId);
    }

    [Fact]
    public async Task The_traceparent_user_property_reaches_the_grain_when_the_payload_has_none()
    {
        var silo = await SiloAsync();
        var trace = TraceParent.NewRoot();
        await PublishAsync(FleetTopics.Telemetry("s1", "traced"), TelemetryOf("traced", 1), traceParent: trace);
        var status = await Eventually.WaitForAsync(() => silo.GetRobot("traced").GetStatusAsync(), s => s is not null, "the record");
        Assert.Equal(trace, status!.LastTelemetry!.TraceId);
    }

    [Fact]
    public async Task An_escalation_is_answered_on_its_response_topic_with_its_correlation_data_and_bad_requests_are_counted()
    {
        var silo = await SiloAsync(services: s => s.AddSingleton<IEscalationResponder>(new SlowIfAskedResponder()));
        var responseTopic = FleetTopics.EscalationResponse("s1", "esc");
        await _robot.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(responseTopic, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(10).ToUnixTimeMilliseconds();
        var trace = TraceParent.NewRoot();
        await PublishAsync(FleetTopics.EscalationRequest("s1", "esc"),
            new EscalationRequest { RobotId = "esc", RequestId = "q1", DeadlineUnixMs = deadline, TraceId = trace }, responseTopic: responseTopic, correlation: [1, 2, 3]);

        await Eventually.UntilAsync(() => _received.Any(m => m.Topic == responseTopic), Timeout, "the answer");
        var answer = _received.Single(m => m.Topic == responseTopic);
        Assert.Equal([1, 2, 3], answer.CorrelationData);
        var response = EscalationResponse.Parser.ParseFrom(System.Buffers.BuffersExtensions.ToArray(answer.Payload));
        Assert.Equal("q1", response.RequestId);
        Assert.Equal(0.4f, response.SpeedLimitMps);
        Assert.Equal(TraceParent.TraceIdOf(trace), TraceParent.TraceIdOf(response.TraceId));

        var bridge = silo.GetBridge()!;
        // Another robot's command topic as response topic, a request already past its deadline, one the model answers too late.
        await PublishAsync(FleetTopics.EscalationRequest("s1", "esc"), new EscalationRequest { RobotId = "esc", RequestId = "q2", DeadlineUnixMs = deadline },
            responseTopic: FleetTopics.Plan("s1", "victim"), correlation: [9]);
        await PublishAsync(FleetTopics.EscalationRequest("s1", "esc"), new EscalationRequest { RobotId = "esc", RequestId = "q3", DeadlineUnixMs = 1 },
            responseTopic: responseTopic, correlation: [9]);
        await PublishAsync(FleetTopics.EscalationRequest("s1", "esc"), new EscalationRequest
        {
            RobotId = "esc", RequestId = "slow", DeadlineUnixMs = TimeProvider.System.GetUtcNow().AddMilliseconds(300).ToUnixTimeMilliseconds(),
        }, responseTopic: responseTopic, correlation: [8]);
        await Eventually.UntilAsync(() => bridge.Stats.RejectedFor(RejectionReason.ResponseTopicInvalid) == 1 && bridge.Stats.RejectedFor(RejectionReason.DeadlinePassed) == 1,
            Timeout, "the two bad requests counted");
        var route = silo.Services.GetServices<IBridgeRoute>().OfType<EscalationRoute>().Single();
        await Eventually.UntilAsync(() => route.TooLate == 1, Timeout, "the slow answer withheld");
        Assert.Single(_received, m => m.Topic == responseTopic);
    }

    [Fact]
    public async Task Under_a_flood_the_ingress_stays_within_its_bound_and_every_message_is_still_routed()
    {
        var silo = await SiloAsync(o =>
        {
            o.Mqtt.IngressPartitions = 2;
            o.Mqtt.IngressCapacity = 16;
        });
        var bridge = silo.GetBridge()!;
        const int n = 5000;
        var sends = new List<Task>(n);
        for (var i = 0; i < n; i++)
        {
            sends.Add(PublishAsync(FleetTopics.Telemetry("s1", $"flood-{i % 50}"), TelemetryOf($"flood-{i % 50}", (ulong)(i / 50 + 1))));
        }

        await Task.WhenAll(sends);
        await Eventually.UntilAsync(() => bridge.Stats.TelemetryRouted >= n, TimeSpan.FromSeconds(60), "the flood routed");
        var stats = bridge.Stats;
        Assert.True(stats.IngressHighWater <= stats.IngressCapacity, $"high water {stats.IngressHighWater} above the capacity {stats.IngressCapacity}");
        Assert.Equal(0, stats.RejectedFor(RejectionReason.RoutingFailed));

        // The bound on what the bridge holds is what keeps its memory flat; the process's heap is not measured here,
        // because other test classes run in parallel in this process (a 64 MB check on it once read 76 MB).
        Assert.Equal(0, stats.IngressQueued);
    }

    [Fact]
    public async Task The_bridge_announces_the_primary_host_online_and_its_will_marks_it_offline()
    {
        var silo = await SiloAsync();
        var state = SparkplugTopic.State("warehouse-cloud");
        await _robot.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(state, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await Eventually.UntilAsync(() => _received.Any(m => m.Topic == state && Parse(m).Online), Timeout, "STATE online (retained)");
        await silo.StopAsync();
        await Eventually.UntilAsync(() => _received.Any(m => m.Topic == state && !Parse(m).Online), Timeout, "STATE offline");

        static SparkplugHostState Parse(MqttApplicationMessage m) =>
            SparkplugHostState.TryParse(System.Buffers.BuffersExtensions.ToArray(m.Payload), out var s, out _) ? s : default;
    }

    [Fact]
    public async Task When_the_newest_bridge_leaves_a_bridge_still_running_announces_the_host_online_again()
    {
        var state = SparkplugTopic.State("warehouse-cloud");
        await _robot.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(state, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await SiloAsync();
        await Eventually.UntilAsync(() => States().Any(s => s.Online), Timeout, "the first bridge's STATE");
        var newer = await StartSiloAsync(_broker.Port);
        await Eventually.UntilAsync(() => States().Count(s => s.Online) >= 2, Timeout, "the second bridge's STATE");
        var second = States().Where(s => s.Online).Max(s => s.TimestampMs);

        await newer.StopAsync(); // its offline STATE is the newest: the host looks offline although the first bridge runs
        newer.Dispose();
        await Eventually.UntilAsync(() => States().Any(s => !s.Online && s.TimestampMs == second), Timeout, "the leaving bridge's offline STATE");
        await Eventually.UntilAsync(() => States().Any(s => s.Online && s.TimestampMs > second), Timeout, "the remaining bridge announcing online again");
        Assert.True(States()[^1].Online, "the last word is online while a bridge runs");

        List<SparkplugHostState> States() => [.. _received.Where(m => m.Topic == state)
            .Select(m => SparkplugHostState.TryParse(System.Buffers.BuffersExtensions.ToArray(m.Payload), out var s, out _) ? s : default)];
    }

    private sealed class SlowIfAskedResponder : IEscalationResponder
    {
        public async ValueTask<EscalationResponse?> AnswerAsync(EscalationRequest request, CancellationToken cancellationToken)
        {
            if (request.RequestId == "slow")
            {
                await Task.Delay(Timeout, TimeProvider.System, cancellationToken); // outlives the deadline: cancelled by it
            }

            return new EscalationResponse { SpeedLimitMps = 0.4f, Confidence = 0.9f };
        }
    }
}
