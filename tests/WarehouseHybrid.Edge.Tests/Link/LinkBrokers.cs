using System.Collections.Concurrent;
using System.Net;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>A broker the link tests run against, stoppable and restartable on the same port (an outage).</summary>
public abstract class LinkBroker : IAsyncDisposable
{
    /// <summary>The loopback port.</summary>
    public abstract int Port { get; }

    /// <summary>Takes the broker away (clients see the connection drop).</summary>
    public abstract Task StopAsync();

    /// <summary>Brings it back on the same port (a clean broker: no sessions, no retained messages).</summary>
    public abstract Task StartAsync();

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}

/// <summary>MQTTnet's broker in-process (the demo's embedded default).</summary>
public sealed class InProcessLinkBroker : LinkBroker
{
    private MqttServer? _server;

    private InProcessLinkBroker(int port) => Port = port;

    /// <inheritdoc />
    public override int Port { get; }

    public static async Task<InProcessLinkBroker> StartNewAsync()
    {
        var broker = new InProcessLinkBroker(FreePort.Next());
        await broker.StartAsync();
        return broker;
    }

    /// <inheritdoc />
    public override async Task StartAsync()
    {
        _server = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(Port)
            .WithMaxPendingMessagesPerClient(100_000)
            .Build());
        await _server.StartAsync();
    }

    /// <inheritdoc />
    public override async Task StopAsync()
    {
        if (_server is { } s)
        {
            _server = null;
            await s.StopAsync();
            s.Dispose();
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>The real Mosquitto 2 started by the fixture (tests/Common/Servers).</summary>
public sealed class MosquittoLinkBroker : LinkBroker
{
    private readonly MosquittoServer _server;

    private MosquittoLinkBroker(MosquittoServer server) => _server = server;

    /// <inheritdoc />
    public override int Port => _server.Port;

    internal MosquittoServer Server => _server;

    public static async Task<MosquittoLinkBroker> StartNewAsync()
    {
        Assert.True(MosquittoServer.Available, "mosquitto is not installed (./test.sh installs it)");
        return new MosquittoLinkBroker(await MosquittoServer.StartNewAsync());
    }

    /// <inheritdoc />
    public override Task StopAsync() => _server.StopAsync();

    /// <inheritdoc />
    public override Task StartAsync() => _server.StartAsync();

    /// <inheritdoc />
    public override ValueTask DisposeAsync() => _server.DisposeAsync();
}

/// <summary>The test's own MQTT 5 client: plays the cloud, a SCADA host or the site's infrastructure.</summary>
public sealed class TestSide : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly int _port;
    private readonly string _id;
    private readonly List<string> _filters = [];

    private TestSide(int port, string id)
    {
        _port = port;
        _id = id;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            Received.Enqueue(new ReceivedMessage(m.Topic, System.Buffers.BuffersExtensions.ToArray(m.Payload), m.CorrelationData, m.ResponseTopic,
                m.UserProperties?.ToDictionary(p => p.Name, p => System.Text.Encoding.UTF8.GetString(p.ValueBuffer.Span)) ?? [], m.Retain));
            return Task.CompletedTask;
        };
    }

    public ConcurrentQueue<ReceivedMessage> Received { get; } = new();

    public IEnumerable<ReceivedMessage> On(string topic) => Received.Where(m => m.Topic == topic);

    public static async Task<TestSide> ConnectAsync(int port, string id = "test-side")
    {
        var side = new TestSide(port, id);
        await side.ConnectAsync();
        return side;
    }

    public async Task ConnectAsync()
    {
        await _client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _port).WithClientId(_id)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithCleanStart(true).Build());
        foreach (var f in _filters)
        {
            await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(f, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }
    }

    /// <summary>Reconnects after a broker restart, re-subscribing (clean start).</summary>
    public async Task ReconnectAsync()
    {
        await Eventually.UntilAsync(() => !_client.IsConnected, TimeSpan.FromSeconds(30), "the test side to notice the outage");
        await Eventually.WaitForAsync(async () =>
        {
            try
            {
                await ConnectAsync();
                return true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return false;
            }
        }, ok => ok, "the test side to reconnect", TimeSpan.FromSeconds(30));
    }

    public async Task SubscribeAsync(string filter)
    {
        _filters.Add(filter);
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
    }

    public async Task PublishAsync(string topic, byte[] payload, bool retain = false, byte[]? correlation = null, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce)
    {
        var b = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).WithRetainFlag(retain);
        if (correlation is not null)
        {
            b.WithCorrelationData(correlation);
        }

        await _client.PublishAsync(b.Build());
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}

/// <summary>A message the test side received.</summary>
public sealed record ReceivedMessage(string Topic, byte[] Payload, byte[]? CorrelationData, string? ResponseTopic, Dictionary<string, string> UserProperties, bool Retain);
