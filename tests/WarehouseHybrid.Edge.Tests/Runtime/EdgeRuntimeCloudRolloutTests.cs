using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Contracts.Tracing;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Models;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Runtime;

/// <summary>
/// The whole edge runtime against the cloud's side of the rollout and of tracing, over a real MQTTnet broker in-process
/// on a free loopback port: <c>cmd/model</c> in, <c>model-deployment</c> events and <c>model_health</c> telemetry out,
/// and a plan segment's trace id on the motor command's audit record and on telemetry.
/// </summary>
public sealed class EdgeRuntimeCloudRolloutTests : IAsyncLifetime
{
    private const string Robot = "robot-5";
    private const string Site = "site-r";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static TrainedModelFixture Fixture => TrainedModelFixture.Instance;
    private readonly TempDirectory _dir = new();
    private readonly ConcurrentQueue<AuditRecord> _audit = new();
    private TestBroker _broker = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync();
        await _broker.SubscribeAsync($"wh/v1/{Site}/robots/{Robot}/#");
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        _dir.Dispose();
    }

    private EdgeOptions Options()
    {
        var key = _dir.File("trusted.pub.pem");
        File.WriteAllText(key, Fixture.PublicKeyPem);
        var first = Path.Combine(_dir.Path, "first");
        Fixture.WriteVariant(first, "1.0.0", _ => { });
        return new EdgeOptions
        {
            RobotId = Robot, SiteId = Site, MqttHost = "127.0.0.1", MqttPort = _broker.Port,
            MapWidth = 10, MapHeight = 10, StartCell = 11, StartHeading = WarehouseHybrid.Domain.Grid.Heading.East,
            ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
            TelemetryRateHz = 20,
            ModelPackagePath = first,
            TrustedModelKeys = [key],
            ModelStoreDirectory = Path.Combine(_dir.Path, "store"),
            InferenceDeadline = TimeSpan.FromMilliseconds(500), // a loaded CI machine must not make every inference late
            RuntimeAssurance = new RuntimeAssuranceOptions { AcceptConfidence = 0.5, EscalateConfidence = 0.4 },
            Audit = new AuditOptions { Directory = Path.Combine(_dir.Path, "audit"), DecisionSampleInterval = TimeSpan.FromMilliseconds(100) },
            Link = new WarehouseHybrid.Edge.Link.CloudLinkOptions { StateDirectory = Path.Combine(_dir.Path, "link"), MaxModelDeploymentBytes = 64 * 1024 },
        };
    }

    private async Task<EdgeRuntime> StartAsync(InMemorySerialPair line)
    {
        var runtime = new EdgeRuntime(Options(), line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        runtime.AuditFeed!.Subscribe(new Listener(_audit));
        await runtime.StartAsync();
        await Eventually.UntilAsync(() => runtime.GetStatus().Cloud.Connects >= 1, Timeout, "the robot to connect to the broker and subscribe");
        return runtime;
    }

    private IEnumerable<T> Received<T>(string leaf, MessageParser<T> parser)
        where T : IMessage<T>
    {
        var topic = leaf == "telemetry" ? FleetTopics.Telemetry(Site, Robot) : FleetTopics.Events(Site, Robot);
        return _broker.Received.Where(m => m.Topic == topic).Select(m => parser.ParseFrom(m.Payload));
    }

    private ModelDeployment Deployment(string version, string rollout)
    {
        var dir = Path.Combine(_dir.Path, "pkg-" + version);
        Fixture.WriteVariant(dir, version, _ => { });
        return TrainedModelFixture.Deployment(dir, Robot, rollout);
    }

    [Fact]
    public async Task A_deployment_on_cmd_model_is_installed_reported_audited_and_then_shown_in_telemetry_with_model_health_while_redeliveries_garbage_and_oversize_are_answered()
    {
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        await using var runtime = await StartAsync(line);
        board.Start();
        await Eventually.UntilAsync(() => Received("telemetry", Telemetry.Parser).Any(t => t.ModelVersion == "1.0.0" && t.ModelHealth is not null), Timeout, "telemetry of model 1.0.0");

        var deployment = Deployment("2.0.0", "ro-77");
        await _broker.PublishAsync(FleetTopics.Model(Site, Robot), deployment);
        await _broker.PublishAsync(FleetTopics.Model(Site, Robot), deployment); // at-least-once: a redelivery
        await _broker.PublishAsync(FleetTopics.Model(Site, Robot), new byte[] { 0xff, 0x01, 0x02 }); // hostile
        await _broker.PublishAsync(FleetTopics.Model(Site, Robot), new byte[70_000]); // over the link's limit: never parsed

        await Eventually.UntilAsync(() => Received("events", RobotEvent.Parser).Count(e => e.Kind == ModelDeploymentHandler.EventKind) >= 4, Timeout, "four model-deployment events");
        var results = Received("events", RobotEvent.Parser).Where(e => e.Kind == ModelDeploymentHandler.EventKind).ToList();
        var installed = Assert.Single(results, e => e.Detail.StartsWith("rollout=ro-77 version=2.0.0 result=installed", StringComparison.Ordinal));
        Assert.Equal(deployment.TraceId, installed.TraceId);
        Assert.Equal("event", installed.EventClass);
        Assert.Single(results, e => e.Detail.StartsWith("rollout=ro-77 version=2.0.0 result=duplicate", StringComparison.Ordinal));
        Assert.Single(results, e => e.Detail.Contains("result=rejected: payload of 3 bytes is not a ModelDeployment", StringComparison.Ordinal));
        Assert.Single(results, e => e.Detail.Contains("result=rejected: message of 70000 bytes exceeds Edge:Link:MaxModelDeploymentBytes 65536", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => _audit.Any(r => r.Kind == ModelDeploymentHandler.EventKind && r.TraceId == deployment.TraceId), Timeout, "the audit record of the install");

        // Adoption as the cloud sees it: model_version, and health counted from the install on.
        await Eventually.UntilAsync(
            () => Received("telemetry", Telemetry.Parser).Any(t => t.ModelVersion == "2.0.0" && t.ModelHealth is { InferenceP50Us: > 0 } h && h.LearnedTicks + h.FallbackTicks > 0),
            Timeout, "telemetry of model 2.0.0 with its model health");
        var health = Received("telemetry", Telemetry.Parser).Last(t => t.ModelVersion == "2.0.0").ModelHealth;
        Assert.True(health.InferenceP99Us >= health.InferenceP50Us);
        var counters = runtime.GetStatus().ModelDeployments;
        Assert.Equal((4L, 1L, 1L, 2L), (counters.Received, counters.Installed, counters.Duplicates, counters.Rejected));
    }

    [Fact]
    public async Task A_plan_segments_trace_id_reaches_the_motor_commands_audit_record_and_the_telemetry()
    {
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        await using var runtime = await StartAsync(line);
        board.Start();

        var segment = Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East));
        segment.RobotId = Robot;
        segment.TraceId = TraceParent.NewRoot();
        await _broker.PublishAsync(FleetTopics.Plan(Site, Robot), segment);

        await Eventually.UntilAsync(() => _audit.Any(r => r.TraceId == segment.TraceId && r.Decision is not null), Timeout, "a decision (motor command) audited with the plan's trace id");
        var decision = _audit.First(r => r.TraceId == segment.TraceId && r.Decision is not null);
        Assert.True(decision.Kind is AuditKinds.Decision or AuditKinds.ModeChange, decision.Kind);
        await Eventually.UntilAsync(() => Received("telemetry", Telemetry.Parser).Any(t => t.TraceId == segment.TraceId), Timeout, "telemetry carrying the plan's trace id");
    }

    private sealed class Listener(ConcurrentQueue<AuditRecord> records) : IAuditListener
    {
        public void OnRecord(AuditRecord record) => records.Enqueue(record);
    }
}
