using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Edge.Outbox;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Benchmarks.Link;

/// <summary>
/// <c>link-replay [--records N]</c>: the wired outbox under the documented fsync policy (GroupCommit, 5 ms; events
/// fsynced at once) and FsyncProtectedImmediately off for the bulk figure: N records offered to a
/// <see cref="CloudLink"/> while the broker is down (appends/s through the link's thread), then the broker comes back
/// and the backlog is replayed to a subscriber through Mosquitto (records/s from reconnect to the last PUBACK), for
/// two in-flight windows.
/// </summary>
public static class LinkReplayBench
{
    public static async Task RunAsync(string[] args)
    {
        var records = LinkReconnectBench.Arg(args, "--records", 20_000);
        Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("| fsync policy | in flight | append records/s (link thread) | replay records/s (reconnect to last PUBACK) | fsyncs |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (policy, protectedNow, window) in new[]
        {
            (OutboxFsyncPolicy.GroupCommit, true, 16), (OutboxFsyncPolicy.GroupCommit, false, 16), (OutboxFsyncPolicy.GroupCommit, false, 64), (OutboxFsyncPolicy.PerRecord, true, 16),
        })
        {
            await OneAsync(policy, protectedNow, window, policy == OutboxFsyncPolicy.PerRecord ? Math.Min(records, 2000) : records);
        }
    }

    private static async Task OneAsync(OutboxFsyncPolicy policy, bool protectedNow, int window, int records)
    {
        await using var broker = new MosquittoServer { MaxQueuedMessages = 1_000_000 };
        var dir = Directory.CreateTempSubdirectory("wh-bench-replay-");
        try
        {
            var settings = new CloudLinkSettings("r1", "bench", "127.0.0.1", broker.Port, TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), 10)
            {
                Link = new CloudLinkOptions { StateDirectory = dir.FullName, SparkplugEnabled = false, FsyncPolicy = policy, MaxInFlight = window, EventQueueCapacity = records + 16 },
            };
            // Protected records are fsynced at once by default; the bulk rows measure group commit itself.
            var link = new CloudLink(settings, new LinkReconnectBench.NoInbox(), TimeProvider.System, NullLogger.Instance);
            await link.StartAsync(CancellationToken.None);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < records; i++)
            {
                link.Offer(new RobotEventRecord("errand-reached", i.ToString(CultureInfo.InvariantCulture), TimeProvider.System.GetUtcNow(), string.Empty),
                    protectedNow ? OutboxRecordClass.Event : OutboxRecordClass.Telemetry);
            }

            while (link.Counters.RecordsStored + link.Counters.EventsDropped < records && sw.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(2);
            }

            var appendRate = link.Counters.RecordsStored / sw.Elapsed.TotalSeconds;
            var fsyncs = link.Outbox!.Counters.Fsyncs;

            await broker.StartAsync();
            using var sub = new MqttClientFactory().CreateMqttClient();
            long got = 0;
            sub.ApplicationMessageReceivedAsync += _ =>
            {
                Interlocked.Increment(ref got);
                return Task.CompletedTask;
            };
            await sub.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("replay-sub").WithProtocolVersion(MqttProtocolVersion.V500).Build());
            await sub.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("wh/v1/bench/robots/r1/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
            while (!link.IsConnected && sw.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(1);
            }

            var replay = Stopwatch.StartNew();
            while (link.Outbox.DeliveredSeq < link.Outbox.DurableSeq && replay.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(1);
            }

            var replayRate = (link.Outbox.DurableSeq + 1) / replay.Elapsed.TotalSeconds;
            var policyName = policy == OutboxFsyncPolicy.GroupCommit ? $"GroupCommit 5 ms{(protectedNow ? ", events fsynced at once" : ", routine records")}" : "PerRecord";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {policyName} | {window} | {appendRate:F0} | {replayRate:F0} | {fsyncs} |"));
            await link.DisposeAsync();
            await sub.DisconnectAsync();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
