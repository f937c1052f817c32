using System.CommandLine;
using WarehouseHybrid.Hil.Scenarios;

namespace WarehouseHybrid.Hil.Cli;

/// <summary><c>soak</c>: the long daemon soak (hil/scenarios/soak-daemons.json, 10 minutes unless told otherwise).</summary>
public static class SoakCommand
{
    /// <summary>The soak scenario, relative to the repository.</summary>
    public const string DefaultScenario = "hil/scenarios/soak-daemons.json";

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var file = new Option<FileInfo>("--scenario") { Description = $"The soak scenario (default {DefaultScenario})." };
        var duration = new Option<TimeSpan?>("--duration", "-d") { Description = "How long (default: the scenario's duration, 10m).", CustomParser = DemoCommand.ParseDuration };
        var report = new Option<DirectoryInfo>("--report") { Description = "Report directory (default hil-reports/soak-daemons)." };
        var command = new Command("soak", "Run the long soak: ten real edge daemons over pseudo-terminals, Mosquitto and the silo, with faults; exit 0 when it passes.")
        {
            file, duration, report,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)?.FullName ?? FindDefault();
            if (path is null)
            {
                await Console.Error.WriteLineAsync($"soak: {DefaultScenario} not found; give --scenario");
                return ScenarioCommand.Invalid;
            }

            return await ScenarioCommand.RunAsync(path, new ScenarioRunOptions
            {
                Duration = parse.GetValue(duration),
                ReportDirectory = parse.GetValue(report)?.FullName,
                Progress = Console.Out,
            }, Console.Out, cancellationToken);
        });
        return command;
    }

    private static string? FindDefault()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, DefaultScenario);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
