using System.CommandLine;
using WarehouseHybrid.Hil.Recording;
using WarehouseHybrid.Hil.Scenarios;

namespace WarehouseHybrid.Hil.Cli;

/// <summary><c>scenario</c>, <c>soak</c> and <c>replay</c>: run scenario files, long soaks, and replay recordings.</summary>
public static class ScenarioCommand
{
    /// <summary>Exit code of a scenario whose expectations failed.</summary>
    public const int Failed = 1;

    /// <summary>Exit code of a scenario file that does not validate.</summary>
    public const int Invalid = 2;

    /// <summary>Builds <c>scenario</c>.</summary>
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The scenario file (docs/hil-scenarios.md)." };
        var shortForm = new Option<bool>("--short") { Description = "Run the short (CI) form: shortDuration instead of duration." };
        var soak = new Option<bool>("--soak") { Description = "Run the long form with --duration (default 10m) as a soak." };
        var duration = new Option<TimeSpan?>("--duration", "-d") { Description = "Override the scenario's duration.", CustomParser = DemoCommand.ParseDuration };
        var report = new Option<DirectoryInfo>("--report") { Description = "Directory for report.json, report.md and the plots (default: hil-reports/<name>)." };
        var record = new Option<FileInfo>("--record") { Description = "Record every serial frame and MQTT/plan message to this file (docs/hil-recording.md)." };
        var noPlots = new Option<bool>("--no-plots") { Description = "Skip the PNG plots." };
        var noHold = new Option<bool>("--no-broker-hold") { Description = "Daemon mode: let robots reconnect as soon as a restarted broker is up, without waiting for the rig's observer (the persistent sessions alone keep the telemetry)." };
        var tolerance = new Option<double>("--timing-tolerance") { Description = "Multiply every timing bound of the expectations (for a loaded machine; default 1).", DefaultValueFactory = _ => 1 };
        tolerance.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 1 or > 100)
            {
                r.AddError("--timing-tolerance must be between 1 and 100");
            }
        });
        var command = new Command("scenario", "Run one scenario file; exit 0 when every expectation holds, 1 when one fails, 2 when the file is invalid.")
        {
            file, shortForm, soak, duration, report, record, noPlots, tolerance, noHold,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var d = parse.GetValue(duration) ?? (parse.GetValue(soak) ? TimeSpan.FromMinutes(10) : null);
            return await RunAsync(parse.GetValue(file)!.FullName, new ScenarioRunOptions
            {
                Short = parse.GetValue(shortForm),
                Duration = d,
                ReportDirectory = parse.GetValue(report)?.FullName,
                RecordingFile = parse.GetValue(record)?.FullName,
                Plots = !parse.GetValue(noPlots),
                TimingTolerance = parse.GetValue(tolerance),
                HoldRobotsOnBrokerRestart = !parse.GetValue(noHold),
                Progress = Console.Out,
            }, Console.Out, cancellationToken);
        });
        return command;
    }

    /// <summary>Builds <c>replay</c>.</summary>
    public static Command CreateReplay()
    {
        var file = new Argument<FileInfo>("recording") { Description = "A lock-step recording made with scenario --record." };
        var command = new Command("replay", "Replay a recording into fresh edge runtimes on a virtual clock and compare their motor commands byte for byte (exit 0 when identical).")
        {
            file,
        };
        command.SetAction(async (parse, _) =>
        {
            try
            {
                var result = await Replayer.ReplayAsync(parse.GetValue(file)!.FullName);
                Console.WriteLine(result);
                return result.Identical ? 0 : Failed;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"replay: {ex.Message}");
                return Invalid;
            }
        });
        return command;
    }

    /// <summary>Loads, runs and reports one scenario; returns the exit code.</summary>
    public static async Task<int> RunAsync(string path, ScenarioRunOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        Scenario scenario;
        try
        {
            scenario = ScenarioReader.Load(path);
        }
        catch (ScenarioException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return Invalid;
        }

        options = options with { ReportDirectory = options.ReportDirectory ?? Path.Combine("hil-reports", scenario.Name) };
        output.WriteLine($"scenario {scenario.Name} ({(scenario.Mode == ScenarioMode.InProcess ? "inProcess" : "daemons")}{(options.Short ? ", short" : string.Empty)}): {scenario.Description}");
        var report = scenario.Mode == ScenarioMode.InProcess
            ? await InProcessScenarioRunner.RunAsync(scenario, options, cancellationToken)
            : await Daemons.DaemonScenarioRunner.RunAsync(scenario, options, cancellationToken);
        foreach (var check in report.Checks)
        {
            output.WriteLine($"  {(check.Passed ? "pass" : "FAIL")}  {check.Name}: {check.Detail}");
        }

        output.WriteLine($"{(report.Passed ? "PASSED" : "FAILED")}: {report.SimulatedSeconds:F1} s simulated in {report.WallSeconds:F1} s, {report.TasksFinished} tasks, {report.Violations} violations; report in {options.ReportDirectory}");
        return report.Passed ? 0 : Failed;
    }
}
