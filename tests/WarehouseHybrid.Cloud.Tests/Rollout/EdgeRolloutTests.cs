using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Cloud.Tests.Observability;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Contracts.Tracing;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Models;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

/// <summary>
/// The cloud rollout and a real edge runtime over a real Mosquitto (started by the test on loopback): the silo (HTTP API,
/// MQTT bridge, optimizer) publishes a deployment, the edge installs it and the cloud sees the answer, the adoption and
/// the model health; a rollback reverts it; and one trace id runs from the edge's telemetry through the optimizer's
/// plan to the edge's audited motor command.
/// </summary>
public sealed class EdgeRolloutTests : IAsyncLifetime
{
    private const string Site = "edge";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static TrainedModelFixture Fixture => TrainedModelFixture.Instance;
    private readonly TempDirectory _dir = new();
    private readonly ConcurrentQueue<(string Topic, byte[] Payload)> _sniffed = new();
    private readonly ConcurrentQueue<AuditRecord> _audit = new();
    private readonly MqttClientFactory _factory = new();
    private MosquittoServer _broker = null!;
    private IMqttClient _sniffer = null!;

    public async Task InitializeAsync()
    {
        _broker = await MosquittoServer.StartNewAsync();
        _sniffer = _factory.CreateMqttClient();
        _sniffer.ApplicationMessageReceivedAsync += e =>
        {
            _sniffed.Enqueue((e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray()));
            return Task.CompletedTask;
        };
        await _sniffer.ConnectAsync(_factory.CreateClientOptionsBuilder().WithTcpServer(_broker.Host, _broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithClientId("sniffer-" + Guid.NewGuid().ToString("N")).Build());
        await _sniffer.SubscribeAsync(_factory.CreateSubscribeOptionsBuilder().WithTopicFilter($"wh/v1/{Site}/robots/+/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
    }

    public async Task DisposeAsync()
    {
        _sniffer.Dispose();
        await _broker.DisposeAsync();
        _dir.Dispose();
    }

    private IEnumerable<T> Sniffed<T>(string topic, Google.Protobuf.MessageParser<T> parser)
        where T : Google.Protobuf.IMessage<T> =>
        _sniffed.Where(m => m.Topic == topic).Select(m => parser.ParseFrom(m.Payload));

    [Fact]
    public async Task The_cloud_rollout_reaches_the_edge_runtime_which_installs_reports_and_reverts_and_one_trace_runs_to_its_motor_command()
    {
        var pem = Fixture.PublicKeyPem;
        await using var silo = await WebSilo.StartAsync(
            b => b.Services.Configure<RolloutOptions>(o =>
            {
                o.TrustedKeys.Add(pem);
                o.EvaluationInterval = TimeSpan.FromMilliseconds(200);
            }),
            WebSilo.Bridge(_broker),
            simulateFleet: false);
        // The canary's first report is the edge's own telemetry, so the site continues the edge's trace (not a simulated one).
        var (canaries, _) = CanarySelector.Split([$"{Site}-r0000", $"{Site}-r0001"], 50);
        var definition = await silo.StartSiteAsync(Site, 2, WebSilo.Warehouse(27, 10), tasks: 4, silent: new HashSet<string>(canaries));
        var seat = definition.Robots.Single(s => s.RobotId == canaries[0]);

        // The canary is a real edge runtime (no board attached: sensors stale, the shield holds it; the model still runs).
        using var line = InMemorySerialPair.Create();
        await using var edge = new EdgeRuntime(EdgeOptions(seat.RobotId, seat.StartCell, seat.StartHeading), line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        edge.AuditFeed!.Subscribe(new Listener(_audit));
        await edge.StartAsync();
        var robot = silo.Grains.GetGrain<IRobotGrain>(seat.RobotId);
        await Eventually.WaitForAsync(robot.GetModelHealthAsync, h => h.CurrentVersion == "1.0.0", "the edge's telemetry of model 1.0.0 in the cloud");

        // Upload 2.0.0 and roll it out to half the site: our robot is the canary.
        var next = Path.Combine(_dir.Path, "next");
        Fixture.WriteVariant(next, "2.0.0", _ => { });
        using var writer = silo.Client(WebSilo.WriteKey);
        var package = new ModelPackageBytes(File.ReadAllBytes(Path.Combine(next, "manifest.pb")), File.ReadAllBytes(Path.Combine(next, "model.onnx")), File.ReadAllBytes(Path.Combine(next, "manifest.sig")));
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsync("/api/models", TestPackages.Form(package))).StatusCode);
        var started = await writer.PostAsJsonAsync("/api/rollouts", new { version = "2.0.0", percentage = 50, siteId = Site });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var rollout = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // The cloud sees the edge's answer (with the deployment's trace), the adoption and the new version's health.
        await Eventually.WaitForAsync(robot.GetStatusAsync, s => s!.LastModelDeployment.StartsWith($"rollout={rollout} version=2.0.0 result=installed", StringComparison.Ordinal), "the edge's installed answer in the robot grain");
        var deployment = Sniffed(FleetTopics.Model(Site, seat.RobotId), ModelDeployment.Parser).First();
        Assert.Equal(deployment.TraceId, (await robot.GetStatusAsync())!.LastModelDeploymentTrace);
        await Eventually.WaitForAsync(robot.GetModelHealthAsync, h => h.CurrentVersion == "2.0.0" && h.For("2.0.0") is { InferenceReports: > 0 } v && v.LearnedTicks + v.FallbackTicks > 0,
            "telemetry of 2.0.0 with model health in the cloud");
        await Eventually.WaitForAsync(() => silo.Grains.GetGrain<IRolloutGrain>(rollout).GetAsync(), s => s!.Adopted == 1, "the rollout counting the canary as adopted");
        Assert.Contains(_audit, r => r.Kind == ModelDeploymentHandler.EventKind && r.TraceId == deployment.TraceId);

        // An operator's rollback: the registry has no 1.0.0, so the cloud sends revert=true and the edge puts 1.0.0 back.
        var back = await writer.PostAsJsonAsync($"/api/rollouts/{rollout}/rollback", new { reason = "test" });
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        await Eventually.WaitForAsync(robot.GetStatusAsync, s => s!.LastModelDeployment.StartsWith($"rollout={rollout} version=- result=reverted", StringComparison.Ordinal), "the edge's reverted answer");
        await Eventually.WaitForAsync(robot.GetModelHealthAsync, h => h.CurrentVersion == "1.0.0", "telemetry of 1.0.0 again");

        // One trace: edge telemetry (a root of its own) -> cloud ingest and optimizer -> plan segment -> audited motor command.
        (PlanSegment Segment, Telemetry Telemetry)? chain = null;
        await Eventually.UntilAsync(() => (chain = Chain(seat.RobotId)) is not null, Timeout, "a plan segment continuing one of the edge's telemetry traces");
        var segment = chain!.Value.Segment;
        Assert.NotEqual(chain.Value.Telemetry.TraceId, segment.TraceId); // a child span, the same trace
        await Eventually.UntilAsync(() => _audit.Any(r => r.TraceId == segment.TraceId && r.Decision is not null), Timeout, "the motor command audited with the plan's trace id");
        await Eventually.UntilAsync(() => Sniffed(FleetTopics.Telemetry(Site, seat.RobotId), Telemetry.Parser).Any(t => t.TraceId == segment.TraceId), Timeout, "the edge's telemetry carrying the plan's trace id");
    }

    private (PlanSegment, Telemetry)? Chain(string robotId)
    {
        var sent = Sniffed(FleetTopics.Telemetry(Site, robotId), Telemetry.Parser).ToList();
        foreach (var segment in Sniffed(FleetTopics.Plan(Site, robotId), PlanSegment.Parser))
        {
            var trace = TraceParent.TraceIdOf(segment.TraceId);
            if (trace is not null && sent.FirstOrDefault(t => TraceParent.TraceIdOf(t.TraceId) == trace) is { } telemetry)
            {
                return (segment, telemetry);
            }
        }

        return null;
    }

    private EdgeOptions EdgeOptions(string robotId, int cell, Domain.Grid.Heading heading)
    {
        var key = Path.Combine(_dir.Path, "trusted.pub.pem");
        File.WriteAllText(key, Fixture.PublicKeyPem);
        var first = Path.Combine(_dir.Path, "first");
        Fixture.WriteVariant(first, "1.0.0", _ => { });
        return new EdgeOptions
        {
            RobotId = robotId, SiteId = Site, MqttHost = _broker.Host, MqttPort = _broker.Port,
            MapWidth = 27, MapHeight = 10, StartCell = cell, StartHeading = heading,
            ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
            TelemetryRateHz = 10,
            ModelPackagePath = first,
            TrustedModelKeys = [key],
            ModelStoreDirectory = Path.Combine(_dir.Path, "store"),
            InferenceDeadline = TimeSpan.FromMilliseconds(500), // a loaded CI machine must not make every inference late
            RuntimeAssurance = new RuntimeAssuranceOptions { AcceptConfidence = 0.5, EscalateConfidence = 0.4 },
            Audit = new AuditOptions { Directory = Path.Combine(_dir.Path, "audit"), DecisionSampleInterval = TimeSpan.FromMilliseconds(100) },
            Link = new Edge.Link.CloudLinkOptions { StateDirectory = Path.Combine(_dir.Path, "link") },
        };
    }

    private sealed class Listener(ConcurrentQueue<AuditRecord> records) : IAuditListener
    {
        public void OnRecord(AuditRecord record) => records.Enqueue(record);
    }
}
