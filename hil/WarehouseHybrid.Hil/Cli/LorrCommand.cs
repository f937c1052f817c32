using System.CommandLine;
using WarehouseHybrid.Hil.Lorr;

namespace WarehouseHybrid.Hil.Cli;

/// <summary>
/// <c>lorr</c>: the optimizer's LoRR bench. Other tools call it; keep the interface:
/// <c>lorr --input &lt;config.json&gt; --steps &lt;N&gt; --plan-ms &lt;ms&gt; --output &lt;out.json&gt;</c>.
/// The last stdout line is one JSON summary; progress goes to stderr.
/// </summary>
public static class LorrCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i")
        {
            Description = "LoRR instance config (.json); its generation (2023, 2024, 2026) selects the rules.",
            Required = true,
        };
        var steps = new Option<int>("--steps", "-s")
        {
            Description = "Simulation horizon in steps (2026: execution ticks), as the Start-Kit's --simulationTime.",
            DefaultValueFactory = _ => 500,
        };
        var planMs = new Option<int>("--plan-ms")
        {
            Description = "Planning time per step in ms (the Start-Kit's --planTimeLimit); each full budget overrun is one all-wait step.",
            DefaultValueFactory = _ => 1000,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output JSON in the Start-Kit's format for the instance's generation.",
            DefaultValueFactory = _ => "output.json",
        };
        var progress = new Option<int>("--progress-every")
        {
            Description = "Progress line on stderr every this many steps.",
            DefaultValueFactory = _ => 100,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the optimizer's tie-breaks.",
            DefaultValueFactory = _ => 0,
        };
        var plannerOptions = new Option<string[]>("--planner-option")
        {
            Description = "A planner setting Name=Value (a PlannerOptions property, e.g. Guidance=Highways); repeatable.",
            DefaultValueFactory = _ => [],
        };
        var idleSteps = new Option<int>("--idle-steps")
        {
            Description = "K of the idle report: robots holding a task on one cell for more than K steps (summary key idleRobots).",
            DefaultValueFactory = _ => 50,
        };
        var noReplay = new Option<bool>("--no-replay")
        {
            Description = "Skip the independent replay of the written file.",
        };

        var command = new Command("lorr", "Run the optimizer on a League of Robot Runners instance with the Start-Kit's rules; write its output JSON.")
        {
            input, steps, planMs, output, progress, seed, plannerOptions, idleSteps, noReplay,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new LorrBenchOptions
            {
                Input = parse.GetValue(input) ?? string.Empty,
                Steps = parse.GetValue(steps),
                PlanMs = parse.GetValue(planMs),
                Output = parse.GetValue(output) ?? "output.json",
                ProgressEvery = parse.GetValue(progress),
                Seed = parse.GetValue(seed),
                Replay = !parse.GetValue(noReplay),
                PlannerSettings = parse.GetValue(plannerOptions) ?? [],
                IdleSteps = parse.GetValue(idleSteps),
            };
            var outcome = await LorrBenchRunner.RunAsync(options, Console.Out, Console.Error, TimeProvider.System, null, cancellationToken);
            return outcome.ExitCode;
        });
        return command;
    }
}
