using System.Diagnostics;
using System.Globalization;
using WarehouseHybrid.Benchmarks.Cloud;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Jams;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Benchmarks.Planning;

/// <summary>
/// <c>jam-search [--runs N] [--nodes C]</c>: the joint search of a jam (ADR 0007, "Complete local fallback")
/// on the six-robot pocket and the four-robot T-corridor jams (<see cref="JamStates"/>), exhaustive and lazy
/// in the same process, alternating, N runs each under a node cap of C (default 40,000, window radius 6,
/// plan length 48, rotation cycles refused): status, plan length, states generated, expansions (lazy: visits),
/// median milliseconds, and the lazy search's time as a ratio to the exhaustive one's.
/// </summary>
public static class JamSearchBench
{
    /// <summary>Runs the bench and prints a table.</summary>
    public static void Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var runs = CloudGrainBench.Option(args, "--runs", 9);
        var cap = CloudGrainBench.Option(args, "--nodes", 40_000);
        Console.WriteLine($"{runs} runs per search, node cap {cap}, window radius 6, plan length 48, no rotation cycles");
        Console.WriteLine();
        Console.WriteLine("| jam | search | status | plan steps | states | expansions | median ms | time vs exhaustive |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var jam in new[] { JamStates.Pocket6(), JamStates.TCorridor4() })
        {
            var table = new DistanceTableCache(new CompactGrid(jam.Map), 1 << 24).Get(jam.Goal);
            var threshold = table.Distance(jam.Starts[0].Cell, jam.Starts[0].Heading);
            var modes = new[] { JointSearchMode.Exhaustive, JointSearchMode.Lazy };
            var searches = modes.Select(m => new JointSearch(jam.Map) { Mode = m }).ToArray();
            var times = modes.Select(_ => new List<double>()).ToArray();
            var plans = new JointPlan[modes.Length];
            for (var run = 0; run < runs; run++)
            {
                for (var m = 0; m < modes.Length; m++)
                {
                    var clock = Stopwatch.StartNew();
                    plans[m] = searches[m].Solve(jam.Starts, _ => false, 6, table, threshold, true, cap, 48);
                    times[m].Add(clock.Elapsed.TotalMilliseconds);
                }
            }

            var medians = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
            for (var m = 0; m < modes.Length; m++)
            {
                var p = plans[m];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {jam.Name} | {modes[m]} | {p.Status} | {p.Length} | {p.Generated} | {p.Expanded} | {medians[m]:F2} | {medians[m] / medians[0]:F4} |"));
            }
        }
    }
}
