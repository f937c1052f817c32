using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Server;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>
/// Starts a real in-process MQTTnet broker (MQTTnet.Server) on a free loopback port and a silo
/// whose MQTT bridge connects to it, plus a test client that plays the robots.
/// </summary>
public sealed class BridgeFixture : IAsyncLifetime
{
    private MqttServer _broker = null!;

    internal int BrokerPort { get; private set; }

    internal IHost Host { get; private set; } = null!;

    internal MqttBridge Bridge { get; private set; } = null!;

    internal IMqttClient Robot { get; private set; } = null!;

    internal const int MaxPayloadBytes = 1024;

    public async Task InitializeAsync()
    {
        BrokerPort = FreePort.Next();
        var serverFactory = new MqttServerFactory();
        var serverOptions = serverFactory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback)
            .WithDefaultEndpointPort(BrokerPort)
            .Build();
        _broker = serverFactory.CreateMqttServer(serverOptions);
        await _broker.StartAsync();

        var builder = CloudHost.CreateEmbeddedBuilder("tests");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddWarehouseCloud(
            (map, starts) => new CorridorPlanner(map, starts.Count),
            o =>
            {
                o.Silo.SiloPort = FreePort.Next();
                o.Silo.GatewayPort = FreePort.Next();
                o.Silo.ClusterId = "bridge-" + Guid.NewGuid().ToString("N");
                o.Mqtt.Host = "127.0.0.1";
                o.Mqtt.Port = BrokerPort;
                o.Mqtt.MaxPayloadBytes = MaxPayloadBytes;
                o.Http.Enabled = false;
                o.Cycle.ConfirmTimeout = TimeSpan.FromSeconds(2);
            });
        Host = builder.BuildWarehouseCloud();
        await Host.StartAsync();
        Bridge = Host.GetBridge()!;
        await Bridge.WhenConnectedAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var clientFactory = new MqttClientFactory();
        Robot = clientFactory.CreateMqttClient();
        await Robot.ConnectAsync(clientFactory.CreateClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", BrokerPort)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("test-robot")
            .Build());
    }

    public async Task DisposeAsync()
    {
        await Robot.DisconnectAsync();
        Robot.Dispose();
        await Host.StopAsync();
        Host.Dispose();
        await _broker.StopAsync();
        _broker.Dispose();
    }

    /// <summary>Publishes raw bytes at QoS 1 as the test robot.</summary>
    internal Task PublishAsync(string topic, byte[] payload) =>
        Robot.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
}
