using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Benchmarks.Cloud;

/// <summary>
/// <c>dashboard-snapshot [--robots N] [--calls C]</c>: the dashboard's live document for a site of N robots (default
/// 10,000) in a real silo: GET /api/dashboard/sites/{site}/snapshot over loopback HTTP, the same query in process
/// (two grain calls and the join), and the join plus JSON alone; per-call p50/p99/max, bytes, allocations.
/// </summary>
public static class DashboardSnapshotBench
{
    /// <summary>Runs the bench and prints a table.</summary>
    public static async Task RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var robots = Option(args, "--robots", 10_000);
        var calls = Option(args, "--calls", 100);
        var map = Warehouse(250, 120);
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        if (free.Length < robots)
        {
            throw new ArgumentException($"the bench map has {free.Length} free cells for {robots} robots");
        }

        var builder = CloudHost.CreateEmbeddedBuilder("dashboard-bench");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddWarehouseCloud((m, starts) => new HoldPlanner(starts.Count), o =>
        {
            o.Mqtt.Enabled = false;
            o.Http.Port = 0;
            o.Http.Auth.AnonymousRead = true;
            o.Silo.SiloPort = WarehouseHybrid.Tests.Common.FreePort.Next();
            o.Silo.GatewayPort = WarehouseHybrid.Tests.Common.FreePort.Next();
            o.Silo.ClusterId = "bench-" + Guid.NewGuid().ToString("N");
            o.Cycle.MinStepInterval = TimeSpan.FromSeconds(1);
        });
        await using var app = builder.BuildWarehouseCloud();
        await app.StartAsync();
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        var seats = Enumerable.Range(0, robots).Select(i => new RobotSeat($"r{i:D5}", free[i], (Heading)(i % 4))).ToArray();
        await grains.GetGrain<ISiteGrain>("bench").InitializeAsync(SiteDefinition.Create(map, seats));
        var random = new Random(1);
        string[] versions = ["1.0.0", "1.1.0", ""];
        await grains.GetGrain<IFleetBoardGrain>("bench").MergeAsync([.. seats.Select(s => new RobotSummary
        {
            RobotId = s.RobotId,
            SiteId = "bench",
            ModelVersion = versions[random.Next(3)],
            DecisionMode = (byte)random.Next(5),
            DriftZ = (float)(random.NextDouble() * 5),
            DriftFeature = "range_" + random.Next(16),
            Drifting = random.NextDouble() < 0.05,
            State = 2,
            Battery = 0.7f,
        })], 0);

        using var http = new HttpClient { BaseAddress = app.GetHttpAddress() };
        var queries = app.Services.GetRequiredService<DashboardQueries>();
        var bytes = (await http.GetByteArrayAsync(new Uri("/api/dashboard/sites/bench/snapshot", UriKind.Relative))).Length;
        var overHttp = await MeasureAsync(calls, async () => (await http.GetByteArrayAsync(new Uri("/api/dashboard/sites/bench/snapshot", UriKind.Relative))).Length);
        var inProcess = await MeasureAsync(calls, async () => (await queries.GetSnapshotAsync("bench"))!.RobotCount);
        var live = (await grains.GetGrain<ISiteGrain>("bench").GetLiveViewAsync())!;
        var board = await grains.GetGrain<IFleetBoardGrain>("bench").GetViewAsync();
        var index = seats.Select((s, i) => (s.RobotId, i)).ToDictionary(p => p.RobotId, p => p.i, StringComparer.Ordinal);
        var joinOnly = await MeasureAsync(calls, () => Task.FromResult(JsonSerializer.SerializeToUtf8Bytes(DashboardSnapshotBuilder.Build(live, board, index, 0), DashboardJson.Default.DashboardSnapshot).Length));
        await app.StopAsync();

        Console.WriteLine($"{robots} robots on a {map.Width}x{map.Height} map; snapshot {bytes / 1024.0:F0} KiB of JSON; {calls} calls each");
        Console.WriteLine();
        Console.WriteLine("| path | p50 ms | p99 ms | max ms | KiB allocated / call |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, r) in new[] { ("GET snapshot over loopback HTTP", overHttp), ("in process: 2 grain calls + join + DTO", inProcess), ("join + JSON only", joinOnly) })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {r.P50:F2} | {r.P99:F2} | {r.Max:F2} | {r.KiB:F0} |"));
        }
    }

    private sealed record Result(double P50, double P99, double Max, double KiB);

    private static async Task<Result> MeasureAsync(int calls, Func<Task<int>> call)
    {
        for (var i = 0; i < 5; i++)
        {
            await call();
        }

        var samples = new double[calls];
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < calls; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await call();
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        var kib = (GC.GetTotalAllocatedBytes(precise: true) - before) / 1024.0 / calls;
        Array.Sort(samples);
        return new Result(samples[calls / 2], samples[Math.Min(calls - 1, (int)(calls * 0.99))], samples[^1], kib);
    }

    private static GridMap Warehouse(int width, int height)
    {
        var kinds = new CellKind[width * height];
        for (var y = 2; y < height - 2; y++)
        {
            for (var x = 2; x < width - 2; x++)
            {
                if (y % 4 is 2 && x % 9 != 0)
                {
                    kinds[(y * width) + x] = CellKind.Obstacle;
                }
            }
        }

        return new GridMap(width, height, kinds, "bench-warehouse");
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Every robot waits: the bench measures the dashboard, not the optimizer.</summary>
    private sealed class HoldPlanner(int robots) : IFleetPlanner
    {
        public int RobotCount { get; } = robots;

        public int OpenTaskCount => 0;

        public void SubmitTask(PlanningTask task)
        {
        }

        public PlannerStepResult PlanStep(ReadOnlySpan<RobotPose> poses, TimeSpan budget, CancellationToken cancellationToken = default)
        {
            var result = new PlannerStepResult(RobotCount);
            Array.Fill(result.Actions, RobotAction.Wait);
            return result;
        }
    }
}
