using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Security;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>
/// Mutual TLS and the per-device ACL of deploy/mosquitto against the real Mosquitto 2, with certificates made by
/// deploy/pki/make-dev-pki.sh (and an expired one made with .NET's CertificateRequest, signed by the same CA).
/// </summary>
public sealed class BrokerSecurityTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly List<IAsyncDisposable> _disposables = [];
    private DevPki _pki = null!;
    private DevPki _otherCa = null!;
    private MosquittoServer _broker = null!;

    public async Task InitializeAsync()
    {
        Assert.True(MosquittoServer.Available, "mosquitto is not installed (./test.sh installs it)");
        _pki = await DevPki.CreateAsync("r1", "r2");
        _otherCa = await DevPki.CreateAsync("r1");
        _broker = await MosquittoServer.StartNewAsync(port => new MosquittoServer(port)
        {
            DefaultListener = false,
            AllowAnonymous = false,
            ExtraConfig = _pki.MosquittoTlsConfig(),
        });
    }

    public async Task DisposeAsync()
    {
        foreach (var d in _disposables)
        {
            await d.DisposeAsync();
        }

        await _broker.DisposeAsync();
        _pki.Dispose();
        _otherCa.Dispose();
    }

    private ClientTlsFiles Tls(string id, DevPki? pki = null)
    {
        var (cert, key) = (pki ?? _pki).Identity(id);
        return new ClientTlsFiles { CaFile = _pki.CaFile, CertificateFile = cert, KeyFile = key };
    }

    private async Task<IMqttClient> ConnectAsync(ClientTlsFiles? tls, string clientId, ConcurrentQueue<MqttApplicationMessage>? inbox = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        if (inbox is not null)
        {
            client.ApplicationMessageReceivedAsync += e =>
            {
                inbox.Enqueue(e.ApplicationMessage);
                return Task.CompletedTask;
            };
        }

        var b = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port).WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(5));
        var loaded = tls?.Load();
        b.WithTlsOptions(o =>
        {
            o.UseTls().WithTargetHost("127.0.0.1").WithCertificateValidationHandler(a => loaded?.ValidateServer(a.Certificate, a.SslPolicyErrors) ?? true); // no client cert: the broker must refuse
            if (loaded is not null)
            {
                o.WithClientCertificates([loaded.Client]);
            }
        });
        try
        {
            await client.ConnectAsync(b.Build());
        }
        catch
        {
            client.Dispose();
            throw;
        }

        _disposables.Add(new Disconnect(client));
        return client;
    }

    private static MqttApplicationMessage Message(string topic, IMessage payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload.ToByteArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    [Fact]
    public async Task A_device_link_over_mutual_tls_delivers_to_the_cloud_identity()
    {
        var cloudInbox = new ConcurrentQueue<MqttApplicationMessage>();
        var cloud = await ConnectAsync(Tls("cloud-bridge"), "cloud", cloudInbox);
        await cloud.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(FleetTopics.AllTelemetryFilter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var dir = Directory.CreateTempSubdirectory("wh-link-tls-");
        await using (var link = new CloudLink(new CloudLinkSettings("r1", "s1", "127.0.0.1", _broker.Port, TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), 10)
        {
            Link = new CloudLinkOptions { StateDirectory = dir.FullName, Tls = Tls("r1") },
        }, new CloudLinkContract.RecordingInbox(), TimeProvider.System, NullLogger.Instance))
        {
            await link.StartAsync(CancellationToken.None);
            await Eventually.UntilAsync(() => link.IsConnected, Timeout, "the link over TLS");
            link.Offer(new ControlSample { PlanId = "", TraceId = "", TaskId = "", MinRangeMetres = 1 }, urgent: true);
            await Eventually.UntilAsync(() => cloudInbox.Any(m => m.Topic == FleetTopics.Telemetry("s1", "r1")), Timeout, "r1's telemetry at the cloud");
            Assert.Equal(0, link.Counters.RefusedByBroker);
        }

        dir.Delete(recursive: true);
    }

    [Fact]
    public async Task A_device_cannot_publish_as_another_device_and_nothing_reaches_the_cloud()
    {
        var cloudInbox = new ConcurrentQueue<MqttApplicationMessage>();
        var cloud = await ConnectAsync(Tls("cloud-bridge"), "cloud", cloudInbox);
        await cloud.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("wh/v1/#", MqttQualityOfServiceLevel.AtLeastOnce).WithTopicFilter("spBv1.0/#").Build());
        var r1 = await ConnectAsync(Tls("r1"), "r1");

        var forged = await r1.PublishAsync(Message(FleetTopics.Telemetry("s1", "r2"), new Telemetry { RobotId = "r2", Seq = 1 }));
        var forgedSpark = await r1.PublishAsync(Message("spBv1.0/s1/NBIRTH/r2", new Telemetry()));
        var own = await r1.PublishAsync(Message(FleetTopics.Telemetry("s1", "r1"), new Telemetry { RobotId = "r1", Seq = 1 }));

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forgedSpark.ReasonCode);
        Assert.True(own.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers, own.ReasonCode.ToString());
        await Eventually.UntilAsync(() => cloudInbox.Any(m => m.Topic == FleetTopics.Telemetry("s1", "r1")), Timeout, "r1's own record");
        Assert.DoesNotContain(cloudInbox, m => m.Topic.Contains("/r2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_cannot_read_another_devices_commands()
    {
        var r1Inbox = new ConcurrentQueue<MqttApplicationMessage>();
        var r1 = await ConnectAsync(Tls("r1"), "r1", r1Inbox);
        var refused = await r1.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(FleetTopics.RobotCommandsFilter("s1", "r2"), MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var wildcard = await r1.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("wh/v1/+/robots/+/cmd/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var own = await r1.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(FleetTopics.RobotCommandsFilter("s1", "r1"), MqttQualityOfServiceLevel.AtLeastOnce).Build());
        // Mosquitto 2.0 grants a subscription its read ACL does not cover and filters at delivery; a broker that
        // refuses in the SUBACK is as good. Either way nothing of r2's may arrive (checked below).
        Assert.Contains(refused.Items.Single().ResultCode, new[] { MqttClientSubscribeResultCode.NotAuthorized, MqttClientSubscribeResultCode.GrantedQoS1 });
        Assert.Contains(wildcard.Items.Single().ResultCode, new[] { MqttClientSubscribeResultCode.NotAuthorized, MqttClientSubscribeResultCode.GrantedQoS1 });
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, own.Items.Single().ResultCode);

        var cloud = await ConnectAsync(Tls("cloud-bridge"), "cloud");
        var r2Inbox = new ConcurrentQueue<MqttApplicationMessage>();
        var r2 = await ConnectAsync(Tls("r2"), "r2", r2Inbox);
        await r2.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(FleetTopics.RobotCommandsFilter("s1", "r2"), MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await cloud.PublishAsync(Message(FleetTopics.Plan("s1", "r2"), new PlanSegment { RobotId = "r2" }));
        await cloud.PublishAsync(Message(FleetTopics.Plan("s1", "r1"), new PlanSegment { RobotId = "r1" }));
        // Both plans were sent before r1's own arrives at r1 and r2's at r2: r2's has had every chance to leak.
        await Eventually.UntilAsync(() => r1Inbox.Any(m => m.Topic == FleetTopics.Plan("s1", "r1")), Timeout, "r1's own plan");
        await Eventually.UntilAsync(() => r2Inbox.Any(m => m.Topic == FleetTopics.Plan("s1", "r2")), Timeout, "r2's plan at r2");
        Assert.DoesNotContain(r1Inbox, m => m.Topic == FleetTopics.Plan("s1", "r2"));
    }

    [Fact]
    public async Task A_link_whose_identity_does_not_match_its_robot_id_counts_every_record_as_refused_and_is_never_stuck()
    {
        var dir = Directory.CreateTempSubdirectory("wh-link-tls-");
        await using (var link = new CloudLink(new CloudLinkSettings("r2", "s1", "127.0.0.1", _broker.Port, TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), 10)
        {
            Link = new CloudLinkOptions { StateDirectory = dir.FullName, Tls = Tls("r1"), SparkplugEnabled = false },
        }, new CloudLinkContract.RecordingInbox(), TimeProvider.System, NullLogger.Instance))
        {
            await link.StartAsync(CancellationToken.None);
            await Eventually.UntilAsync(() => link.IsConnected, Timeout, "the link over TLS");
            for (var i = 1; i <= 3; i++)
            {
                link.Offer(new ControlSample { PlanId = "", TraceId = "", TaskId = "", MinRangeMetres = 1 }, urgent: true);
                await Eventually.UntilAsync(() => link.Counters.RefusedByBroker >= i, Timeout, $"refusal {i}");
            }

            Assert.Equal(0, link.Counters.TelemetryPublished);
            Assert.Equal(link.Outbox!.DurableSeq, link.Outbox.DeliveredSeq);
        }

        dir.Delete(recursive: true);
    }

    [Fact]
    public async Task No_certificate_is_refused()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(null, "anonymous"));
    }

    [Fact]
    public async Task A_certificate_from_another_ca_is_refused()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(Tls("r1", _otherCa), "r1-foreign"));
    }

    [Fact]
    public async Task An_expired_certificate_is_refused_by_the_broker_and_by_the_options_check()
    {
        var (cert, key) = _pki.ExpiredIdentity("r1", TimeProvider.System);
        var tls = new ClientTlsFiles { CaFile = _pki.CaFile, CertificateFile = cert, KeyFile = key };
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(tls, "r1-expired"));
        Assert.Contains(tls.Validate("Edge:Link:Tls:", TimeProvider.System), e => e.StartsWith("Edge:Link:Tls:CertificateFile", StringComparison.Ordinal) && e.Contains("expired", StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_tls_files_are_named_by_the_options_check()
    {
        var errors = new CloudLinkOptions { Tls = new ClientTlsFiles { CaFile = _pki.CaFile, CertificateFile = "/nonexistent/r1.crt" } }.Validate(TimeProvider.System);
        Assert.Contains(errors, e => e.Contains("Edge:Link:Tls:CertificateFile: file '/nonexistent/r1.crt' does not exist", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:Link:Tls:KeyFile", StringComparison.Ordinal));
    }

    private sealed class Disconnect(IMqttClient client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync();
            }

            client.Dispose();
        }
    }
}
