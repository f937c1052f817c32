using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Sparkplug.Wire;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Contracts.Tracing;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Edge.Outbox;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Tests.Common;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>
/// The cloud link's behaviour, run against every broker the project supports (STYLE.md: one abstract test class,
/// one fixture per implementation): the in-process MQTTnet broker and the real Mosquitto 2.
/// </summary>
public abstract class CloudLinkContract : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    // Records only when the test offers one urgently, so "record i stored" is deterministic.
    private static readonly TimeSpan OnlyUrgent = TimeSpan.FromHours(1);
    private readonly List<CloudLink> _links = [];
    private readonly List<DirectoryInfo> _dirs = [];

    protected LinkBroker Broker { get; private set; } = null!;

    protected TestSide Side { get; private set; } = null!;

    protected RecordingInbox Inbox { get; } = new();

    public async Task InitializeAsync()
    {
        Broker = await StartBrokerAsync();
        Side = await TestSide.ConnectAsync(Broker.Port);
    }

    public async Task DisposeAsync()
    {
        foreach (var link in _links)
        {
            await link.DisposeAsync();
        }

        await Side.DisposeAsync();
        await Broker.DisposeAsync();
        foreach (var d in _dirs)
        {
            d.Delete(recursive: true);
        }
    }

    protected abstract Task<LinkBroker> StartBrokerAsync();

    protected string NewStateDirectory()
    {
        var d = Directory.CreateTempSubdirectory("wh-link-");
        _dirs.Add(d);
        return d.FullName;
    }

    protected CloudLink NewLink(string? stateDirectory = null, string primaryHost = "", int? port = null, Action<CloudLinkOptions>? configure = null, string robot = "r1", TimeSpan? telemetryPeriod = null)
    {
        var options = new CloudLinkOptions
        {
            StateDirectory = stateDirectory ?? NewStateDirectory(),
            PrimaryHostId = primaryHost,
            FsyncPolicy = OutboxFsyncPolicy.GroupCommit,
            GroupCommitInterval = TimeSpan.FromMilliseconds(2),
        };
        configure?.Invoke(options);
        var settings = new CloudLinkSettings(robot, "s1", "127.0.0.1", port ?? Broker.Port, telemetryPeriod ?? OnlyUrgent,
            TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), 10) { Link = options };
        var link = new CloudLink(settings, Inbox, TimeProvider.System, NullLogger.Instance);
        _links.Add(link);
        return link;
    }

    protected static async Task StartedAsync(CloudLink link)
    {
        await link.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => link.IsConnected, Timeout, "the cloud link to connect");
    }

    protected static ControlSample Sample(uint step = 0) => new()
    {
        PlanId = "p1", TraceId = string.Empty, TaskId = string.Empty, LastCompletedStep = step, HasPlan = true,
        HasDiscretePose = true, DiscretePose = new RobotPose(12, DomainHeading.South), Mode = DecisionMode.Rule,
        Activity = RobotActivity.Idle, MinRangeMetres = double.PositiveInfinity,
    };

    protected List<Telemetry> TelemetryReceived(string robot = "r1") =>
        [.. Side.On(FleetTopics.Telemetry("s1", robot)).Select(m => Telemetry.Parser.ParseFrom(m.Payload))];

    [Fact]
    public async Task Plans_grants_and_tasks_on_the_robot_command_topics_reach_the_inbox()
    {
        var link = NewLink();
        await StartedAsync(link);
        var seg = Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East));
        await Side.PublishAsync(FleetTopics.Plan("s1", "r1"), seg.ToByteArray());
        await Side.PublishAsync(FleetTopics.Grant("s1", "r1"), new GrantUpdate { RobotId = "r1", PlanId = "p1", Revision = 1, GrantedThroughStep = 1 }.ToByteArray());
        await Side.PublishAsync(FleetTopics.Task("s1", "r1"), new TaskAssignment { RobotId = "r1", TaskId = "t9", Errands = { 3, 4 } }.ToByteArray());

        await Eventually.UntilAsync(() => Inbox.Messages.Count == 3, Timeout, "three commands");
        Assert.Contains(Inbox.Messages, m => m is PlanSegment p && p.Equals(seg));
        Assert.Contains(Inbox.Messages, m => m is GrantUpdate { GrantedThroughStep: 1 });
        Assert.Contains(Inbox.Messages, m => m is TaskAssignment { TaskId: "t9" });
    }

    [Fact]
    public async Task Malformed_oversized_and_misaddressed_commands_are_counted_and_dropped_and_the_link_keeps_working()
    {
        var link = NewLink(configure: o => o.MaxCommandBytes = 1024);
        await StartedAsync(link);
        await Side.PublishAsync(FleetTopics.Plan("s1", "r1"), [0xFF, 0xFF, 0xFF]);
        await Side.PublishAsync(FleetTopics.Grant("s1", "r1"), new GrantUpdate { RobotId = "someone-else", GrantedThroughStep = 3 }.ToByteArray());
        await Side.PublishAsync(FleetTopics.Plan("s1", "r1"), new byte[2048]);
        await Eventually.UntilAsync(() => link.Counters.MalformedCommands == 3, Timeout, "three bad commands counted");

        await Side.PublishAsync(FleetTopics.Grant("s1", "r1"), new GrantUpdate { RobotId = "r1", GrantedThroughStep = 4 }.ToByteArray());
        await Eventually.UntilAsync(() => Inbox.Messages.Count == 1, Timeout, "the good command after the bad ones");
        Assert.True(link.IsConnected);
    }

    [Fact]
    public async Task Telemetry_carries_the_outbox_seq_the_stream_id_and_its_traceparent_in_payload_and_user_property()
    {
        await Side.SubscribeAsync(FleetTopics.Telemetry("s1", "r1"));
        var link = NewLink();
        await StartedAsync(link);
        link.Offer(Sample(step: 7), urgent: true);

        await Eventually.UntilAsync(() => TelemetryReceived().Any(t => t.Progress.LastCompletedStep == 7), Timeout, "telemetry for step 7");
        var message = Side.On(FleetTopics.Telemetry("s1", "r1")).First();
        var t = Telemetry.Parser.ParseFrom(message.Payload);
        Assert.Equal("r1", t.RobotId);
        Assert.Equal(12, t.Pose.Cell);
        Assert.Equal(Heading.South, t.Pose.Heading);
        Assert.Equal(link.StreamId, t.StreamId);
        Assert.NotEqual(0UL, t.StreamId);
        Assert.True(TraceParent.IsValid(t.TraceId), t.TraceId);
        Assert.Equal(t.TraceId, message.UserProperties[TraceParent.PropertyName]);
        await Eventually.UntilAsync(() => link.Outbox!.DeliveredSeq >= (long)t.Seq, Timeout, "the record marked delivered on PUBACK");
    }

    [Fact]
    public async Task Events_are_stored_and_published_with_their_class_and_share_the_seq_space_with_telemetry()
    {
        await Side.SubscribeAsync(FleetTopics.Events("s1", "r1"));
        await Side.SubscribeAsync(FleetTopics.Telemetry("s1", "r1"));
        var link = NewLink();
        await StartedAsync(link);
        link.Offer(new RobotEventRecord("shield-stop", "bumper", DateTimeOffset.UnixEpoch, "tr"));
        link.Offer(new RobotEventRecord("audit-decision", "model 1.0.0 digest ab", DateTimeOffset.UnixEpoch, ""), OutboxRecordClass.Audit);
        link.Offer(Sample(), urgent: true);

        await Eventually.UntilAsync(() => Side.On(FleetTopics.Events("s1", "r1")).Count() == 2 && TelemetryReceived().Count >= 1, Timeout, "two events and telemetry");
        var events = Side.On(FleetTopics.Events("s1", "r1")).Select(m => RobotEvent.Parser.ParseFrom(m.Payload)).ToList();
        Assert.Equal(["shield-stop", "audit-decision"], events.Select(e => e.Kind));
        Assert.Equal(["safety", "audit"], events.Select(e => e.EventClass));
        Assert.Equal("tr", events[0].TraceId);
        var seqs = events.Select(e => e.Seq).Concat(TelemetryReceived().Select(t => t.Seq)).ToList();
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
    }

    [Fact]
    public async Task Without_a_broker_records_wait_in_the_outbox_and_are_delivered_in_order_once_it_appears()
    {
        var dir = NewStateDirectory();
        var link = NewLink(stateDirectory: dir, port: FreePort.Next());
        await link.StartAsync(CancellationToken.None);
        for (var i = 1; i <= 20; i++)
        {
            link.Offer(Sample((uint)i), urgent: true);
            await Eventually.UntilAsync(() => link.Counters.RecordsStored >= i, Timeout, $"record {i} stored");
        }

        await Eventually.UntilAsync(() => link.Counters.ConnectFailures >= 2, Timeout, "connection retries");
        Assert.Equal(0, link.Counters.TelemetryPublished);
        Assert.Equal(0, link.Counters.TelemetryDropped);

        // The daemon restarts pointed at a broker that is there (same state directory): the backlog goes out.
        await link.StopAsync(TimeSpan.FromSeconds(2));
        await Side.SubscribeAsync(FleetTopics.Telemetry("s1", "r1"));
        var again = NewLink(stateDirectory: dir);
        await StartedAsync(again);
        await Eventually.UntilAsync(() => TelemetryReceived().Count(t => t.Progress.LastCompletedStep >= 1) >= 20, Timeout, "the backlog delivered");
        var steps = TelemetryReceived().Select(t => t.Progress.LastCompletedStep).Where(s => s >= 1).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (uint)i), steps.Distinct().Take(20));
        var seqs = TelemetryReceived().Select(t => t.Seq).ToList();
        Assert.Equal(seqs.OrderBy(s => s), seqs);
    }

    [Fact]
    public async Task Sparkplug_births_with_every_metric_then_ddata_by_alias_and_the_will_is_the_ndeath_with_the_births_bdseq()
    {
        await Side.SubscribeAsync("spBv1.0/s1/#");
        var link = NewLink();
        await StartedAsync(link);
        link.Offer(Sample(1), urgent: true);
        await Eventually.UntilAsync(() => Side.On(SparkplugTopic.Device("s1", SparkplugMessageType.DBIRTH, "r1", "r1")).Any(), Timeout, "a DBIRTH");
        link.Offer(Sample(2), urgent: true);
        await Eventually.UntilAsync(() => Side.On(SparkplugTopic.Device("s1", SparkplugMessageType.DDATA, "r1", "r1")).Any(), Timeout, "a DDATA");

        var nbirth = Payload.Parser.ParseFrom(Side.On(SparkplugTopic.Node("s1", SparkplugMessageType.NBIRTH, "r1")).Single().Payload);
        Assert.Equal(0UL, nbirth.Seq);
        var bdSeq = SparkplugPayloadReader.FindByName(nbirth, SparkplugPayloadReader.BdSeqMetric)!.LongValue;
        var dbirth = Payload.Parser.ParseFrom(Side.On(SparkplugTopic.Device("s1", SparkplugMessageType.DBIRTH, "r1", "r1")).Single().Payload);
        Assert.Equal(RobotMetrics.Definitions.Select(d => d.Name), dbirth.Metrics.Select(m => m.Name));
        var ddata = Payload.Parser.ParseFrom(Side.On(SparkplugTopic.Device("s1", SparkplugMessageType.DDATA, "r1", "r1")).First().Payload);
        Assert.All(ddata.Metrics, m => Assert.False(m.HasName));
        Assert.Contains(ddata.Metrics, m => m.Alias == dbirth.Metrics.Single(b => b.Name == RobotMetrics.Names.LastCompletedStep).Alias && m.LongValue == 2);

        // The broker publishes the Will when the link goes away: NDEATH with the same bdSeq.
        await link.StopAsync(TimeSpan.FromSeconds(2));
        await Eventually.UntilAsync(() => Side.On(SparkplugTopic.Node("s1", SparkplugMessageType.NDEATH, "r1")).Any(), Timeout, "the NDEATH");
        var ndeath = Payload.Parser.ParseFrom(Side.On(SparkplugTopic.Node("s1", SparkplugMessageType.NDEATH, "r1")).Single().Payload);
        Assert.Equal(bdSeq, SparkplugPayloadReader.FindByName(ndeath, SparkplugPayloadReader.BdSeqMetric)!.LongValue);
    }

    [Fact]
    public async Task Ncmd_rebirth_resends_the_births_starting_again_at_seq_zero()
    {
        await Side.SubscribeAsync("spBv1.0/s1/#");
        var link = NewLink();
        await StartedAsync(link);
        link.Offer(Sample(1), urgent: true);
        await Eventually.UntilAsync(() => Side.On(SparkplugTopic.Device("s1", SparkplugMessageType.DBIRTH, "r1", "r1")).Any(), Timeout, "a DBIRTH");
        var rebirth = new Payload { Timestamp = 1, Seq = 0 };
        rebirth.Metrics.Add(new Payload.Types.Metric { Name = SparkplugPayloadReader.RebirthMetric, Datatype = (uint)DataType.Boolean, BooleanValue = true });
        await Side.PublishAsync(SparkplugTopic.Node("s1", SparkplugMessageType.NCMD, "r1"), rebirth.ToByteArray(), qos: MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce);

        await Eventually.UntilAsync(() => Side.On(SparkplugTopic.Node("s1", SparkplugMessageType.NBIRTH, "r1")).Count() == 2, Timeout, "a second NBIRTH");
        await Eventually.UntilAsync(() => Side.On(SparkplugTopic.Device("s1", SparkplugMessageType.DBIRTH, "r1", "r1")).Count() == 2, Timeout, "a second DBIRTH");
        Assert.All(Side.On(SparkplugTopic.Node("s1", SparkplugMessageType.NBIRTH, "r1")), m => Assert.Equal(0UL, Payload.Parser.ParseFrom(m.Payload).Seq));
    }

    [Fact]
    public async Task While_the_primary_host_is_offline_nothing_is_delivered_and_held_sparkplug_data_follows_as_historical()
    {
        const string host = "cloud-host";
        await Side.SubscribeAsync("spBv1.0/s1/#");
        await Side.SubscribeAsync(FleetTopics.Telemetry("s1", "r1"));
        await Side.PublishAsync(SparkplugTopic.State(host), new SparkplugHostState(false, 1000).Encode(), retain: true);
        var link = NewLink(primaryHost: host);
        await StartedAsync(link);
        for (var i = 1; i <= 3; i++)
        {
            link.Offer(Sample((uint)i), urgent: true);
            await Eventually.UntilAsync(() => link.Counters.RecordsStored >= i, Timeout, $"record {i} stored");
        }

        Assert.True(link.Counters.WaitingForHost);
        Assert.Empty(TelemetryReceived());
        Assert.Empty(Side.On(SparkplugTopic.Node("s1", SparkplugMessageType.NBIRTH, "r1")));

        await Side.PublishAsync(SparkplugTopic.State(host), new SparkplugHostState(true, 2000).Encode(), retain: true);
        await Eventually.UntilAsync(() => TelemetryReceived().Count >= 3, Timeout, "the held protobuf telemetry");
        await Eventually.UntilAsync(() => Side.On(SparkplugTopic.Device("s1", SparkplugMessageType.DDATA, "r1", "r1"))
            .Any(m => Payload.Parser.ParseFrom(m.Payload).Metrics.All(x => x.IsHistorical)), Timeout, "historical DDATA");
        Assert.Single(Side.On(SparkplugTopic.Node("s1", SparkplugMessageType.NBIRTH, "r1")));
        await Side.PublishAsync(SparkplugTopic.State(host), [], retain: true); // clear the retained STATE
    }

    [Fact]
    public async Task An_escalation_is_answered_through_its_response_topic_by_correlation_data_and_late_answers_are_discarded()
    {
        await Side.SubscribeAsync(FleetTopics.EscalationRequest("s1", "r1"));
        var link = NewLink();
        await StartedAsync(link);
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30).ToUnixTimeMilliseconds();
        var trace = TraceParent.NewRoot();
        Assert.True(link.Escalation.TrySend(new EscalationRequest { RobotId = "r1", RequestId = "q1", DeadlineUnixMs = deadline, TraceId = trace }));

        await Eventually.UntilAsync(() => Side.On(FleetTopics.EscalationRequest("s1", "r1")).Any(), Timeout, "the request on the broker");
        var request = Side.On(FleetTopics.EscalationRequest("s1", "r1")).Single();
        Assert.Equal(FleetTopics.EscalationResponse("s1", "r1"), request.ResponseTopic);
        Assert.Equal("q1", Encoding.UTF8.GetString(request.CorrelationData!));
        Assert.Equal(trace, request.UserProperties[TraceParent.PropertyName]);

        var answer = new EscalationResponse { RobotId = "r1", RequestId = "q1", SpeedLimitMps = 0.2f, TraceId = trace };
        await Side.PublishAsync(request.ResponseTopic!, answer.ToByteArray(), correlation: request.CorrelationData);
        await Eventually.UntilAsync(() => link.Escalation.Counters.Answered == 1, Timeout, "the answer matched");
        Assert.True(link.Escalation.TryTakeResponse("q1", out var got));
        Assert.Equal(0.2f, got.SpeedLimitMps);

        // The same answer again, and one nobody asked for: discarded, never handed out.
        await Side.PublishAsync(request.ResponseTopic!, answer.ToByteArray(), correlation: request.CorrelationData);
        await Side.PublishAsync(request.ResponseTopic!, new EscalationResponse { RobotId = "r1", RequestId = "q9" }.ToByteArray(), correlation: Encoding.UTF8.GetBytes("q9"));
        await Eventually.UntilAsync(() => link.Escalation.Counters.Late == 2, Timeout, "two late answers counted");
        Assert.False(link.Escalation.TryTakeResponse("q1", out _));
        Assert.False(link.Escalation.TryTakeResponse("q9", out _));
    }

    [Fact]
    public async Task Site_sensors_ride_on_the_same_connection_and_a_garbage_message_never_releases_the_estop()
    {
        var store = new SensorSnapshotStore();
        (int X, int Y)? cell = (6, 1);
        using var site = new SiteSensorSubscriber(new SiteSensorSettings("s1", [new SiteZone("aisle-1", 5, 0, 9, 2)], TimeSpan.FromMilliseconds(20)),
            store, () => cell, TimeProvider.System, NullLogger.Instance);
        var link = NewLink();
        link.AddSubscription(site);
        await StartedAsync(link);
        site.Start();

        await Side.PublishAsync(SiteSensorTopics.SpeedLimit("s1", "aisle-1"), Encoding.UTF8.GetBytes("{\"maxMps\":0.3}"));
        await Eventually.UntilAsync(() => { store.Read(out var s); return s.Site.SpeedLimitMps == 0.3; }, Timeout, "the zone limit");
        await Side.PublishAsync(SiteSensorTopics.EmergencyStop("s1"), Encoding.UTF8.GetBytes("{\"engaged\":true}"));
        await Eventually.UntilAsync(() => { store.Read(out var s); return s.Site.EmergencyStop; }, Timeout, "the site e-stop");

        cell = (1, 1); // drives out of the zone: the periodic re-resolution lifts the limit without a new message
        await Eventually.UntilAsync(() => { store.Read(out var s); return double.IsPositiveInfinity(s.Site.SpeedLimitMps); }, Timeout, "the limit to lift outside the zone");
        await Side.PublishAsync(SiteSensorTopics.EmergencyStop("s1"), Encoding.UTF8.GetBytes("garbage"));
        await Eventually.UntilAsync(() => site.Rejected == 1, Timeout, "the malformed message to be refused");
        store.Read(out var after);
        Assert.True(after.Site.EmergencyStop, "a malformed message must not release the e-stop");
        Assert.Equal(1, link.Counters.Connects);
    }

    [Fact]
    public async Task A_short_broker_outage_loses_no_acknowledged_record_and_the_backlog_arrives_in_order()
    {
        await Side.SubscribeAsync(FleetTopics.Telemetry("s1", "r1"));
        await Side.SubscribeAsync(FleetTopics.Events("s1", "r1"));
        await OutageRoundAsync(await StartOutageLinkAsync(), TimeSpan.Zero, records: 60);
    }

    private const string OutageHost = "outage-host";

    /// <summary>
    /// A link whose primary host is the test side: after the restart the broker has no subscriber until the test
    /// side is back, and only the host's STATE tells the link that someone listens again (as the bridge does).
    /// </summary>
    protected async Task<CloudLink> StartOutageLinkAsync()
    {
        await Side.PublishAsync(SparkplugTopic.State(OutageHost), new SparkplugHostState(true, 1).Encode(), retain: true);
        var link = NewLink(primaryHost: OutageHost);
        await StartedAsync(link);
        await Eventually.UntilAsync(() => !link.Counters.WaitingForHost, Timeout, "the host's STATE online");
        return link;
    }

    /// <summary>Offers records before, during and after an outage of <paramref name="outage"/>; every stored one must arrive, in order.</summary>
    protected async Task OutageRoundAsync(CloudLink link, TimeSpan outage, int records)
    {
        var third = records / 3;
        await OfferAsync(link, 1, third);
        // What the broker has acknowledged but not yet passed on dies with it (no persistence, clean sessions): the
        // outage starts once the first third is through, so every loss the test could see would be the link's.
        await Eventually.UntilAsync(() => DistinctSteps().Count >= third, Timeout, "the first third at the test side");
        await Broker.StopAsync();
        await Eventually.UntilAsync(() => !link.IsConnected, Timeout, "the link to see the outage");
        await OfferAsync(link, third + 1, 2 * third);
        if (outage > TimeSpan.Zero)
        {
            await Task.Delay(outage, TimeProvider.System); // the outage itself is the scenario, not a wait for a result
        }

        await Broker.StartAsync();
        await Side.ReconnectAsync();
        await Side.PublishAsync(SparkplugTopic.State(OutageHost), new SparkplugHostState(true, 2).Encode(), retain: true);
        await OfferAsync(link, 2 * third + 1, records);
        await Eventually.UntilAsync(() => link.IsConnected, TimeSpan.FromSeconds(60), "the link to reconnect");
        var stored = link.Outbox!.DurableSeq;
        await Eventually.UntilAsync(() => link.Outbox!.DeliveredSeq >= stored, TimeSpan.FromSeconds(60), "the backlog to drain");
        await Eventually.UntilAsync(() => DistinctSteps().Count >= records, Timeout, "every record at the test side");
        await Side.PublishAsync(SparkplugTopic.State(OutageHost), [], retain: true); // clear the retained STATE

        // Received at the subscriber: every step once after discarding duplicates by seq, seqs increasing.
        var telemetry = TelemetryReceived();
        var unique = telemetry.GroupBy(t => t.Seq).Select(g => g.First()).ToList();
        Assert.Equal(unique.Select(t => t.Seq).Order(), unique.Select(t => t.Seq));
        Assert.Equal(Enumerable.Range(1, records).Select(i => (uint)i), DistinctSteps());

        List<uint> DistinctSteps() => [.. TelemetryReceived().GroupBy(t => t.Seq).Select(g => g.First().Progress.LastCompletedStep).Where(s => s > 0).Distinct()];
    }

    private static async Task OfferAsync(CloudLink link, int from, int to)
    {
        for (var i = from; i <= to; i++)
        {
            var before = link.Counters.RecordsStored;
            link.Offer(Sample((uint)i), urgent: true);
            await Eventually.UntilAsync(() => link.Counters.RecordsStored > before, Timeout, $"record {i} stored");
        }
    }

    public sealed class RecordingInbox : IPlanInbox
    {
        public ConcurrentQueue<object> Messages { get; } = new();

        public void Post(PlanSegment segment) => Messages.Enqueue(segment);

        public void Post(GrantUpdate grant) => Messages.Enqueue(grant);

        public void Post(TaskAssignment task) => Messages.Enqueue(task);
    }
}

/// <summary>The link contract against MQTTnet's in-process broker.</summary>
public sealed class CloudLinkInProcessTests : CloudLinkContract
{
    protected override async Task<LinkBroker> StartBrokerAsync() => await InProcessLinkBroker.StartNewAsync();
}

/// <summary>The link contract against the real Mosquitto 2 (started by the fixture on a free loopback port).</summary>
public sealed class CloudLinkMosquittoTests : CloudLinkContract
{
    protected override async Task<LinkBroker> StartBrokerAsync() => await MosquittoLinkBroker.StartNewAsync();

    [Fact]
    public async Task A_30_second_mosquitto_outage_loses_no_acknowledged_record_and_every_record_arrives_once_in_order()
    {
        await Side.SubscribeAsync(FleetTopics.Telemetry("s1", "r1"));
        await OutageRoundAsync(await StartOutageLinkAsync(), TimeSpan.FromSeconds(30), records: 90);
    }
}
