using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Cloud.Tests.Observability;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

/// <summary>Model deployments over a real Mosquitto (started by the test on loopback), as a robot receives them.</summary>
public sealed class RolloutMqttTests : IAsyncLifetime, IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private MosquittoServer _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoServer.StartNewAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    public void Dispose() => _key.Dispose();

    [Fact]
    public async Task Canary_robots_receive_the_signed_package_on_their_model_topic_at_QoS_1()
    {
        await using var silo = await WebSilo.StartAsync(
            b => b.Services.Configure<RolloutOptions>(o => o.TrustedKeys.Add(_key.ExportSubjectPublicKeyInfoPem())),
            WebSilo.Bridge(_broker),
            simulateFleet: false);

        var received = new ConcurrentDictionary<string, (string Topic, byte[] Payload, MqttQualityOfServiceLevel Qos)>();
        var factory = new MqttClientFactory();
        using var robot = factory.CreateMqttClient();
        robot.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            received[m.Topic] = (m.Topic, m.Payload.ToArray(), m.QualityOfServiceLevel);
            return Task.CompletedTask;
        };
        await robot.ConnectAsync(factory.CreateClientOptionsBuilder().WithTcpServer(_broker.Host, _broker.Port).WithProtocolVersion(MqttProtocolVersion.V500).WithClientId("robots-" + Guid.NewGuid().ToString("N")).Build());
        await robot.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter("wh/v1/mq/robots/+/cmd/model", MqttQualityOfServiceLevel.AtLeastOnce).Build());

        await silo.StartSiteAsync("mq", 12, WebSilo.Warehouse(27, 10), tasks: 1);
        using var writer = silo.Client(WebSilo.WriteKey);
        var package = TestPackages.Signed(_key, "5.0.0");
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsync("/api/models", TestPackages.Form(package))).StatusCode);
        var response = await writer.PostAsJsonAsync("/api/rollouts", new { version = "5.0.0", percentage = 40, siteId = "mq" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var state = await response.Content.ReadFromJsonAsync<JsonElement>();
        var canary = state.GetProperty("canaryRobots").EnumerateArray().Select(e => e.GetString()!).ToHashSet();

        await Eventually.WaitForAsync(() => received.Count >= canary.Count, $"{canary.Count} model deployments over MQTT");
        Assert.Equal(canary.Select(r => FleetTopics.Model("mq", r)).ToHashSet(), received.Keys.ToHashSet());
        using var verifier = new ModelPackageVerifier([_key.ExportSubjectPublicKeyInfoPem()]);
        foreach (var (topic, payload, qos) in received.Values)
        {
            Assert.True(FleetTopics.TryParseRobotTopic(topic, out _, out var id, out var leaf));
            Assert.Equal("cmd/model", leaf);
            var deployment = ModelDeployment.Parser.ParseFrom(payload);
            Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, qos);
            Assert.Equal((id, "5.0.0", state.GetProperty("id").GetString(), false), (deployment.RobotId, deployment.Version, deployment.RolloutId, deployment.Revert));
            var (manifest, error) = verifier.Verify(new ModelPackageBytes(deployment.Manifest.ToByteArray(), deployment.Onnx.ToByteArray(), deployment.Signature.ToByteArray()));
            Assert.True(manifest is not null, error);
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", deployment.TraceId);
        }
    }
}
