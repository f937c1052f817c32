using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.MovingAi;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.OneShot;

namespace WarehouseHybrid.Hil.Mapf;

/// <summary>Arguments of the <c>mapf</c> command.</summary>
public sealed record MapfRunOptions
{
    /// <summary>The Moving AI <c>.map</c> file.</summary>
    public required string Map { get; init; }

    /// <summary>The Moving AI <c>.scen</c> file.</summary>
    public required string Scenario { get; init; }

    /// <summary>Number of agents (the scenario's first entries, then generated ones).</summary>
    public required int Agents { get; init; }

    /// <summary>Wall-clock budget of the solve in milliseconds.</summary>
    public required int TimeMs { get; init; }

    /// <summary>Seed of generated agents and of the solver.</summary>
    public int Seed { get; init; }

    /// <summary>Where to write the solution (mapf-visualizer format), or null.</summary>
    public string? Output { get; init; }

    /// <summary>Threads for the solver.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Improve the first solution until the budget ends.</summary>
    public bool Refine { get; init; } = true;
}

/// <summary>The closing summary of a <c>mapf</c> run (the last stdout line, as JSON).</summary>
/// <param name="Map">Map file name.</param>
/// <param name="Scenario">Scenario file name.</param>
/// <param name="Agents">Agents.</param>
/// <param name="GeneratedAgents">Agents generated beyond the scenario's entries.</param>
/// <param name="Solved">A solution was found.</param>
/// <param name="Status">solved, unsolvable or timeout.</param>
/// <param name="SumOfCosts">Sum of costs of the solution (0 when unsolved).</param>
/// <param name="Makespan">Makespan of the solution.</param>
/// <param name="LowerBound">Sum of single-agent shortest path lengths (-1 when not computed).</param>
/// <param name="Ratio">SumOfCosts / LowerBound (0 when unsolved).</param>
/// <param name="InitialSumOfCosts">Sum of costs of the first (LaCAM) solution.</param>
/// <param name="FirstSolutionMs">Time to the first solution.</param>
/// <param name="RuntimeMs">Time of the whole solve, distance tables included.</param>
/// <param name="Valid">The independent validator accepted the solution.</param>
/// <param name="PeakMemoryMb">Peak working set of the process.</param>
public sealed record MapfRunSummary(
    string Map,
    string Scenario,
    int Agents,
    int GeneratedAgents,
    bool Solved,
    string Status,
    long SumOfCosts,
    int Makespan,
    long LowerBound,
    double Ratio,
    long InitialSumOfCosts,
    double FirstSolutionMs,
    double RuntimeMs,
    bool Valid,
    long PeakMemoryMb)
{
    /// <summary>The one-line JSON form printed last on stdout.</summary>
    public string ToJsonLine()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("map", Map);
            w.WriteString("scen", Scenario);
            w.WriteNumber("agents", Agents);
            w.WriteNumber("generatedAgents", GeneratedAgents);
            w.WriteBoolean("solved", Solved);
            w.WriteString("status", Status);
            w.WriteNumber("sumOfCosts", SumOfCosts);
            w.WriteNumber("makespan", Makespan);
            w.WriteNumber("lowerBound", LowerBound);
            w.WriteNumber("ratio", Math.Round(Ratio, 4));
            w.WriteNumber("initialSumOfCosts", InitialSumOfCosts);
            w.WriteNumber("firstSolutionMs", Math.Round(FirstSolutionMs, 1));
            w.WriteNumber("runtimeMs", Math.Round(RuntimeMs, 1));
            w.WriteBoolean("valid", Valid);
            w.WriteNumber("peakMemoryMb", PeakMemoryMb);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }
}

/// <summary>The result of <see cref="MapfRunner.RunAsync"/>.</summary>
/// <param name="ExitCode">0 solved and valid; 1 no valid solution (unsolvable, out of time, or rejected by the validator); 2 bad arguments or input.</param>
/// <param name="Summary">The summary, null when the instance could not be loaded.</param>
/// <param name="Result">The solver's result, null when it did not run.</param>
public sealed record MapfRunOutcome(int ExitCode, MapfRunSummary? Summary, MapfResult? Result);

