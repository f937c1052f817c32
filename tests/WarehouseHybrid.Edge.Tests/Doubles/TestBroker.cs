using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Doubles;

/// <summary>A real MQTTnet broker in-process on a free loopback port, plus a client for the test's side.</summary>
internal sealed class TestBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly IMqttClient _client;

    private TestBroker(MqttServer server, IMqttClient client, int port)
    {
        _server = server;
        _client = client;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Messages the test client received, by topic.</summary>
    public ConcurrentQueue<(string Topic, byte[] Payload)> Received { get; } = new();

    public static async Task<TestBroker> StartAsync()
    {
        var port = FreePort.Next();
        var server = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .Build());
        await server.StartAsync();
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("test-side").Build());
        var broker = new TestBroker(server, client, port);
        client.ApplicationMessageReceivedAsync += e =>
        {
            broker.Received.Enqueue((e.ApplicationMessage.Topic, System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
        return broker;
    }

    public async Task SubscribeAsync(string filter) =>
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public Task PublishAsync(string topic, IMessage message) => PublishAsync(topic, message.ToByteArray());

    public async Task PublishAsync(string topic, byte[] payload) =>
        await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public async ValueTask DisposeAsync()
    {
        await _client.DisconnectAsync();
        _client.Dispose();
        await _server.StopAsync();
        _server.Dispose();
    }

}
