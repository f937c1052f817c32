using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Edge.Outbox;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>The link when its disk misbehaves: a corrupt queue file, a state directory that cannot be used (in-process broker).</summary>
public sealed class CloudLinkStorageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wh-link-disk-");
    private InProcessLinkBroker _broker = null!;
    private TestSide _side = null!;

    public async Task InitializeAsync()
    {
        _broker = await InProcessLinkBroker.StartNewAsync();
        _side = await TestSide.ConnectAsync(_broker.Port);
        await _side.SubscribeAsync(FleetTopics.Events("s1", "r1"));
    }

    public async Task DisposeAsync()
    {
        await _side.DisposeAsync();
        await _broker.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    private CloudLink Link(string stateDirectory, int? port = null) =>
        new(new CloudLinkSettings("r1", "s1", "127.0.0.1", port ?? _broker.Port, TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), 10)
        {
            Link = new CloudLinkOptions { StateDirectory = stateDirectory, SparkplugEnabled = false, OutboxMaxBytes = 64 * 1024, OutboxHardMaxBytes = 128 * 1024 },
        }, new CloudLinkContract.RecordingInbox(), TimeProvider.System, NullLogger.Instance);

    private static async Task StoreEventsAsync(CloudLink link, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            link.Offer(new RobotEventRecord("errand-reached", i.ToString(System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UnixEpoch, string.Empty));
        }

        await Eventually.UntilAsync(() => link.Counters.RecordsStored >= count, Timeout, $"{count} events stored");
    }

    [Fact]
    public async Task A_corrupt_queue_file_is_quarantined_and_reported_and_the_link_keeps_delivering()
    {
        // A first run leaves several undelivered segments (no broker on that port).
        await using (var first = Link(_dir.FullName, FreePort.Next()))
        {
            await first.StartAsync(CancellationToken.None);
            for (var burst = 0; burst < 6; burst++)
            {
                await StoreEventsAsync(first, burst * 200, 200 * (burst + 1));
            }
        }

        var segments = Directory.GetFiles(Path.Combine(_dir.FullName, "outbox"), "*.seg").Order().ToArray();
        Assert.True(segments.Length >= 2, $"expected several segments, got {segments.Length}");
        var older = File.ReadAllBytes(segments[0]);
        older[older.Length / 2] ^= 0xFF; // a flipped byte with more records after it, not in the last segment: corruption, not a torn tail
        File.WriteAllBytes(segments[0], older);

        await using var link = Link(_dir.FullName);
        await link.StartAsync(CancellationToken.None);
        var quarantined = Assert.Single(link.Outbox!.Recovery.Quarantined);
        Assert.Equal(Path.GetFileName(segments[0]), quarantined.Segment);
        Assert.True(File.Exists(Path.Combine(_dir.FullName, "outbox", quarantined.QuarantinedAs)), "the bad file is kept for inspection");
        Assert.Equal(1, link.Outbox.Counters.SegmentsQuarantined);

        await Eventually.UntilAsync(() => link.IsConnected && link.Outbox.DeliveredSeq == link.Outbox.DurableSeq, Timeout, "the surviving backlog delivered");
        link.Offer(new RobotEventRecord("errand-reached", "after", DateTimeOffset.UnixEpoch, string.Empty));
        await Eventually.UntilAsync(() => _side.On(FleetTopics.Events("s1", "r1")).Any(m => RobotEvent.Parser.ParseFrom(m.Payload).Detail == "after"), Timeout,
            "a new event after the recovery");
        var seqs = _side.On(FleetTopics.Events("s1", "r1")).Select(m => RobotEvent.Parser.ParseFrom(m.Payload).Seq).ToList();
        Assert.Equal(seqs.Order(), seqs); // the surviving backlog, then the new event, in order
    }

    [Fact]
    public async Task A_state_directory_that_cannot_be_used_drops_records_with_counts_and_commands_still_arrive()
    {
        var notADirectory = Path.Combine(_dir.FullName, "file");
        await File.WriteAllTextAsync(notADirectory, "in the way");
        await using var link = Link(notADirectory);
        await link.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => link.IsConnected, Timeout, "connected without an outbox");
        Assert.False(link.Counters.OutboxOpen);

        link.Offer(new RobotEventRecord("shield-stop", "bumper", DateTimeOffset.UnixEpoch, string.Empty));
        link.Offer(new ControlSample { PlanId = "", TraceId = "", TaskId = "" }, urgent: true);
        await Eventually.UntilAsync(() => link.Counters.EventsDropped == 1 && link.Counters.TelemetryDropped >= 1, Timeout, "both losses counted");

        await _side.PublishAsync(FleetTopics.Grant("s1", "r1"), new GrantUpdate { RobotId = "r1", GrantedThroughStep = 2 }.ToByteArray());
        await Eventually.UntilAsync(() => link.Counters.CommandsReceived == 1, Timeout, "a command over the same connection");
    }
}
