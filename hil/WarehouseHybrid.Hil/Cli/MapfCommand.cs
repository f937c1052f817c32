using System.CommandLine;
using WarehouseHybrid.Hil.Mapf;

namespace WarehouseHybrid.Hil.Cli;

/// <summary>
/// <c>mapf</c>: one-shot MAPF under Moving AI rules, to compare with LaCAM:
/// <c>mapf --map &lt;file.map&gt; --scen &lt;file.scen&gt; --agents &lt;k&gt; --time-ms &lt;budget&gt;</c>.
/// The last stdout line is one JSON summary; progress goes to stderr.
/// </summary>
public static class MapfCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var map = new Option<string>("--map", "-m") { Description = "Moving AI .map file.", Required = true };
        var scen = new Option<string>("--scen", "-s") { Description = "Moving AI .scen file; the instance with k agents is its first k entries.", Required = true };
        var agents = new Option<int>("--agents", "-k")
        {
            Description = "Number of agents; beyond the file's entries, distinct starts and goals are drawn (seeded) on the map's largest connected component.",
            Required = true,
        };
        var timeMs = new Option<int>("--time-ms", "-t")
        {
            Description = "Wall-clock budget in ms for the whole solve (distance tables, first solution, improvement).",
            DefaultValueFactory = _ => 60_000,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of generated agents and of the solver's random choices.", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--output", "-o") { Description = "Write the solution here (LaCAM result.txt / mapf-visualizer format)." };
        var threads = new Option<int>("--threads") { Description = "Threads the solver may use.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var noRefine = new Option<bool>("--no-refine") { Description = "Stop at LaCAM's first solution (no LNS improvement)." };

        var command = new Command("mapf", "Solve a one-shot MAPF instance (Moving AI map and scenario): LaCAM for a first solution, then LNS improvement within the budget.")
        {
            map, scen, agents, timeMs, seed, output, threads, noRefine,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new MapfRunOptions
            {
                Map = parse.GetValue(map) ?? string.Empty,
                Scenario = parse.GetValue(scen) ?? string.Empty,
                Agents = parse.GetValue(agents),
                TimeMs = parse.GetValue(timeMs),
                Seed = parse.GetValue(seed),
                Output = parse.GetValue(output),
                Threads = parse.GetValue(threads),
                Refine = !parse.GetValue(noRefine),
            };
            var outcome = await MapfRunner.RunAsync(options, Console.Out, Console.Error, TimeProvider.System, cancellationToken);
            return outcome.ExitCode;
        });
        return command;
    }
}
