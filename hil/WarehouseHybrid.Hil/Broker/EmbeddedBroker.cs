using System.Net;
using System.Net.Sockets;
using MQTTnet.Server;

namespace WarehouseHybrid.Hil.Broker;

/// <summary>
/// The demo's MQTT broker: MQTTnet.Server in-process, bound to loopback only.
/// Production and the integration tests of the link issue use Mosquitto instead.
/// </summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;

    private EmbeddedBroker(MqttServer server, int port)
    {
        _server = server;
        Port = port;
    }

    /// <summary>The loopback TCP port the broker listens on.</summary>
    public int Port { get; }

    /// <summary>Connected clients right now.</summary>
    public async Task<int> ClientCountAsync() => (await _server.GetClientsAsync()).Count;

    /// <summary>Starts a broker on 127.0.0.1; port 0 picks a free one.</summary>
    public static async Task<EmbeddedBroker> StartAsync(int port = 0)
    {
        if (port == 0)
        {
            port = FreeLoopbackPort();
        }

        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(port)
            .WithMaxPendingMessagesPerClient(10_000)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(options);
        await server.StartAsync();
        return new EmbeddedBroker(server, port);
    }

    /// <summary>A TCP port on loopback that nothing listens on right now.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
    }
}
