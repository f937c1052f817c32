using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Edge.Outbox;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Benchmarks.Link;

/// <summary>
/// <c>link-reconnect [--clients N] [--outage-seconds S]</c>: N real <see cref="CloudLink"/>s (the daemon's reconnect
/// loop: Polly, exponential backoff with jitter, 500 ms first delay, 10 s cap) connected to a Mosquitto that is killed
/// (SIGKILL), kept down S seconds and restarted on the same port. Prints when each client was back, as a histogram
/// over the backoff window, and the busiest 100 ms (a storm would put most clients there).
/// </summary>
public static class LinkReconnectBench
{
    public static async Task RunAsync(string[] args)
    {
        var clients = Arg(args, "--clients", 1000);
        var outage = TimeSpan.FromSeconds(Arg(args, "--outage-seconds", 5));
        await using var broker = new MosquittoServer { MaxQueuedMessages = 1_000_000 };
        await broker.StartAsync();
        var root = Directory.CreateTempSubdirectory("wh-bench-reconnect-");
        var links = new List<CloudLink>(clients);
        try
        {
            for (var i = 0; i < clients; i++)
            {
                var settings = new CloudLinkSettings($"r{i}", "bench", "127.0.0.1", broker.Port, TimeSpan.FromHours(1),
                    TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), 10)
                {
                    Link = new CloudLinkOptions
                    {
                        StateDirectory = Path.Combine(root.FullName, i.ToString(CultureInfo.InvariantCulture)),
                        SparkplugEnabled = false,
                        FsyncPolicy = OutboxFsyncPolicy.OsBuffered,
                        OutboxMaxBytes = 4L * 1024 * 1024,
                        OutboxHardMaxBytes = 4L * 1024 * 1024,
                    },
                };
                var link = new CloudLink(settings, new NoInbox(), TimeProvider.System, NullLogger.Instance);
                links.Add(link);
                await link.StartAsync(CancellationToken.None);
            }

            var sw = Stopwatch.StartNew();
            await WaitAllAsync(links, TimeSpan.FromSeconds(120));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clients} links connected in {sw.Elapsed.TotalSeconds:F1} s; load average {File.ReadAllText("/proc/loadavg").Trim()}"));

            await broker.KillAsync(); // SIGKILL: no DISCONNECT reaches anyone
            var down = Stopwatch.StartNew();
            while (links.Any(l => l.IsConnected) && down.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(10);
            }

            await Task.Delay(outage);
            await broker.StartAsync();
            var back = Stopwatch.StartNew();
            var at = new double?[clients];
            while (at.Any(t => t is null) && back.Elapsed < TimeSpan.FromSeconds(120))
            {
                for (var i = 0; i < clients; i++)
                {
                    if (at[i] is null && links[i].IsConnected)
                    {
                        at[i] = back.Elapsed.TotalSeconds;
                    }
                }

                await Task.Delay(10);
            }

            var times = at.Where(t => t.HasValue).Select(t => t!.Value).Order().ToArray();
            var failures = links.Sum(l => l.Counters.ConnectFailures);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"outage {outage.TotalSeconds:F0} s; {times.Length}/{clients} back; p50 {P(times, 0.5):F2} s, p90 {P(times, 0.9):F2} s, p99 {P(times, 0.99):F2} s, last {times[^1]:F2} s; {failures} failed attempts in all"));
            var busiest = times.GroupBy(t => (int)(t * 10)).Max(g => g.Count());
            Console.WriteLine($"busiest 100 ms: {busiest} reconnects ({100.0 * busiest / clients:F1} % of the clients)");
            Console.WriteLine();
            Console.WriteLine("| back after (s) | clients | |");
            Console.WriteLine("|---|---:|---|");
            var width = 0.5;
            for (var lo = 0.0; lo <= times[^1]; lo += width)
            {
                var n = times.Count(t => t >= lo && t < lo + width);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {lo:F1}-{lo + width:F1} | {n} | {new string('#', (int)Math.Ceiling(60.0 * n / clients))} |"));
            }
        }
        finally
        {
            foreach (var l in links)
            {
                await l.DisposeAsync();
            }

            root.Delete(recursive: true);
        }
    }

    internal static double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

    internal static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static async Task WaitAllAsync(List<CloudLink> links, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!links.All(l => l.IsConnected) && sw.Elapsed < timeout)
        {
            await Task.Delay(20);
        }
    }

    internal sealed class NoInbox : IPlanInbox
    {
        public void Post(PlanSegment segment)
        {
        }

        public void Post(GrantUpdate grant)
        {
        }

        public void Post(TaskAssignment task)
        {
        }
    }
}
