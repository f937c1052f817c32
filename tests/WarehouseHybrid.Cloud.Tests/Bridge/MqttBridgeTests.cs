using System.Collections.Concurrent;
using Google.Protobuf;
using MQTTnet;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>The MQTT bridge against a real in-process MQTTnet broker (started by <see cref="BridgeFixture"/>).</summary>
public sealed class MqttBridgeTests(BridgeFixture fixture) : IClassFixture<BridgeFixture>
{
    private static Telemetry TelemetryOf(string robot, ulong seq, uint step = 0, int cell = 0) => new()
    {
        RobotId = robot,
        Seq = seq,
        Pose = new Pose { Cell = cell, Heading = Heading.East },
        Progress = new PlanProgress { LastCompletedStep = step },
        BatteryFraction = 0.75f,
        ModelVersion = "m-1",
    };

    [Fact]
    public async Task A_telemetry_publish_reaches_the_robot_grain()
    {
        await fixture.PublishAsync(FleetTopics.Telemetry("bridge-a", "bot-a"), TelemetryOf("bot-a", 5).ToByteArray());

        var status = await Eventually.WaitForAsync(() => fixture.Host.GetRobot("bot-a").GetStatusAsync(), s => s is not null, "telemetry of bot-a");
        Assert.Equal("bridge-a", status!.SiteId);
        Assert.Equal(5ul, status.LastTelemetry!.Seq);
        Assert.Equal(0.75f, status.LastTelemetry.BatteryFraction);
        Assert.Equal("m-1", status.LastTelemetry.ModelVersion);
    }

    [Fact]
    public async Task Bad_messages_are_rejected_by_reason_and_a_following_good_message_still_arrives()
    {
        var before = fixture.Bridge.Stats;
        await fixture.PublishAsync(FleetTopics.Telemetry("bridge-b", "bot-b"), [0xFF, 0xFF, 0xFF, 0xFF]);
        await fixture.PublishAsync(FleetTopics.Telemetry("bridge-b", "bot-b"), TelemetryOf("someone-else", 1).ToByteArray());
        var big = TelemetryOf("bot-b", 1);
        big.FallbackReason = new string('x', BridgeFixture.MaxPayloadBytes);
        await fixture.PublishAsync(FleetTopics.Telemetry("bridge-b", "bot-b"), big.ToByteArray());
        await fixture.PublishAsync("wh/v1/bridge-b/robots/bad robot!/telemetry", TelemetryOf("bad robot!", 1).ToByteArray());
        await fixture.PublishAsync(FleetTopics.Telemetry("bridge-b", "bot-b"), TelemetryOf("bot-b", 9).ToByteArray());

        var status = await Eventually.WaitForAsync(() => fixture.Host.GetRobot("bot-b").GetStatusAsync(), s => s is not null, "the good telemetry of bot-b");
        Assert.Equal(9ul, status!.LastTelemetry!.Seq);
        Assert.Equal(1, status.TelemetryCount);
        var after = fixture.Bridge.Stats;
        Assert.Equal(1, after.RejectedFor(RejectionReason.PayloadMalformed) - before.RejectedFor(RejectionReason.PayloadMalformed));
        Assert.Equal(1, after.RejectedFor(RejectionReason.RobotIdMismatch) - before.RejectedFor(RejectionReason.RobotIdMismatch));
        Assert.Equal(1, after.RejectedFor(RejectionReason.PayloadTooLarge) - before.RejectedFor(RejectionReason.PayloadTooLarge));
        Assert.Equal(1, after.RejectedFor(RejectionReason.TopicInvalid) - before.RejectedFor(RejectionReason.TopicInvalid));
    }

    [Fact]
    public async Task A_robot_event_reaches_the_robot_grain()
    {
        var e = new RobotEvent { RobotId = "bot-e", Seq = 1, Kind = "plan-rejected", Detail = "start pose differs" };
        await fixture.PublishAsync(FleetTopics.Events("bridge-e", "bot-e"), e.ToByteArray());
        var status = await Eventually.WaitForAsync(() => fixture.Host.GetRobot("bot-e").GetStatusAsync(), s => s?.EventCount == 1, "event of bot-e");
        Assert.Equal("plan-rejected", status!.LastEventKind);
    }

    [Fact]
    public async Task A_plan_segment_of_the_site_reaches_a_client_subscribed_to_the_robots_plan_topic()
    {
        const string site = "bridge-plan";
        var received = new ConcurrentQueue<PlanSegment>();
        var factory = new MqttClientFactory();
        using var robot = factory.CreateMqttClient();
        robot.ApplicationMessageReceivedAsync += args =>
        {
            received.Enqueue(PlanSegment.Parser.ParseFrom(args.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
        await robot.ConnectAsync(factory.CreateClientOptionsBuilder().WithTcpServer("127.0.0.1", fixture.BrokerPort).WithClientId("plan-listener").Build());
        await robot.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter(FleetTopics.RobotCommandsFilter(site, "bot-p"), MqttQualityOfServiceLevel.AtLeastOnce).Build());

        await fixture.Host.GetSite(site).InitializeAsync(TestMaps.Corridor(site, 1, "bot-p-").WithRobotId("bot-p"));
        await fixture.PublishAsync(FleetTopics.Telemetry(site, "bot-p"), TelemetryOf("bot-p", 1).ToByteArray());

        await Eventually.WaitForAsync(() => !received.IsEmpty, "a plan segment on " + FleetTopics.Plan(site, "bot-p"));
        Assert.True(received.TryPeek(out var segment));
        Assert.Equal("bot-p", segment.RobotId);
        Assert.Equal(1u, segment.FirstStep);
        Assert.True(segment.Steps[0].Granted);
        // The bridge counts a publish when the broker's PUBACK is back, which can come after the robot has the message.
        await Eventually.UntilAsync(() => fixture.Bridge.Stats.Published >= 1, TimeSpan.FromSeconds(30), "the bridge's count of the publish");
        await robot.DisconnectAsync();
    }
}
