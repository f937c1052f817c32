using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>
/// End to end with a real child process and the real Mosquitto: a daemon-like process runs a <see cref="CloudLink"/>
/// offering events in bursts and is killed with SIGKILL mid-burst; a new link on the same state directory (the
/// restarted daemon) delivers the rest. Every record acknowledged before the kill arrives at the subscriber, once
/// after discarding duplicates by seq, in order.
/// </summary>
public sealed class LinkKillNineTests : IAsyncLifetime
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wh-link-kill-");
    private MosquittoLinkBroker _broker = null!;
    private TestSide _side = null!;

    public async Task InitializeAsync()
    {
        _broker = await MosquittoLinkBroker.StartNewAsync();
        _side = await TestSide.ConnectAsync(_broker.Port);
        await _side.SubscribeAsync(FleetTopics.Events("s1", "r1"));
    }

    public async Task DisposeAsync()
    {
        await _side.DisposeAsync();
        await _broker.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public async Task Every_record_acknowledged_before_a_kill_9_of_the_daemon_arrives_once_in_order_after_the_restart()
    {
        var assembly = typeof(LinkKillNineTests).Assembly.Location;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
        start.Environment[StartupHook.LinkDirectoryVariable] = _dir.FullName;
        start.Environment[StartupHook.PortVariable] = _broker.Port.ToString(CultureInfo.InvariantCulture);
        long acknowledged = -1;
        using (var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the child"))
        {
            var stderr = child.StandardError.ReadToEndAsync();
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                while (acknowledged < 2000)
                {
                    var line = await child.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException($"the child ended early: {await stderr}");
                    if (line.StartsWith("durable ", StringComparison.Ordinal))
                    {
                        acknowledged = long.Parse(line.AsSpan(8), CultureInfo.InvariantCulture);
                    }
                }
            }
            finally
            {
                child.Kill(); // SIGKILL mid-burst, with records in flight to the broker
                await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }

        await using var restarted = new CloudLink(new CloudLinkSettings("r1", "s1", "127.0.0.1", _broker.Port, TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(50),
            TimeSpan.FromMilliseconds(500), 10) { Link = new CloudLinkOptions { StateDirectory = _dir.FullName, SparkplugEnabled = false } },
            new CloudLinkContract.RecordingInbox(), TimeProvider.System, NullLogger.Instance);
        await restarted.StartAsync(CancellationToken.None);
        Assert.Empty(restarted.Outbox!.Recovery.Quarantined);
        await Eventually.UntilAsync(() => Distinct().Count > acknowledged, TimeSpan.FromSeconds(60), $"every acknowledged record (through seq {acknowledged}) at the subscriber");

        var events = Distinct();
        for (var i = 0; i <= acknowledged; i++)
        {
            Assert.Equal((ulong)i, events[i].Seq); // every seq 0..acknowledged once, in order of first arrival
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), events[i].Detail);
        }

        Assert.All(events, e => Assert.Equal(restarted.StreamId, e.StreamId));
    }

    // What the cloud keeps: each seq once (duplicates after the reconnect discarded), in order of first arrival.
    private List<RobotEvent> Distinct() =>
        [.. _side.On(FleetTopics.Events("s1", "r1")).Select(m => RobotEvent.Parser.ParseFrom(m.Payload)).GroupBy(e => e.Seq).Select(g => g.First())];
}
