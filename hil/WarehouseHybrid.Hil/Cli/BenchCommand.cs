using System.CommandLine;
using WarehouseHybrid.Hil.Demo;
using WarehouseHybrid.Hil.Fleet;

namespace WarehouseHybrid.Hil.Cli;

/// <summary><c>bench</c>: the in-process fleet benchmark (speed factor = simulated time / wall time).</summary>
public static class BenchCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var robots = new Option<int>("--robots", "-n") { Description = "Robots in the fleet.", DefaultValueFactory = _ => 500 };
        var map = new Option<FileInfo>("--map") { Description = "A Moving AI / LoRR .map file (default: the kit's warehouse_large.map)." };
        map.AcceptExistingOnly();
        var duration = new Option<TimeSpan?>("--duration", "-d") { Description = "Simulated time to measure (default 60s).", CustomParser = DemoCommand.ParseDuration };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Worker threads for the per-robot work (default: processor count).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("bench", "Run N in-process robots (virtual boards + real edge runtimes in lock-step + the optimizer) as fast as possible and report the speed factor.")
        {
            robots, map, duration, seed, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var file = parse.GetValue(map)?.FullName ?? DefaultLargeMap();
            if (file is null)
            {
                Console.Error.WriteLine("bench: the kit's warehouse_large.map was not found; give --map");
                return 1;
            }

            var (grid, source) = DemoMap.Resolve(file);
            var n = parse.GetValue(robots);
            var sim = parse.GetValue(duration) ?? TimeSpan.FromSeconds(60);
            Console.WriteLine($"bench: {n} robots on {source} ({grid.Width}x{grid.Height}), {sim.TotalSeconds:F0} s simulated, {parse.GetValue(threads)} threads, load average {LoadAverage()}");
            var result = await FleetBench.RunAsync(grid, new FleetOptions { Robots = n, Seed = parse.GetValue(seed), Parallelism = parse.GetValue(threads) }, sim, Console.Out, cancellationToken);
            Console.WriteLine(result);
            if (result.FirstViolation is not null)
            {
                Console.WriteLine($"first violation: {result.FirstViolation}");
            }

            Console.WriteLine($"load average after: {LoadAverage()}");
            return result.Violations > 0 ? 2 : 0;
        });
        return command;
    }

    /// <summary>The kit's large warehouse map, or null.</summary>
    public static string? DefaultLargeMap()
    {
        var kit = DemoMap.FindKitData();
        var path = kit is null ? null : Path.Combine(kit, "lorr/2024-example/warehouse.domain/maps/warehouse_large.map");
        return path is not null && File.Exists(path) ? path : null;
    }

    /// <summary>The 1-minute load average (noise context for any speed figure).</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
