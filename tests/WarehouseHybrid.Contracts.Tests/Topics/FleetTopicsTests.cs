using CsCheck;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Contracts.Tests.Topics;

/// <summary>The MQTT topic map: ids cannot inject levels or wildcards, and robot topics parse back.</summary>
public sealed class FleetTopicsTests
{
    private static readonly Gen<string> ValidId =
        Gen.String[Gen.OneOf(Gen.Char.AlphaNumeric, Gen.OneOf('-', '_')), 1, 64];

    [Theory]
    [InlineData("r1")]
    [InlineData("robot-007")]
    [InlineData("SITE_a")]
    [InlineData("-")]
    [InlineData("_")]
    public void Accepts_letters_digits_dash_and_underscore(string id) => Assert.True(FleetTopics.IsValidId(id));

    [Fact]
    public void Accepts_exactly_64_characters_and_rejects_65()
    {
        Assert.True(FleetTopics.IsValidId(new string('a', 64)));
        Assert.False(FleetTopics.IsValidId(new string('a', 65)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("+")]
    [InlineData("#")]
    [InlineData("a/b")]
    [InlineData("r+1")]
    [InlineData("r#")]
    [InlineData("/r1")]
    [InlineData("r 1")]
    [InlineData("r.1")]
    [InlineData("$SYS")]
    [InlineData("robot\0")]
    [InlineData("rob\u00f6t")]
    [InlineData("\uff11")]
    public void Rejects_ids_that_could_break_the_topic_tree(string id) => Assert.False(FleetTopics.IsValidId(id));

    [Fact]
    public void Rejects_null_id() => Assert.False(FleetTopics.IsValidId(null!));

    [Theory]
    [InlineData("+", "r1")]
    [InlineData("s1", "#")]
    [InlineData("s1/robots/r2", "r1")]
    [InlineData("s1", "")]
    [InlineData("s1", "r1/cmd")]
    public void Topic_builders_refuse_invalid_ids_naming_the_parameter(string site, string robot)
    {
        var ex = Assert.Throws<ArgumentException>(() => FleetTopics.Telemetry(site, robot));
        Assert.Equal(FleetTopics.IsValidId(site) ? "robot" : "site", ex.ParamName);
        Assert.Throws<ArgumentException>(() => FleetTopics.Plan(site, robot));
        Assert.Throws<ArgumentException>(() => FleetTopics.RobotCommandsFilter(site, robot));
    }

    [Fact]
    public void Topic_builders_reject_a_too_long_robot_id() =>
        Assert.Throws<ArgumentException>(() => FleetTopics.Events("s1", new string('r', 65)));

    [Fact]
    public void Builders_produce_the_documented_tree()
    {
        Assert.Equal("wh/v1/s1/robots/r1/telemetry", FleetTopics.Telemetry("s1", "r1"));
        Assert.Equal("wh/v1/s1/robots/r1/events", FleetTopics.Events("s1", "r1"));
        Assert.Equal("wh/v1/s1/robots/r1/cmd/plan", FleetTopics.Plan("s1", "r1"));
        Assert.Equal("wh/v1/s1/robots/r1/cmd/grant", FleetTopics.Grant("s1", "r1"));
        Assert.Equal("wh/v1/s1/robots/r1/cmd/task", FleetTopics.Task("s1", "r1"));
        Assert.Equal("wh/v1/s1/robots/r1/escalation/request", FleetTopics.EscalationRequest("s1", "r1"));
        Assert.Equal("wh/v1/s1/robots/r1/cmd/escalation", FleetTopics.EscalationResponse("s1", "r1"));
        Assert.Equal("wh/v1/s1/robots/r1/cmd/#", FleetTopics.RobotCommandsFilter("s1", "r1"));
        Assert.Equal("$share/bridge/wh/v1/+/robots/+/telemetry", FleetTopics.Shared("bridge", FleetTopics.AllTelemetryFilter));
    }

    [Fact]
    public void Every_built_robot_topic_parses_back_to_its_site_robot_and_leaf()
    {
        Func<string, string, string>[] builders =
        [
            FleetTopics.Telemetry, FleetTopics.Events, FleetTopics.Plan, FleetTopics.Grant,
            FleetTopics.Task, FleetTopics.EscalationRequest, FleetTopics.EscalationResponse,
        ];
        string[] leaves = ["telemetry", "events", "cmd/plan", "cmd/grant", "cmd/task", "escalation/request", "cmd/escalation"];

        Gen.Select(ValidId, ValidId, Gen.Int[0, builders.Length - 1]).Sample((site, robot, i) =>
        {
            var topic = builders[i](site, robot);
            Assert.True(FleetTopics.TryParseRobotTopic(topic, out var s, out var r, out var leaf));
            Assert.Equal(site, s);
            Assert.Equal(robot, r);
            Assert.Equal(leaves[i], leaf);
        });
    }

    [Theory]
    [InlineData("")]
    [InlineData("wh/v1")]
    [InlineData("wh/v1/s1/robots/r1")]
    [InlineData("wh/v2/s1/robots/r1/telemetry")]
    [InlineData("WH/v1/s1/robots/r1/telemetry")]
    [InlineData("wh/v1/s1/robot/r1/telemetry")]
    [InlineData("wh/v1/+/robots/r1/telemetry")]
    [InlineData("wh/v1/s1/robots/#/telemetry")]
    [InlineData("wh/v1/s1/robots/+/telemetry")]
    [InlineData("wh/v1//robots/r1/telemetry")]
    [InlineData("wh/v1/s1/robots//telemetry")]
    [InlineData("/wh/v1/s1/robots/r1/telemetry")]
    [InlineData("$share/g/wh/v1/s1/robots/r1/telemetry")]
    [InlineData("wh/v1/s\u00f61/robots/r1/telemetry")]
    [InlineData("wh/v1/s1/robots/r1/")]
    [InlineData("wh/v1/s1/robots/r1/cmd/#")]
    [InlineData("wh/v1/s1/robots/r1/+")]
    [InlineData("wh/v1/s1/robots/r1/cmd//plan")]
    public void Hostile_or_foreign_topics_are_rejected_and_outputs_stay_empty(string topic)
    {
        Assert.False(FleetTopics.TryParseRobotTopic(topic, out var site, out var robot, out var leaf));
        Assert.Equal(string.Empty, site);
        Assert.Equal(string.Empty, robot);
        Assert.Equal(string.Empty, leaf);
    }

    [Fact]
    public void Overlong_ids_in_a_received_topic_are_rejected()
    {
        var topic = $"wh/v1/{new string('s', 65)}/robots/r1/telemetry";
        Assert.False(FleetTopics.TryParseRobotTopic(topic, out _, out _, out _));
    }

    [Fact]
    public void Task_submission_topics_are_built_and_parsed_and_replies_only_go_under_the_sites_reply_tree()
    {
        Assert.Equal("wh/v1/s1/tasks/submit", FleetTopics.TaskSubmit("s1"));
        Assert.Equal("wh/v1/s1/tasks/reply/wms-1", FleetTopics.TaskReply("s1", "wms-1"));
        Assert.True(FleetTopics.TryParseTaskSubmitTopic("wh/v1/s1/tasks/submit", out var site));
        Assert.Equal("s1", site);
        Assert.True(FleetTopics.IsTaskReplyTopic("s1", "wh/v1/s1/tasks/reply/wms-1"));
        Assert.Throws<ArgumentException>(() => FleetTopics.TaskReply("s1", "a/b"));
        Assert.Throws<ArgumentException>(() => FleetTopics.TaskSubmit("+"));
    }

    [Theory]
    [InlineData("wh/v1/+/tasks/submit")]
    [InlineData("wh/v1/s1/tasks/submit/x")]
    [InlineData("wh/v1/s1/tasks")]
    [InlineData("wh/v2/s1/tasks/submit")]
    [InlineData("wh/v1/s1/robots/r1/telemetry")]
    public void Foreign_topics_are_not_submit_topics(string topic) =>
        Assert.False(FleetTopics.TryParseTaskSubmitTopic(topic, out _));

    [Theory]
    [InlineData("wh/v1/s1/robots/r1/cmd/plan")]
    [InlineData("wh/v1/s2/tasks/reply/wms-1")]
    [InlineData("wh/v1/s1/tasks/reply/")]
    [InlineData("wh/v1/s1/tasks/reply/a/b")]
    [InlineData("wh/v1/s1/tasks/reply/#")]
    [InlineData(null)]
    public void A_reply_topic_outside_the_sites_reply_tree_is_refused(string? topic) =>
        Assert.False(FleetTopics.IsTaskReplyTopic("s1", topic));
}