/// <summary>
/// The <c>mapf</c> command's core, callable without a process: checks the arguments, loads the map
/// and scenario with the domain readers, builds the agents, runs <see cref="OneShotSolver"/>,
/// checks the solution with <see cref="OneShotPathValidator"/>, writes it when asked, and prints
/// the summary as the last stdout line. Progress goes to stderr.
/// </summary>
public static class MapfRunner
{
    /// <summary>Runs the command. Errors go to <paramref name="stderr"/> with a non-zero exit code.</summary>
    public static async Task<MapfRunOutcome> RunAsync(
        MapfRunOptions options,
        TextWriter stdout,
        TextWriter stderr,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var time = timeProvider ?? TimeProvider.System;
        var problem = CheckArguments(options);
        if (problem is not null)
        {
            await stderr.WriteLineAsync("mapf: " + problem).ConfigureAwait(false);
            return new MapfRunOutcome(2, null, null);
        }

        GridMap map;
        MovingAiScenario scenario;
        MapfAgents agents;
        try
        {
            map = GridMapReader.Load(options.Map);
            scenario = MovingAiScenarioReader.Load(options.Scenario, map);
            agents = MapfInstanceBuilder.Build(map, scenario, options.Agents, options.Seed);
        }
        catch (Exception ex) when (ex is DomainFormatException or IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync("mapf: cannot load the instance: " + ex.Message).ConfigureAwait(false);
            return new MapfRunOutcome(2, null, null);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            await stderr.WriteLineAsync("mapf: --agents: " + FirstLine(ex.Message)).ConfigureAwait(false);
            return new MapfRunOutcome(2, null, null);
        }

        var mapName = Path.GetFileName(options.Map);
        var scenName = Path.GetFileName(options.Scenario);
        await stdout.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"instance: {mapName} ({map.Width}x{map.Height}, {map.PassableCount} free cells), {scenName}, {options.Agents} agents ({agents.FromScenario} from the scenario, {agents.Generated} generated with seed {options.Seed})")).ConfigureAwait(false);

        var mapf = new MapfProblem(map, agents.Starts, agents.Goals);
        var solverOptions = new MapfSolverOptions
        {
            TimeBudget = TimeSpan.FromMilliseconds(options.TimeMs),
            Seed = options.Seed,
            Threads = options.Threads,
            Refine = options.Refine,
        };
        var result = await OneShotSolver.SolveAsync(
            mapf,
            solverOptions,
            time,
            p => stderr.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"mapf: {p.Elapsed.TotalSeconds,6:F1}s {p.Phase}{(p.SumOfCosts is { } s ? $" soc {s}" : "")}{(p.Detail is { } d ? $": {d}" : p.Iterations > 0 ? $" iterations {p.Iterations}" : "")}")),
            cancellationToken).ConfigureAwait(false);

        var valid = false;
        if (result.Status == MapfStatus.Solved && result.Paths is { } paths)
        {
            if (result.Reason is { } note)
            {
                await stderr.WriteLineAsync("mapf: " + note).ConfigureAwait(false);
            }

            var report = new OneShotPathValidator(map).Validate(agents.Starts, agents.Goals, paths);
            valid = report.Valid && report.SumOfCosts == result.SumOfCosts && report.Makespan == result.Makespan;
            foreach (var v in report.Violations)
            {
                await stderr.WriteLineAsync("mapf: invalid solution: " + v).ConfigureAwait(false);
            }

            if (report.Valid && !valid)
            {
                await stderr.WriteLineAsync($"mapf: solver reported sum of costs {result.SumOfCosts} and makespan {result.Makespan}, validator computed {report.SumOfCosts} and {report.Makespan}").ConfigureAwait(false);
            }

            if (options.Output is { } output)
            {
                try
                {
                    MapfSolutionWriter.Write(output, map, mapName, agents, result);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    await stderr.WriteLineAsync($"mapf: cannot write --output '{output}': {ex.Message}").ConfigureAwait(false);
                    return new MapfRunOutcome(2, null, result);
                }
            }
        }
        else
        {
            await stderr.WriteLineAsync("mapf: no solution: " + result.Reason).ConfigureAwait(false);
        }

        var solved = result.Status == MapfStatus.Solved;
        var summary = new MapfRunSummary(
            mapName,
            scenName,
            options.Agents,
            agents.Generated,
            solved,
            result.Status switch { MapfStatus.Solved => "solved", MapfStatus.Unsolvable => "unsolvable", _ => "timeout" },
            solved ? result.SumOfCosts : 0,
            solved ? result.Makespan : 0,
            result.LowerBound,
            solved && result.LowerBound > 0 ? (double)result.SumOfCosts / result.LowerBound : solved ? 1 : 0,
            result.InitialSumOfCosts,
            result.TimeToFirstSolution.TotalMilliseconds,
            result.Elapsed.TotalMilliseconds,
            valid,
            Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024));
        if (solved)
        {
            await stdout.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"sum of costs: {summary.SumOfCosts} (lower bound {summary.LowerBound}, ratio {summary.Ratio:F3}; first solution {summary.InitialSumOfCosts}, ratio {(summary.LowerBound > 0 ? (double)summary.InitialSumOfCosts / summary.LowerBound : 1):F3}, after {summary.FirstSolutionMs / 1000:F2}s)")).ConfigureAwait(false);
            await stdout.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"makespan: {summary.Makespan}; runtime {summary.RuntimeMs / 1000:F2}s (distance tables {result.DistanceTime.TotalSeconds:F2}s, {result.LacamNodes} LaCAM configurations, {result.RefineIterations} LNS iterations, {result.RefineAccepted} kept); verified: {(valid ? "valid" : "INVALID")}")).ConfigureAwait(false);
        }
        else
        {
            await stdout.WriteLineAsync($"no solution ({summary.Status}): {result.Reason}").ConfigureAwait(false);
        }

        await stdout.WriteLineAsync(summary.ToJsonLine()).ConfigureAwait(false);
        return new MapfRunOutcome(solved && valid ? 0 : 1, summary, result);
    }

    private static string FirstLine(string message)
    {
        var nl = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return nl < 0 ? message : message[..nl];
    }

    private static string? CheckArguments(MapfRunOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Map))
        {
            return "--map is required (a Moving AI .map file)";
        }

        if (!File.Exists(o.Map))
        {
            return $"--map '{o.Map}' does not exist";
        }

        if (string.IsNullOrWhiteSpace(o.Scenario))
        {
            return "--scen is required (a Moving AI .scen file)";
        }

        if (!File.Exists(o.Scenario))
        {
            return $"--scen '{o.Scenario}' does not exist";
        }

        if (o.Agents <= 0)
        {
            return $"--agents must be positive, got {o.Agents}";
        }

        if (o.TimeMs <= 0)
        {
            return $"--time-ms must be positive, got {o.TimeMs}";
        }

        if (o.Threads <= 0)
        {
            return $"--threads must be positive, got {o.Threads}";
        }

        if (o.Output is { } output)
        {
            if (string.IsNullOrWhiteSpace(output))
            {
                return "--output needs a file name";
            }

            var folder = Path.GetDirectoryName(Path.GetFullPath(output));
            if (folder is not null && !Directory.Exists(folder))
            {
                return $"--output folder '{folder}' does not exist";
            }
        }

        return null;
    }
}
