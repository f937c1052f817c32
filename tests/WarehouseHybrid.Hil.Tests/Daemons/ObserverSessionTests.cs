using Google.Protobuf;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Hil.Daemons;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Daemons;

/// <summary>
/// The rig's broker and telemetry observer across a graceful broker restart, with the real Mosquitto the rig starts
/// (persistence in its directory) and a real MQTT publisher standing in for a robot's link: a record the broker
/// acknowledged before it stopped reaches the observer's persistent session after the restart.
/// </summary>
public sealed class ObserverSessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("wh-observer-session-").FullName;
    private MosquittoBroker _broker = null!;
    private IMqttClient _robot = null!;

    public async Task InitializeAsync()
    {
        Assert.True(MosquittoBroker.Available, "mosquitto is needed (./test.sh installs it)");
        _broker = await MosquittoBroker.StartNewAsync(_dir);
        _robot = new MqttClientFactory().CreateMqttClient();
        await ConnectRobotAsync();
    }

    public async Task DisposeAsync()
    {
        _robot.Dispose();
        await _broker.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_record_acknowledged_while_the_observer_was_cut_off_reaches_it_after_a_graceful_broker_restart()
    {
        await using var proxy = new TcpProxy(_broker.Port, seed: 1);
        await using var observer = new TelemetryObserver(proxy.Port);
        await observer.WhenSubscribedAsync(Timeout);
        await PublishAsync(1);
        await Eventually.UntilAsync(() => observer.Messages == 1, Timeout, "the first record at the observer");

        proxy.Partitioned = true; // the observer's connection is gone; its session stays on the broker
        await Eventually.UntilAsync(() => !observer.Connected, Timeout, "the observer cut off");
        await PublishAsync(2); // PUBACKed by the broker, nobody has it yet
        await _broker.StopAsync();
        await _broker.StartAsync();
        proxy.Partitioned = false;

        await ConnectRobotAsync();
        await PublishAsync(3);
        await WaitForRecordsAsync(observer, 3);
        var summary = observer.Summary(null);
        Assert.True(summary.MissingSeq == 0, $"{summary.MissingSeq} record(s) acknowledged before the broker's stop never reached the observer");
        Assert.Equal(3, summary.Messages);
        Assert.Equal(0, observer.SessionsLost);
        Assert.Contains("mosquitto.db", Directory.GetFiles(_broker.DataDirectory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_burst_acknowledged_right_before_a_graceful_broker_stop_and_a_record_right_after_the_restart_all_reach_the_observer_once()
    {
        await using var observer = new TelemetryObserver(_broker.Port);
        await observer.WhenSubscribedAsync(Timeout);

        // More than the broker's in-flight window (256) at once: the rest waits in the observer's queue on the broker
        // when it stops, right after the last PUBACK.
        const int burst = 2000;
        await Task.WhenAll(Enumerable.Range(1, burst).Select(i => PublishAsync((ulong)i)));
        await _broker.StopAsync();
        await _broker.StartAsync();

        await ConnectRobotAsync();
        await PublishAsync(burst + 1); // before the observer is back: queued in its session
        await WaitForRecordsAsync(observer, burst + 1);
        var summary = observer.Summary(null);
        Assert.True(summary.MissingSeq == 0, $"{summary.MissingSeq} of {burst} records acknowledged right before the broker's stop never reached the observer");
        Assert.Equal(burst + 1, summary.Messages); // a QoS 1 redelivery counts as a duplicate, not twice
        Assert.Equal(0, observer.SessionsLost);
    }

    [Fact]
    public void Bad_observer_options_are_refused_naming_the_setting()
    {
        var expiry = Assert.Throws<ArgumentOutOfRangeException>(() => new TelemetryObserverOptions { SessionExpiry = TimeSpan.Zero }.Validate());
        Assert.Contains("SessionExpiry", expiry.Message, StringComparison.Ordinal);
        var id = Assert.Throws<ArgumentException>(() => new TelemetryObserverOptions { ClientId = "a/b" }.Validate());
        Assert.Contains("ClientId", id.Message, StringComparison.Ordinal);
    }

    // Every record, or a gap the judge already sees; the failure names the observer's state and the broker's log.
    private async Task WaitForRecordsAsync(TelemetryObserver observer, long records)
    {
        try
        {
            await Eventually.UntilAsync(() => observer.Messages == records || observer.Summary(null).MissingSeq > 0, Timeout, $"{records} records or a gap");
        }
        catch (Xunit.Sdk.XunitException ex)
        {
            var log = Path.Combine(_broker.DataDirectory, "mosquitto.log");
            throw new Xunit.Sdk.XunitException($"{ex.Message}; observer: {observer.Summary(null)}, connected {observer.Connected}, sessions lost {observer.SessionsLost}; broker log: {(File.Exists(log) ? File.ReadAllText(log) : "none")}");
        }
    }

    private Task ConnectRobotAsync() => _robot.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port)
        .WithClientId("robot-link").WithProtocolVersion(MqttProtocolVersion.V500).Build());

    private async Task PublishAsync(ulong seq)
    {
        var record = new Telemetry { RobotId = "r1", StreamId = 7, Seq = seq, TimestampUnixMs = 1_000 + (long)seq * 200 };
        var result = await _robot.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(FleetTopics.Telemetry("s", "r1"))
            .WithPayload(record.ToByteArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(result.IsSuccess, $"record {seq} not acknowledged: {result.ReasonCode}");
    }
}
