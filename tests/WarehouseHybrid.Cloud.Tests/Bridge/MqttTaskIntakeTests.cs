using System.Collections.Concurrent;
using Google.Protobuf;
using MQTTnet;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>
/// Task intake over MQTT through the bridge and a real in-process MQTTnet broker: replies on the MQTT 5 response topic
/// with the correlation data, the same idempotency semantics as HTTP, field errors, and no reply to a forbidden topic.
/// </summary>
public sealed class MqttTaskIntakeTests(BridgeFixture fixture) : IClassFixture<BridgeFixture>
{
    private readonly ConcurrentDictionary<string, TaskSubmissionReply> _replies = new();

    [Fact]
    public async Task A_submission_is_answered_on_its_response_topic_and_a_retry_with_the_same_key_replays_the_task()
    {
        const string site = "mqtt-intake";
        await fixture.Host.GetSite(site).InitializeAsync(TestMaps.Corridor(site, 1));
        var replyTopic = FleetTopics.TaskReply(site, "wms-1");
        await ListenAsync(replyTopic);

        var submission = new TaskSubmission { IdempotencyKey = "wms-order-9", Priority = 3, Reference = "order-9" };
        submission.Errands.Add(new TaskErrand { Cell = 4 });
        submission.Errands.Add(new TaskErrand { Point = new GridPoint { X = 6, Y = 0 } });

        var first = await SubmitAsync(site, submission, replyTopic, "c1");
        Assert.True(first.Accepted, first.Error);
        Assert.False(first.Replayed);
        Assert.StartsWith(site + ".", first.TaskId, StringComparison.Ordinal);
        Assert.Equal("queued", first.Status);

        var again = await SubmitAsync(site, submission, replyTopic, "c2");
        Assert.True(again.Accepted);
        Assert.True(again.Replayed);
        Assert.Equal(first.TaskId, again.TaskId);

        var changed = submission.Clone();
        changed.Priority = 4;
        var conflict = await SubmitAsync(site, changed, replyTopic, "c3");
        Assert.False(conflict.Accepted);
        Assert.Contains(conflict.Errors, e => e.Field == "idempotency_key");
        Assert.Equal(1, (await fixture.Host.GetSite(site).GetStatsAsync()).TasksSubmitted);
    }

    [Fact]
    public async Task An_invalid_or_unreadable_submission_is_refused_with_the_field_and_creates_nothing()
    {
        const string site = "mqtt-bad";
        await fixture.Host.GetSite(site).InitializeAsync(TestMaps.Corridor(site, 1));
        var replyTopic = FleetTopics.TaskReply(site, "wms-2");
        await ListenAsync(replyTopic);

        var offMap = new TaskSubmission();
        offMap.Errands.Add(new TaskErrand { Point = new GridPoint { X = 99, Y = 0 } });
        var refused = await SubmitAsync(site, offMap, replyTopic, "b1");
        Assert.False(refused.Accepted);
        Assert.Contains(refused.Errors, e => e.Field == "errands[0]" && e.Message.Contains("off the 10x2 map", StringComparison.Ordinal));

        var empty = await SubmitAsync(site, new TaskSubmission(), replyTopic, "b2");
        Assert.Contains(empty.Errors, e => e.Field == "errands");

        await PublishAsync(FleetTopics.TaskSubmit(site), [0xFF, 0xFF, 0xFF], replyTopic, "b3");
        var garbage = await ReplyAsync("b3");
        Assert.False(garbage.Accepted);
        Assert.Contains("not a TaskSubmission", garbage.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await fixture.Host.GetSite(site).GetStatsAsync()).TasksSubmitted);
    }

    [Fact]
    public async Task A_response_topic_outside_the_sites_reply_tree_is_refused_unprocessed()
    {
        const string site = "mqtt-forbidden";
        await fixture.Host.GetSite(site).InitializeAsync(TestMaps.Corridor(site, 1));
        var intake = fixture.Host.Services.GetService(typeof(WarehouseHybrid.Cloud.Tasks.MqttTaskIntake)) as WarehouseHybrid.Cloud.Tasks.MqttTaskIntake;
        var refusedBefore = intake!.Refused;
        var submission = new TaskSubmission();
        submission.Errands.Add(new TaskErrand { Cell = 3 });

        // Aimed at a robot's command topic: the cloud must not publish there, nor create the task.
        await PublishAsync(FleetTopics.TaskSubmit(site), submission.ToByteArray(), FleetTopics.Plan(site, "mqtt-forbidden-r0"), "f1");
        await Eventually.WaitForAsync(() => intake.Refused > refusedBefore, "the submission to be refused");
        Assert.Equal(0, (await fixture.Host.GetSite(site).GetStatsAsync()).TasksSubmitted);
    }

    private async Task ListenAsync(string topic)
    {
        fixture.Robot.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == topic && e.ApplicationMessage.CorrelationData is { } c)
            {
                _replies[System.Text.Encoding.UTF8.GetString(c)] = TaskSubmissionReply.Parser.ParseFrom(e.ApplicationMessage.Payload);
            }

            return Task.CompletedTask;
        };
        await fixture.Robot.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
    }

    private async Task<TaskSubmissionReply> SubmitAsync(string site, TaskSubmission submission, string replyTopic, string correlation)
    {
        await PublishAsync(FleetTopics.TaskSubmit(site), submission.ToByteArray(), replyTopic, correlation);
        return await ReplyAsync(correlation);
    }

    private Task PublishAsync(string topic, byte[] payload, string responseTopic, string correlation) =>
        fixture.Robot.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithResponseTopic(responseTopic)
            .WithCorrelationData(System.Text.Encoding.UTF8.GetBytes(correlation))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());

    private Task<TaskSubmissionReply> ReplyAsync(string correlation) =>
        Eventually.WaitForAsync(() => Task.FromResult(_replies.GetValueOrDefault(correlation)), r => r is not null, $"the reply for {correlation}")!;
}
