using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>
/// The bridge's persistent MQTT session against the real Mosquitto 2 with persistence on (started per test on a free
/// loopback port, stopped gracefully and restarted on the same port and directory): what the broker acknowledged to a
/// robot while the silo was away, across a broker restart, reaches the silo that comes back under the same client id;
/// and how Mosquitto treats an offline member of the bridges' shared subscription (it keeps the member's share queued
/// for it, docs/adr/0010-link.md).
/// </summary>
public sealed class BridgeSessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly List<IHost> _hosts = [];
    private MosquittoServer _broker = null!;
    private IMqttClient _robot = null!;

    public async Task InitializeAsync()
    {
        Assert.True(MosquittoServer.Available, "mosquitto is not installed (./test.sh installs it)");
        _broker = await MosquittoServer.StartNewAsync(port => new MosquittoServer(port) { Persistence = true });
        _robot = new MqttClientFactory().CreateMqttClient();
        await ConnectRobotAsync();
    }

    public async Task DisposeAsync()
    {
        _robot.Dispose();
        foreach (var h in _hosts.ToArray())
        {
            await StopAsync(h);
        }

        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task With_a_plain_subscription_records_from_before_a_graceful_broker_restart_and_from_the_silos_absence_reach_the_silo_that_returns()
    {
        var first = await SiloAsync("bridge-a", o => o.Mqtt.SharedGroup = string.Empty);
        await PublishAsync("r1", 1, 10);
        await Eventually.UntilAsync(() => first.GetBridge()!.Stats.TelemetryRouted == 10, Timeout, "the first ten records routed");
        await StopAsync(first); // a graceful stop keeps the session

        await PublishAsync("r1", 11, 10); // acknowledged by the broker just before it stops
        await _broker.RestartAsync(); // SIGTERM: Mosquitto writes its database as it exits
        await ConnectRobotAsync();
        await PublishAsync("r1", 21, 10); // the broker is back, the silo is not

        var second = await SiloAsync("bridge-a", o => o.Mqtt.SharedGroup = string.Empty);
        var status = await Eventually.WaitForAsync(() => second.GetRobot("r1").GetStatusAsync(), s => s?.LastTelemetry?.Seq == 30, "record 30 at the returning silo", Timeout);
        Assert.Equal(20, status!.TelemetryCount); // 11-30, each once, in order
        Assert.Equal(1, second.GetBridge()!.Stats.SessionsResumed);
        Assert.Equal(0, second.GetBridge()!.Stats.SessionsLost);
    }

    [Fact]
    public async Task With_a_shared_subscription_Mosquitto_2_0_restores_the_session_and_its_queue_but_not_the_subscription()
    {
        var first = await SiloAsync("bridge-a");
        await PublishAsync("r1", 1, 10);
        await Eventually.UntilAsync(() => first.GetBridge()!.Stats.TelemetryRouted == 10, Timeout, "the first ten records routed");
        await StopAsync(first);

        await PublishAsync("r1", 11, 10); // queued in the session: saved and restored
        await _broker.RestartAsync();
        await ConnectRobotAsync();
        await PublishAsync("r1", 21, 10); // no subscriber: the restored session lost its $share subscription

        var second = await SiloAsync("bridge-a");
        await PublishAsync("r1", 31, 10); // subscribed again
        var status = await Eventually.WaitForAsync(() => second.GetRobot("r1").GetStatusAsync(), s => s?.LastTelemetry?.Seq == 40, "record 40 at the returning silo", Timeout);

        // What docs/adr/0010-link.md states for Mosquitto 2.0.11: if this fails with 30, the broker now restores shared
        // subscriptions; update the ADR (and the rig's plain subscription) instead of this number.
        Assert.Equal(20, status!.TelemetryCount);
        Assert.Equal(1, second.GetBridge()!.Stats.SessionsResumed);
    }

    [Fact]
    public async Task Mosquitto_keeps_an_offline_share_group_members_share_for_it_and_delivers_it_when_the_member_returns()
    {
        var online = await SiloAsync("bridge-online");
        var away = await SiloAsync("bridge-away");
        await StopAsync(away);
        const int robots = 10, each = 10;
        for (var r = 0; r < robots; r++)
        {
            await PublishAsync($"r{r}", 1, each);
        }

        await Eventually.UntilAsync(() => online.GetBridge()!.Stats.TelemetryRouted > 0, Timeout, "the online member routing");
        var back = await SiloAsync("bridge-away");
        await Eventually.UntilAsync(() => online.GetBridge()!.Stats.TelemetryRouted + back.GetBridge()!.Stats.TelemetryRouted == robots * each, Timeout,
            "every record routed by one of the two");

        // Everything was acknowledged before the member came back: what it routes was queued for it while it was away.
        Assert.True(back.GetBridge()!.Stats.TelemetryRouted > 0, "the returning member got nothing: Mosquitto gave the offline member's share to the online one");
        Assert.Equal(1, back.GetBridge()!.Stats.SessionsResumed);
    }

    [Fact]
    public void Session_settings_are_validated_naming_the_option()
    {
        Assert.Contains("Mqtt.SessionExpiry", new MqttBridgeOptions { SessionExpiry = TimeSpan.FromSeconds(-1) }.Check(), StringComparison.Ordinal);
        Assert.Contains("Mqtt.SessionExpiry", new MqttBridgeOptions { SessionExpiry = TimeSpan.FromMilliseconds(1500) }.Check(), StringComparison.Ordinal);
        Assert.Contains("Mqtt.ClientId", new MqttBridgeOptions { ClientId = "a/b" }.Check(), StringComparison.Ordinal);
        Assert.Null(new MqttBridgeOptions { SessionExpiry = TimeSpan.Zero }.Check());
        Assert.Null(new MqttBridgeOptions().Check());
        Assert.Equal("cloud-bridge-box_1-11111", MqttBridgeOptions.DefaultClientId("box 1", 11111));
    }

    private async Task<IHost> SiloAsync(string clientId, Action<CloudOptions>? configure = null)
    {
        var host = await MosquittoBridgeTests.StartSiloAsync(_broker.Port, o =>
        {
            o.Mqtt.ClientId = clientId;
            o.Mqtt.SessionExpiry = TimeSpan.FromMinutes(2);
            configure?.Invoke(o);
        });
        _hosts.Add(host);
        return host;
    }

    private async Task StopAsync(IHost host)
    {
        if (_hosts.Remove(host))
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    private Task ConnectRobotAsync() => _robot.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port).WithClientId("robots")
        .WithProtocolVersion(MqttProtocolVersion.V500).Build());

    private async Task PublishAsync(string robot, ulong from, int count)
    {
        for (var seq = from; seq < from + (ulong)count; seq++)
        {
            var record = new Telemetry { RobotId = robot, Seq = seq, StreamId = 77, Pose = new Pose { Cell = 1 }, Progress = new PlanProgress { LastCompletedStep = (uint)seq } };
            var result = await _robot.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(FleetTopics.Telemetry("s1", robot)).WithPayload(record.ToByteArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.True(result.IsSuccess, $"record {seq} of {robot} not acknowledged: {result.ReasonCode}");
        }
    }
}
