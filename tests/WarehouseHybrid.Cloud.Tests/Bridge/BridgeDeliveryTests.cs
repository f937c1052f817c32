using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Hil.Daemons;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>
/// When the bridge acknowledges and in which order it sends: a real in-process MQTTnet broker (its server events show
/// every PUBACK the bridge sends), a silo whose bridge also routes a test topic to a route the test holds.
/// </summary>
public sealed class BridgeDeliveryTests : IAsyncLifetime
{
    private const string BridgeClientId = "bridge-under-test";
    private const string HeldTopic = "test/held/one";
    private readonly HeldRoute _held = new();
    private readonly ConcurrentQueue<string> _acknowledgedByBridge = new();
    private MqttServer _broker = null!;
    private int _port;
    private IHost _silo = null!;
    private IMqttClient _client = null!;
    private TcpProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _port = FreePort.Next();
        var serverFactory = new MqttServerFactory();
        _broker = serverFactory.CreateMqttServer(serverFactory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback)
            .WithDefaultEndpointPort(_port)
            .Build());
        _broker.ClientAcknowledgedPublishPacketAsync += e =>
        {
            if (e.ClientId == BridgeClientId)
            {
                _acknowledgedByBridge.Enqueue(e.PublishPacket.Topic);
            }

            return Task.CompletedTask;
        };
        await _broker.StartAsync();

        // The bridge reaches the broker through a loopback proxy, so a test can drop its socket.
        _proxy = new TcpProxy(_port, seed: 1);

        var builder = CloudHost.CreateEmbeddedBuilder("tests");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IBridgeRoute>(_held);
        builder.AddWarehouseCloud(TestSilos.Corridor, o =>
        {
            o.Silo.SiloPort = FreePort.Next();
            o.Silo.GatewayPort = FreePort.Next();
            o.Silo.ClusterId = "delivery-" + Guid.NewGuid().ToString("N");
            o.Mqtt.Host = "127.0.0.1";
            o.Mqtt.Port = _proxy.Port;
            o.Mqtt.ClientId = BridgeClientId;
            o.Mqtt.ReconnectDelay = TimeSpan.FromMilliseconds(50);
            o.Http.Enabled = false;
        });
        _silo = builder.BuildWarehouseCloud();
        await _silo.StartAsync();
        await _silo.GetBridge()!.WhenConnectedAsync().WaitAsync(Eventually.DefaultTimeout);

        var factory = new MqttClientFactory();
        _client = factory.CreateMqttClient();
        await _client.ConnectAsync(factory.CreateClientOptionsBuilder().WithTcpServer("127.0.0.1", _port)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithClientId("delivery-robot").Build());
    }

    public async Task DisposeAsync()
    {
        _held.Release.TrySetResult();
        await _client.DisconnectAsync();
        _client.Dispose();
        await _silo.StopAsync();
        _silo.Dispose();
        await _proxy.DisposeAsync();
        await _broker.StopAsync();
        _broker.Dispose();
    }

    [Fact]
    public async Task A_message_is_acknowledged_to_the_broker_only_once_its_route_has_handled_it()
    {
        await PublishAsync(HeldTopic, [1, 2, 3]);
        await _held.Entered.Task.WaitAsync(Eventually.DefaultTimeout);

        // A later message on the same connection is routed and acknowledged meanwhile: had the held one been
        // acknowledged when it was queued, its PUBACK would have gone first. Its robot is one whose partition is not
        // the held message's (the bridge runs in this process, so the same string hash picks the partition).
        var partitions = (uint)new MqttBridgeOptions().IngressPartitions;
        static uint Hash(string key) => (uint)StringComparer.Ordinal.GetHashCode(key);
        var robot = Enumerable.Range(0, 64).Select(i => $"ack-bot-{i}").First(r => Hash(r) % partitions != Hash(HeldTopic) % partitions);
        var telemetry = FleetTopics.Telemetry("delivery", robot);
        await PublishAsync(telemetry, new Telemetry { RobotId = robot, Seq = 1 }.ToByteArray());
        await Eventually.WaitForAsync(() => _acknowledgedByBridge.Contains(telemetry), "the telemetry's PUBACK from the bridge");
        Assert.DoesNotContain(HeldTopic, _acknowledgedByBridge);

        _held.Release.SetResult();
        await Eventually.WaitForAsync(() => _acknowledgedByBridge.Contains(HeldTopic), "the held message's PUBACK once its route returned");
    }

    [Fact]
    public async Task With_many_commands_in_flight_one_robots_commands_arrive_in_order_and_complete_across_a_dropped_connection()
    {
        const string site = "delivery";
        const int n = 2000;
        var revisions = new ConcurrentQueue<ulong>();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            revisions.Enqueue(PlanSegment.Parser.ParseFrom(e.ApplicationMessage.Payload).Revision);
            return Task.CompletedTask;
        };
        await _client.SubscribeAsync(FleetTopics.Plan(site, "order-bot"), MqttQualityOfServiceLevel.AtLeastOnce);

        var dropped = 0;
        _broker.InterceptingPublishAsync += e =>
        {
            // Only plan segments: the bridge also publishes its Sparkplug STATE on every connect.
            if (e.ClientId == BridgeClientId && e.ApplicationMessage.Topic == FleetTopics.Plan(site, "order-bot")
                && PlanSegment.Parser.ParseFrom(e.ApplicationMessage.Payload).Revision == n / 4
                && Interlocked.Exchange(ref dropped, 1) == 0)
            {
                // The bridge's socket drops mid-burst, before this message's PUBACK can go (here, not on another
                // thread: a loaded machine could otherwise let the whole burst be acknowledged first): publishes in
                // flight fail and must go again, in order.
                _proxy.Partitioned = true;
                _proxy.Partitioned = false;
            }

            return Task.CompletedTask;
        };

        var bridge = _silo.GetBridge()!;
        var before = bridge.Stats;
        for (var i = 1; i <= n; i++)
        {
            await bridge.PublishPlanAsync(site, new PlanSegment { RobotId = "order-bot", Revision = (ulong)i });
        }

        await Eventually.WaitForAsync(() => revisions.Distinct().Count() == n, $"all {n} plan segments", TimeSpan.FromSeconds(60));
        Assert.True(bridge.Stats.Connects > before.Connects, "the broker's disconnect was not seen");
        Assert.True(bridge.Stats.PublishFailures > before.PublishFailures, "no publish failed: the test did not exercise a resend");

        // At least once: a segment may come again after the reconnect, but never before one queued ahead of it.
        var firstSeen = revisions.Distinct().ToList();
        Assert.Equal(Enumerable.Range(1, n).Select(i => (ulong)i), firstSeen);
    }

    private Task PublishAsync(string topic, byte[] payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>A route that signals when a message reaches it and returns only when the test releases it.</summary>
    private sealed class HeldRoute : IBridgeRoute
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string TopicFilter => "test/held/+";

        public async ValueTask<RouteOutcome> HandleAsync(BridgeMessage message, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return RouteOutcome.Handled;
        }
    }
}
