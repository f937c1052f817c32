using Google.Protobuf;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Security;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>
/// The bridge as the cloud identity over mutual TLS on the real Mosquitto 2 with deploy/mosquitto's ACL and
/// certificates from deploy/pki/make-dev-pki.sh: hostile payloads from a device are rejected with a counted
/// reason and nothing else is lost.
/// </summary>
public sealed class TlsBridgeTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private DevPki _pki = null!;
    private MosquittoServer _broker = null!;
    private Microsoft.Extensions.Hosting.IHost _silo = null!;
    private IMqttClient _device = null!;
    private LoadedClientTls _deviceTls = null!;

    public async Task InitializeAsync()
    {
        Assert.True(MosquittoServer.Available, "mosquitto is not installed (./test.sh installs it)");
        _pki = await DevPki.CreateAsync("bot-1");
        _broker = await MosquittoServer.StartNewAsync(port => new MosquittoServer(port) { DefaultListener = false, AllowAnonymous = false, ExtraConfig = _pki.MosquittoTlsConfig() });
        var (cert, key) = _pki.Identity("cloud-bridge");
        _silo = await MosquittoBridgeTests.StartSiloAsync(_broker.Port, o =>
        {
            o.Mqtt.Tls = new ClientTlsFiles { CaFile = _pki.CaFile, CertificateFile = cert, KeyFile = key };
            o.Mqtt.MaxPayloadBytes = 1024;
        });
        var (dcert, dkey) = _pki.Identity("bot-1");
        _deviceTls = new ClientTlsFiles { CaFile = _pki.CaFile, CertificateFile = dcert, KeyFile = dkey }.Load();
        _device = new MqttClientFactory().CreateMqttClient();
        await _device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port).WithClientId("bot-1")
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTlsOptions(t => t.UseTls().WithTargetHost("127.0.0.1").WithClientCertificates([_deviceTls.Client])
                .WithCertificateValidationHandler(a => _deviceTls.ValidateServer(a.Certificate, a.SslPolicyErrors)))
            .Build());
    }

    public async Task DisposeAsync()
    {
        await _device.DisconnectAsync();
        _device.Dispose();
        _deviceTls.Dispose();
        await _silo.StopAsync();
        _silo.Dispose();
        await _broker.DisposeAsync();
        _pki.Dispose();
    }

    private Task Publish(string topic, byte[] payload) =>
        _device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    [Fact]
    public async Task Malformed_oversized_and_wrong_identity_payloads_are_counted_by_reason_and_the_good_records_around_them_arrive()
    {
        var topic = FleetTopics.Telemetry("s1", "bot-1");
        await Publish(topic, new Telemetry { RobotId = "bot-1", Seq = 1, StreamId = 5 }.ToByteArray());
        await Publish(topic, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);                                         // malformed
        await Publish(topic, new Telemetry { RobotId = "bot-1", Seq = 2, FallbackReason = new string('x', 2000) }.ToByteArray()); // oversized
        await Publish(topic, new Telemetry { RobotId = "bot-2", Seq = 3, StreamId = 5 }.ToByteArray());  // another robot's identity inside
        await Publish(FleetTopics.Events("s1", "bot-1"), new RobotEvent { RobotId = "someone", Seq = 4 }.ToByteArray());
        await Publish(topic, new Telemetry { RobotId = "bot-1", Seq = 5, StreamId = 5 }.ToByteArray());

        var bridge = _silo.GetBridge()!;
        var status = await Eventually.WaitForAsync(() => _silo.GetRobot("bot-1").GetStatusAsync(), s => s is { TelemetryCount: 2 }, "the two good records");
        Assert.Equal(5UL, status!.LastTelemetry!.Seq);
        await Eventually.UntilAsync(() => bridge.Stats.RejectedFor(RejectionReason.RobotIdMismatch) == 2, Timeout, "two wrong identities counted");
        Assert.Equal(1, bridge.Stats.RejectedFor(RejectionReason.PayloadMalformed));
        Assert.Equal(1, bridge.Stats.RejectedFor(RejectionReason.PayloadTooLarge));
        Assert.Null(await _silo.GetRobot("bot-2").GetStatusAsync());
    }
}
