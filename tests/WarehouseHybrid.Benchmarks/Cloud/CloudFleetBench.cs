using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Hil.Lorr;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Benchmarks.Cloud;

/// <summary>
/// <c>cloud-fleet --input LORR_2024.json [--robots N] [--steps S] [--plan-ms M]</c>: the whole cloud path at the discrete
/// level. A real Mosquitto broker, one in-process silo with its MQTT bridge and the project's optimizer (the same
/// PibtFleetPlanner, seed and budget as <c>hil lorr</c>), and N simulated discrete robots on one MQTT connection that
/// complete each granted step at once and report it. Tasks are kept revealed as the LoRR 2024 bench does
/// (floor(numTasksReveal x N) open, in file order). Measures plan dispatch latency (the optimizer's decision, stamped
/// as issued_unix_ms, to the robot's receipt; 1 ms resolution), steps per second and tasks finished in S steps; then
/// runs the offline bench (<c>hil lorr</c>'s runner) on the same instance in the same process and prints the ratio.
/// </summary>
public static class CloudFleetBench
{
    /// <summary>Runs the bench and prints a table.</summary>
    public static async Task RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var input = Path.GetFullPath(Value(args, "--input") ?? throw new ArgumentException("cloud-fleet: --input <LoRR 2024 config.json> is required"));
        var robots = CloudGrainBench.Option(args, "--robots", 1000);
        var steps = CloudGrainBench.Option(args, "--steps", 200);
        var planMs = CloudGrainBench.Option(args, "--plan-ms", 1000);
        var config = WriteConfig(input, robots);
        var instance = LorrInstance.Load(config);
        if (instance.Generation != LorrGeneration.Lorr2024)
        {
            throw new ArgumentException($"cloud-fleet: {input} is not a LoRR 2024 instance (the site assigns tasks itself, as 2024 rules say)");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{instance.Name}: {instance.TeamSize} robots, {steps} steps, {planMs} ms per step; load average {CloudGrainBench.LoadAverage()}"));
        var online = await RunOnlineAsync(instance, steps, planMs);

        var offlineOut = Path.Combine(Path.GetDirectoryName(config)!, "offline.json");
        var offline = await LorrBenchRunner.RunAsync(
            new LorrBenchOptions { Input = config, Steps = steps, PlanMs = planMs, Output = offlineOut, Replay = false, ProgressEvery = Math.Max(1, steps / 4) },
            TextWriter.Null,
            Console.Error);
        var offlineTasks = offline.Summary?.NumTaskFinished ?? 0;

        Console.WriteLine();
        Console.WriteLine("| path | tasks in " + steps.ToString(CultureInfo.InvariantCulture) + " steps | tasks/step | steps/s | dispatch p50 / p99 / max ms | plan p50 / p99 ms |");
        Console.WriteLine("|---|---:|---:|---:|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| MQTT + silo + {instance.TeamSize} discrete robots | {online.Tasks} | {online.Tasks / (double)steps:F2} | {online.StepsPerSecond:F2} | {online.P50:F0} / {online.P99:F0} / {online.Max:F0} | {online.PlanP50:F0} / {online.PlanP99:F0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| offline bench (hil lorr runner) | {offlineTasks} | {offlineTasks / (double)steps:F2} | | | p99 {offline.Summary?.P99PlanMs ?? 0:F0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput online / offline: {(offlineTasks == 0 ? 0 : online.Tasks / (double)offlineTasks):F3}; load average {CloudGrainBench.LoadAverage()}"));
    }

    private sealed record Online(long Tasks, double StepsPerSecond, double P50, double P99, double Max, double PlanP50, double PlanP99);

    private static async Task<Online> RunOnlineAsync(LorrInstance instance, int steps, int planMs)
    {
        await using var broker = await MosquittoServer.StartNewAsync(port => new MosquittoServer(port) { MaxQueuedMessages = 1_000_000, MaxInflightMessages = 1000 });
        const string siteId = "bench";
        var builder = CloudHost.CreateEmbeddedBuilder("cloud-fleet-bench");
        builder.Logging.SetMinimumLevel(LogLevel.Error).AddSimpleConsole();
        builder.AddWarehouseCloud((map, starts) => new PibtFleetPlanner(map, starts.Count, new PlannerOptions { Seed = 0 }), o =>
        {
            o.Silo.SiloPort = FreePort.Next();
            o.Silo.GatewayPort = FreePort.Next();
            o.Http.Enabled = false;
            o.Mqtt.Host = broker.Host;
            o.Mqtt.Port = broker.Port;
            o.Cycle.PlanBudget = TimeSpan.FromMilliseconds(planMs);
            o.Cycle.ConfirmTimeout = TimeSpan.FromSeconds(30);
        });
        await using var app = builder.BuildWarehouseCloud();
        await app.StartAsync();
        await app.GetBridge()!.WhenConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var site = app.Services.GetRequiredService<IGrainFactory>().GetGrain<ISiteGrain>(siteId);
        var poses = instance.CreateStartPoses();
        var roster = Enumerable.Range(0, instance.TeamSize).Select(i => new RobotSeat($"r{i:D5}", poses[i].Cell, poses[i].Heading)).ToArray();
        await site.InitializeAsync(SiteDefinition.Create(instance.Map, roster));

        // The LoRR 2024 reveal: keep floor(numTasksReveal x N) tasks open, in file order, wrapping.
        var target = (int)(float)(instance.NumTasksReveal * instance.TeamSize);
        var next = 0;
        async Task TopUpAsync(int open)
        {
            var batch = new List<SiteTask>();
            for (; open + batch.Count < target; next++)
            {
                batch.Add(new SiteTask(next, instance.Tasks[next % instance.Tasks.Count]));
            }

            if (batch.Count > 0)
            {
                await site.SubmitTasksAsync(batch);
            }
        }

        await TopUpAsync(0);
        await using var fleet = new DiscreteFleet(siteId, roster);
        await fleet.StartAsync(broker.Host, broker.Port);

        // Step 1 starts once every robot reported; count from there.
        SiteStats stats;
        while ((stats = await site.GetStatsAsync()).Step < 1)
        {
            await Task.Delay(20);
        }

        var clock = Stopwatch.StartNew();
        var startStep = stats.Step;
        long tasksAtEnd = 0;
        while (true)
        {
            stats = await site.GetStatsAsync();
            await TopUpAsync(stats.OpenTasks);
            if (stats.Step >= steps && tasksAtEnd == 0)
            {
                tasksAtEnd = stats.TasksFinished;
                break;
            }

            await Task.Delay(5);
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        var latencies = fleet.Receipts.Where(r => r.Step > 1).Select(r => (r.ReceivedAt.ToUnixTimeMilliseconds() - r.IssuedUnixMs) * 1.0).Order().ToArray();
        await app.StopAsync();
        return new Online(
            tasksAtEnd,
            (stats.Step - startStep) / elapsed,
            CloudGrainBench.Percentile(latencies, 0.5),
            CloudGrainBench.Percentile(latencies, 0.99),
            latencies.Length == 0 ? 0 : latencies[^1],
            stats.PlanTimeP50Ms,
            stats.PlanTimeP99Ms);
    }

    // A copy of the config with teamSize = N and absolute paths, in a temporary folder (the kit's data stays read-only).
    private static string WriteConfig(string input, int robots)
    {
        var folder = Path.GetDirectoryName(input)!;
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(input))!.AsObject();
        foreach (var key in new[] { "mapFile", "agentFile", "taskFile" })
        {
            json[key] = Path.GetFullPath(Path.Combine(folder, json[key]!.GetValue<string>()));
        }

        json["teamSize"] = robots;
        var dir = Directory.CreateTempSubdirectory("wh-cloud-fleet-").FullName;
        var path = Path.Combine(dir, Path.GetFileNameWithoutExtension(input) + $"_{robots}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
