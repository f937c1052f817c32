using System.CommandLine;
using System.CommandLine.Parsing;
using WarehouseHybrid.Hil.Demo;

namespace WarehouseHybrid.Hil.Cli;

/// <summary><c>demo</c>: the whole system on one machine with no set-up.</summary>
public static class DemoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var robots = new Option<int>("--robots", "-n")
        {
            Description = "Number of simulated robots.",
            DefaultValueFactory = _ => 20,
        };
        robots.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 2000)
            {
                r.AddError("--robots must be between 1 and 2000");
            }
        });
        var map = new Option<FileInfo>("--map")
        {
            Description = "A Moving AI / LoRR .map file (default: the kit's warehouse_small.map).",
        };
        map.AcceptExistingOnly();
        var duration = new Option<TimeSpan?>("--duration", "-d")
        {
            Description = "Stop after this long (e.g. 30s, 2m); default: run until Ctrl+C.",
            CustomParser = ParseDuration,
        };
        var tasks = new Option<long?>("--tasks")
        {
            Description = "Stop once this many tasks are finished (for scripts; --duration still bounds the run).",
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed for start cells and tasks.",
            DefaultValueFactory = _ => 1,
        };
        var rate = new Option<int>("--control-hz")
        {
            Description = "Edge control loop rate (50-100 Hz).",
            DefaultValueFactory = _ => 50,
        };
        rate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 10 or > 200)
            {
                r.AddError("--control-hz must be between 10 and 200");
            }
        });

        var daemons = new Option<int>("--daemons")
        {
            Description = "How many of the robots run as real edge daemon processes over socat pseudo-terminals (the rest in-process).",
            DefaultValueFactory = _ => 0,
        };
        daemons.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 50)
            {
                r.AddError("--daemons must be between 0 and 50");
            }
        });
        var faults = new Option<string[]>("--fault")
        {
            Description = "A fault to inject live, kind:target@start[-end], e.g. board.estop:3@20s-30s, serial.unplug:0@15s-20s (a daemon robot), world.block:12,30@20s; repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("demo", "Start broker, Orleans silo, optimizer and simulated robots in one process (some as real daemon processes); print live progress.")
        {
            robots, map, duration, tasks, seed, rate, daemons, faults,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(daemons) > r.GetValue(robots))
            {
                r.AddError("--daemons must not exceed --robots");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new DemoOptions
            {
                Robots = parse.GetValue(robots),
                MapFile = parse.GetValue(map)?.FullName,
                Duration = parse.GetValue(duration),
                StopAfterTasks = parse.GetValue(tasks),
                Seed = parse.GetValue(seed),
                ControlRateHz = parse.GetValue(rate),
                Daemons = parse.GetValue(daemons),
                Faults = parse.GetValue(faults) ?? [],
            };
            var result = await DemoRunner.RunAsync(options, Console.Out, cancellationToken);
            return result.ExitCode;
        });
        return command;
    }

    internal static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (DurationParser.TryParse(text, out var value, out var error))
        {
            return value;
        }

        result.AddError(error!);
        return null;
    }
}
