using System.Net.Sockets;
using System.Text;
using MQTTnet;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>
/// The shared real-server fixtures (tests/Common/Servers) start what they claim: a Mosquitto broker that relays a
/// message, a Redis that answers, a PostgreSQL that runs SQL; each on a loopback port of its own, stopped by pid,
/// and a killed broker comes back on the same port.
/// </summary>
public sealed class RealServerTests
{
    [Fact]
    public async Task Mosquitto_relays_a_message_and_comes_back_on_the_same_port_after_a_kill()
    {
        Assert.True(MosquittoServer.Available, "mosquitto is not installed (./test.sh installs it)");
        await using var broker = await MosquittoServer.StartNewAsync();
        var port = broker.Port;

        await RoundTripAsync(broker);
        await broker.KillAsync();
        Assert.False(broker.IsRunning);
        await broker.StartAsync();
        Assert.Equal(port, broker.Port);
        await RoundTripAsync(broker);
        Assert.Contains("mosquitto version", broker.Output + File.ReadAllText(broker.LogPath), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Redis_answers_ping_on_its_loopback_port()
    {
        Assert.True(RedisServer.Available, "redis-server is not installed (./test.sh installs it)");
        await using var redis = await RedisServer.StartNewAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(redis.Host, redis.Port);
        var stream = client.GetStream();
        await stream.WriteAsync("SET k v\r\nGET k\r\n"u8.ToArray());
        var buffer = new byte[64];
        var text = new StringBuilder();
        await Eventually.WaitForAsync(
            async () =>
            {
                var n = await stream.ReadAsync(buffer);
                text.Append(Encoding.ASCII.GetString(buffer, 0, n));
                return text.ToString();
            },
            t => t.Contains("$1\r\nv\r\n", StringComparison.Ordinal),
            "redis to answer GET");
        Assert.StartsWith("+OK", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_runs_sql_as_its_superuser()
    {
        Assert.True(PostgresServer.Available, "PostgreSQL is not installed (./test.sh installs it)");
        await using var pg = await PostgresServer.StartNewAsync();
        await pg.RunSqlAsync("create table t (x int); insert into t values (41), (1);");
        var sum = await pg.RunSqlAsync("select sum(x) from t;");
        Assert.Equal("42", sum.Trim());
    }

    private static async Task RoundTripAsync(MosquittoServer broker)
    {
        var factory = new MqttClientFactory();
        using var sub = factory.CreateMqttClient();
        using var pub = factory.CreateMqttClient();
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        sub.ApplicationMessageReceivedAsync += e =>
        {
            got.TrySetResult(e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        await sub.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).WithClientId("sub").Build());
        await sub.SubscribeAsync("fixture/t");
        await pub.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).WithClientId("pub").Build());
        await pub.PublishStringAsync("fixture/t", "hello", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.Equal("hello", await got.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await pub.DisconnectAsync();
        await sub.DisconnectAsync();
    }
}
