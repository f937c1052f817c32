using System.Diagnostics;
using System.Globalization;
using WarehouseHybrid.Benchmarks.Cloud;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Planning.Simulation;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Benchmarks.Planning;

/// <summary>
/// <c>corridor-sweep [--seeds N] [--steps S] [--shuffle-stalled-after K] [--jam-after J] [--jam-group G] [--jam-nodes C] [--jam-swaps 0|1]</c>: the lifelong optimizer on the tree-shaped corridor maps
/// (ADR 0007, "Deadlock in one-wide corridors"): the pocket corridor with 4 and 6 robots and the T corridor
/// with 2, 3 and 4 robots, over planner seeds 1..N x both assignment modes x task seeds 3, 5, 7, 11, each run
/// S steps with no time limit per step (J: PlannerOptions.JamAfterSteps, 0 for the planner without the jam fallback; --jam-swaps 0: PlannerOptions.JamTaskSwaps off). Prints per case the runs, frozen runs (a robot holding a task on one
/// cell for more than 40 steps), runs with no task finished, median tasks and runs with an invalid step.
/// Too long for the test suite (480 runs at the defaults); the committed theories cover a few seeds each.
/// </summary>
public static class CorridorSweepBench
{
    private const int StallLimit = 40;
    private static readonly int[] TaskSeeds = [3, 5, 7, 11];

    /// <summary>Runs the sweep and prints a table.</summary>
    public static void Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var seeds = CloudGrainBench.Option(args, "--seeds", 12);
        var steps = CloudGrainBench.Option(args, "--steps", 400);
        var shuffle = CloudGrainBench.Option(args, "--shuffle-stalled-after", new PlannerOptions().ShuffleStalledAfterSteps);
        var defaults = new PlannerOptions();
        var jamAfter = CloudGrainBench.Option(args, "--jam-after", defaults.JamAfterSteps);
        var jamGroup = CloudGrainBench.Option(args, "--jam-group", defaults.JamGroupSize);
        var jamNodes = CloudGrainBench.Option(args, "--jam-nodes", defaults.JamNodeCap);
        var jamSwaps = CloudGrainBench.Option(args, "--jam-swaps", defaults.JamTaskSwaps ? 1 : 0) != 0;
        var cases = new (string Name, Func<int, CorridorScenario> Scenario)[]
        {
            ("pocket, 4 robots", t => CorridorScenarios.Pocket(4, t)),
            ("pocket, 6 robots", t => CorridorScenarios.Pocket(6, t)),
            ("T corridor, 2 robots", t => CorridorScenarios.TCorridor(2, t)),
            ("T corridor, 3 robots", t => CorridorScenarios.TCorridor(3, t)),
            ("T corridor, 4 robots", t => CorridorScenarios.TCorridor(4, t)),
        };

        Console.WriteLine($"shuffle stalled after {shuffle} steps, joint jam search after {jamAfter} (0: off) for {jamGroup} robots, {jamNodes} states, task swaps {(jamSwaps ? "on" : "off")}; seeds 1-{seeds} x both assignment modes x task seeds {string.Join(", ", TaskSeeds)}; {steps} steps; frozen: a robot with a task on one cell > {StallLimit} steps");
        Console.WriteLine();
        Console.WriteLine("| case | runs | frozen | 0 tasks | median tasks | min tasks | invalid runs | joint plans | task swaps | seconds |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, scenario) in cases)
        {
            var clock = Stopwatch.StartNew();
            var tasks = new List<int>();
            int frozen = 0, none = 0, invalid = 0;
            long plans = 0, swaps = 0;
            foreach (var taskSeed in TaskSeeds)
            {
                var s = scenario(taskSeed);
                for (var seed = 1; seed <= seeds; seed++)
                {
                    foreach (var nearestFirst in new[] { false, true })
                    {
                        var planner = new PibtFleetPlanner(s.Map, s.Starts.Length, new PlannerOptions { Seed = seed, MaxParallelism = 1, AssignmentNearestFirst = nearestFirst, ShuffleStalledAfterSteps = shuffle, JamAfterSteps = jamAfter, JamGroupSize = jamGroup, JamNodeCap = jamNodes, JamTaskSwaps = jamSwaps });
                        var r = new LifelongRun(s.Map, s.Tasks, 1.5) { StallLimit = StallLimit }.Run(planner, s.Starts, steps, TimeSpan.FromDays(1));
                        tasks.Add(r.TasksFinished);
                        plans += planner.Counters.JamPlans;
                        swaps += planner.Counters.JamSwaps;
                        frozen += r.StalledRobots > 0 ? 1 : 0;
                        none += r.TasksFinished == 0 ? 1 : 0;
                        invalid += r.InvalidSteps > 0 || r.TasksFinished != r.TasksFinishedObserved ? 1 : 0;
                    }
                }
            }

            tasks.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {tasks.Count} | {frozen} | {none} | {tasks[tasks.Count / 2]} | {tasks[0]} | {invalid} | {plans} | {swaps} | {clock.Elapsed.TotalSeconds:F1} |"));
        }
    }
}
