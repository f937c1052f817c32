using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Benchmarks.Cloud;

/// <summary>
/// <c>cloud-grains [--robots N] [--seconds S] [--concurrency C]</c>: an in-process silo (localhost clustering, memory
/// storage, no broker, no HTTP). (1) Telemetry ingest into RobotGrain: C callers send <c>ReportTelemetryAsync</c> to N
/// robot grains for S seconds; calls per second. (2) Memory per robot: the managed heap after a full GC, before and
/// after activating N robot grains with one telemetry record each, divided by N.
/// </summary>
public static class CloudGrainBench
{
    /// <summary>Runs the bench and prints a table.</summary>
    public static async Task RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var robots = Option(args, "--robots", 10_000);
        var seconds = Option(args, "--seconds", 10);
        var concurrency = Option(args, "--concurrency", 64);

        var builder = CloudHost.CreateEmbeddedBuilder("cloud-grains-bench");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddWarehouseCloud((map, starts) => new PibtFleetPlanner(map, starts.Count), o =>
        {
            o.Silo.SiloPort = FreePort.Next();
            o.Silo.GatewayPort = FreePort.Next();
            o.Mqtt.Enabled = false;
            o.Http.Enabled = false;
        });
        await using var app = builder.BuildWarehouseCloud();
        await app.StartAsync();
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        var ids = Enumerable.Range(0, robots).Select(i => $"bench-{i:D5}").ToArray();

        // Memory per robot: activate every grain with one record (no site: the grain keeps it and asks nobody).
        var before = Heap();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (id, _) =>
            await grains.GetGrain<IRobotGrain>(id).ReportTelemetryAsync(Report(id, 1)));
        var after = Heap();
        var perGrain = (after - before) / (double)robots;

        // Ingest: C loops, each over its own slice of robots, for S seconds.
        long calls = 0;
        var latencies = new List<double>[concurrency];
        var stop = TimeSpan.FromSeconds(seconds);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>(100_000);
            ulong seq = 2;
            var i = worker;
            while (Stopwatch.GetElapsedTime(started) < stop)
            {
                var id = ids[i % ids.Length];
                var t0 = Stopwatch.GetTimestamp();
                await grains.GetGrain<IRobotGrain>(id).ReportTelemetryAsync(Report(id, seq));
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                Interlocked.Increment(ref calls);
                i += concurrency;
                if (i >= ids.Length)
                {
                    i = worker;
                    seq++;
                }
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        await app.StopAsync();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average {LoadAverage()}, {Environment.ProcessorCount} cores"));
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| telemetry ingest into RobotGrain ({concurrency} callers, {robots} grains, {seconds} s) | {calls / elapsed:F0} calls/s |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| call latency p50 / p99 | {Percentile(all, 0.5):F0} / {Percentile(all, 0.99):F0} us |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| managed heap per robot grain ({robots} activated, one record each) | {perGrain:F0} B |"));
    }

    private static TelemetryReport Report(string id, ulong seq) => new()
    {
        RobotId = id,
        SiteId = string.Empty,
        Seq = seq,
        Cell = (int)(seq % 1000),
        Heading = Heading.East,
        ModelVersion = "m-1",
        TraceId = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    internal static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
