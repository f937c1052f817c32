using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Edge.Tests.Doubles;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>Runs against a real MQTTnet broker started in-process on a free loopback port.</summary>
public sealed class CloudLinkTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly RecordingInbox _inbox = new();
    private TestBroker _broker = null!;
    private CloudLink _link = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync();
        _link = new CloudLink(Settings(_broker.Port), _inbox, TimeProvider.System, NullLogger.Instance);
        await _link.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => _link.IsConnected, Timeout, "the cloud link to connect");
    }

    public async Task DisposeAsync()
    {
        await _link.DisposeAsync();
        await _broker.DisposeAsync();
    }

    private static CloudLinkSettings Settings(int port) =>
        new("r1", "s1", "127.0.0.1", port, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), 10);

    [Fact]
    public async Task Plan_segments_and_grants_on_the_robot_command_topics_reach_the_inbox()
    {
        var seg = Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East));
        await _broker.PublishAsync(FleetTopics.Plan("s1", "r1"), seg);
        await _broker.PublishAsync(FleetTopics.Grant("s1", "r1"), new GrantUpdate { RobotId = "r1", PlanId = "p1", Revision = 1, GrantedThroughStep = 1 });
        await _broker.PublishAsync(FleetTopics.Task("s1", "r1"), new TaskAssignment { RobotId = "r1", TaskId = "t9", Errands = { 3, 4 } });

        await Eventually.UntilAsync(() => _inbox.Messages.Count == 3, Timeout, "three commands");
        Assert.Contains(_inbox.Messages, m => m is PlanSegment p && p.Equals(seg));
        Assert.Contains(_inbox.Messages, m => m is GrantUpdate { GrantedThroughStep: 1 });
        Assert.Contains(_inbox.Messages, m => m is TaskAssignment { TaskId: "t9" });
    }

    [Fact]
    public async Task Malformed_and_misaddressed_commands_are_counted_and_dropped_and_the_link_keeps_working()
    {
        await _broker.PublishAsync(FleetTopics.Plan("s1", "r1"), [0xFF, 0xFF, 0xFF]);
        await _broker.PublishAsync(FleetTopics.Grant("s1", "r1"), new GrantUpdate { RobotId = "someone-else", GrantedThroughStep = 3 });
        await Eventually.UntilAsync(() => _link.Counters.MalformedCommands == 2, Timeout, "two malformed commands counted");

        await _broker.PublishAsync(FleetTopics.Grant("s1", "r1"), new GrantUpdate { RobotId = "r1", GrantedThroughStep = 4 });
        await Eventually.UntilAsync(() => _inbox.Messages.Count == 1, Timeout, "the good command after the bad ones");
        Assert.True(_link.IsConnected);
    }

    [Fact]
    public async Task Urgent_offer_publishes_telemetry_with_the_completed_step_at_once()
    {
        await _broker.SubscribeAsync(FleetTopics.Telemetry("s1", "r1"));
        var sample = new ControlSample
        {
            PlanId = "p1", TraceId = "t", TaskId = string.Empty, LastCompletedStep = 7, HasPlan = true,
            HasDiscretePose = true, DiscretePose = new RobotPose(12, DomainHeading.South), Mode = DecisionMode.Rule,
            Activity = RobotActivity.Idle, MinRangeMetres = double.PositiveInfinity,
        };
        _link.Offer(sample, urgent: true);

        await Eventually.UntilAsync(() => _broker.Received.Any(m => Telemetry.Parser.ParseFrom(m.Payload).Progress.LastCompletedStep == 7), Timeout, "telemetry for step 7");
        var t = Telemetry.Parser.ParseFrom(_broker.Received.Last().Payload);
        Assert.Equal("r1", t.RobotId);
        Assert.Equal(12, t.Pose.Cell);
        Assert.Equal(Heading.South, t.Pose.Heading);
        Assert.Equal(WarehouseHybrid.Contracts.Fleet.DecisionMode.Rule, t.DecisionMode);
    }

    [Fact]
    public async Task Mode_change_events_are_published_as_robot_events()
    {
        await _broker.SubscribeAsync(FleetTopics.Events("s1", "r1"));
        _link.Offer(new RobotEventRecord("mode-change", "Rule->ShieldStop: bumper", DateTimeOffset.UnixEpoch, "tr"));
        _link.Offer(default(ControlSample) with { PlanId = "", TraceId = "", TaskId = "" }, urgent: true);

        await Eventually.UntilAsync(() => _broker.Received.Any(m => m.Topic.EndsWith("/events", StringComparison.Ordinal)), Timeout, "a robot event");
        var e = RobotEvent.Parser.ParseFrom(_broker.Received.First(m => m.Topic.EndsWith("/events", StringComparison.Ordinal)).Payload);
        Assert.Equal("mode-change", e.Kind);
        Assert.Equal("tr", e.TraceId);
    }

    [Fact]
    public async Task Without_a_broker_telemetry_is_dropped_and_counted_never_thrown()
    {
        await using var orphan = new CloudLink(Settings(FreePort.Next()), _inbox, TimeProvider.System, NullLogger.Instance);
        await orphan.StartAsync(CancellationToken.None);
        orphan.Offer(default(ControlSample) with { PlanId = "", TraceId = "", TaskId = "" }, urgent: true);

        await Eventually.UntilAsync(() => orphan.Counters.TelemetryDropped >= 1, Timeout, "dropped telemetry");
        await Eventually.UntilAsync(() => orphan.Counters.ConnectFailures >= 2, Timeout, "connection retries");
        Assert.False(orphan.IsConnected);
        Assert.Equal(0, orphan.Counters.TelemetryPublished);
    }

    private sealed class RecordingInbox : IPlanInbox
    {
        public ConcurrentQueue<object> Messages { get; } = new();

        public void Post(PlanSegment segment) => Messages.Enqueue(segment);

        public void Post(GrantUpdate grant) => Messages.Enqueue(grant);

        public void Post(TaskAssignment task) => Messages.Enqueue(task);
    }
}
