using System.Globalization;
using System.Text.Json;
using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>Arguments of the <c>lorr</c> bench command.</summary>
public sealed record LorrBenchOptions
{
    /// <summary>The LoRR instance <c>.json</c> config.</summary>
    public required string Input { get; init; }

    /// <summary>Simulation horizon: steps (2026: execution ticks, as the Start-Kit's --simulationTime).</summary>
    public required int Steps { get; init; }

    /// <summary>Planning budget per call in milliseconds (the Start-Kit's --planTimeLimit).</summary>
    public required int PlanMs { get; init; }

    /// <summary>Where the Start-Kit-format output JSON goes.</summary>
    public required string Output { get; init; }

    /// <summary>Progress line period in steps.</summary>
    public int ProgressEvery { get; init; } = 100;

    /// <summary>K of the idle report: a robot holding a task on one cell for more than K steps counts as idle.</summary>
    public int IdleSteps { get; init; } = 50;

    /// <summary>Seed of the default entrant.</summary>
    public int Seed { get; init; }

    /// <summary>Replay the written file to check it (default on).</summary>
    public bool Replay { get; init; } = true;

    /// <summary><c>Name=Value</c> settings of the default entrant's <see cref="PlannerOptions"/>.</summary>
    public IReadOnlyList<string> PlannerSettings { get; init; } = [];
}

/// <summary>The closing summary line of a bench run.</summary>
/// <param name="Instance">Instance name.</param>
/// <param name="TeamSize">Robots.</param>
/// <param name="Steps">Horizon.</param>
/// <param name="NumTaskFinished">Tasks (2023: errands) finished.</param>
/// <param name="ThroughputPerStep">Tasks per step.</param>
/// <param name="MaxPlanMs">Longest planning call.</param>
/// <param name="P99PlanMs">99th percentile planning call.</param>
/// <param name="Valid">Every executed step valid and the replay reproduced numTaskFinished.</param>
/// <param name="IdleRobots">Robots that held a task on one cell for more than <paramref name="IdleK"/> steps at some point.</param>
/// <param name="IdleK">K of <paramref name="IdleRobots"/>.</param>
public sealed record LorrBenchSummary(string Instance, int TeamSize, int Steps, int NumTaskFinished, double ThroughputPerStep, double MaxPlanMs, double P99PlanMs, bool Valid, int IdleRobots = 0, int IdleK = 50)
{
    /// <summary>The one-line JSON form printed last on stdout.</summary>
    public string ToJsonLine()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("instance", Instance);
            w.WriteNumber("teamSize", TeamSize);
            w.WriteNumber("steps", Steps);
            w.WriteNumber("numTaskFinished", NumTaskFinished);
            w.WriteNumber("throughputPerStep", Math.Round(ThroughputPerStep, 4));
            w.WriteNumber("maxPlanMs", Math.Round(MaxPlanMs, 3));
            w.WriteNumber("p99PlanMs", Math.Round(P99PlanMs, 3));
            w.WriteBoolean("valid", Valid);
            w.WriteNumber("idleRobots", IdleRobots);
            w.WriteNumber("idleK", IdleK);
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}

/// <summary>The result of <see cref="LorrBenchRunner.RunAsync"/>.</summary>
/// <param name="ExitCode">0 success, 1 run invalid, 2 bad arguments or input.</param>
/// <param name="Summary">The summary, null when the run did not happen.</param>
/// <param name="Record">The run, null when it did not happen.</param>
/// <param name="Replay">The replay check, null when skipped.</param>
public sealed record LorrBenchOutcome(int ExitCode, LorrBenchSummary? Summary, LorrRunRecord? Record, LorrReplayReport? Replay);

/// <summary>
/// The bench command's core, callable without a process: checks the arguments, loads the
/// instance, runs <see cref="LorrBench"/>, writes the output file, replays it with
/// <see cref="LorrOutputReplayer"/> and prints the summary as the last stdout line.
/// </summary>
public static class LorrBenchRunner
{
    /// <summary>Runs the bench. Errors go to <paramref name="stderr"/> with a non-zero exit code.</summary>
    public static async Task<LorrBenchOutcome> RunAsync(
        LorrBenchOptions options,
        TextWriter stdout,
        TextWriter stderr,
        TimeProvider? timeProvider = null,
        Func<LorrInstance, ILorrEntrant>? entrantFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var time = timeProvider ?? TimeProvider.System;
        var problem = CheckArguments(options);
        if (problem is not null)
        {
            await stderr.WriteLineAsync("lorr: " + problem).ConfigureAwait(false);
            return new LorrBenchOutcome(2, null, null, null);
        }

        LorrInstance instance;
        try
        {
            instance = LorrInstance.Load(options.Input);
        }
        catch (Exception ex) when (ex is DomainFormatException or IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync("lorr: cannot load --input: " + ex.Message).ConfigureAwait(false);
            return new LorrBenchOutcome(2, null, null, null);
        }

        var plannerOptions = new PlannerOptions { Seed = options.Seed };
        var settingProblem = PlannerOptionSetter.TryApply(plannerOptions, options.PlannerSettings);
        if (settingProblem is null)
        {
            try
            {
                plannerOptions.Validate();
            }
            catch (ArgumentOutOfRangeException ex)
            {
                settingProblem = "--planner-option: " + ex.Message;
            }
        }

        if (settingProblem is not null)
        {
            await stderr.WriteLineAsync("lorr: " + settingProblem).ConfigureAwait(false);
            return new LorrBenchOutcome(2, null, null, null);
        }

        var entrant = entrantFactory?.Invoke(instance) ?? CreateDefaultEntrant(instance, plannerOptions);
        var started = time.GetTimestamp();
        var overruns = 0;
        var bench = new LorrBench(instance, time)
        {
            IdleLimit = options.IdleSteps,
            Overrun = (step, took, why) =>
            {
                if (++overruns <= 20)
                {
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lorr: step {step}: planning took {took.TotalMilliseconds:F0} ms, over the {options.PlanMs} ms budget ({why ?? "no diagnostics"})"));
                }
            },
            ProgressEvery = Math.Max(1, options.ProgressEvery),
            Progress = p => stderr.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"lorr: step {p.Step}/{p.Steps} tasks {p.TasksFinished} plan ms p50 {p.PlanMsP50:F1} max {p.PlanMsMax:F1} wall {time.GetElapsedTime(started).TotalSeconds:F0}s")),
        };
        foreach (var note in instance.Generation == LorrGeneration.Lorr2026 ? LorrBench.Approximations2026 : [])
        {
            await stdout.WriteLineAsync("note: " + note).ConfigureAwait(false);
        }

        var record = await bench.RunAsync(entrant, options.Steps, TimeSpan.FromMilliseconds(options.PlanMs), cancellationToken).ConfigureAwait(false);
        try
        {
            LorrOutputWriter.Write(record, options.Output);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"lorr: cannot write --output '{options.Output}': {ex.Message}").ConfigureAwait(false);
            return new LorrBenchOutcome(2, null, record, null);
        }

        LorrReplayReport? replay = null;
        if (options.Replay)
        {
            replay = LorrOutputReplayer.Replay(options.Output, instance);
            foreach (var m in replay.Mismatches)
            {
                await stderr.WriteLineAsync("lorr: replay mismatch: " + m).ConfigureAwait(false);
            }
        }

        // An entrant's invalid step is the entrant's error (recorded, everyone waited); "valid" is
        // about the run: the bench only executes validated steps, and the independent replay of the
        // written file (every step through the validator, events against positions) must agree.
        var valid = replay?.Agrees ?? true;
        var summary = new LorrBenchSummary(
            instance.Name,
            instance.TeamSize,
            options.Steps,
            record.NumTaskFinished,
            options.Steps == 0 ? 0 : (double)record.NumTaskFinished / options.Steps,
            record.PlanMsPercentile(1.0),
            record.PlanMsPercentile(0.99),
            valid,
            record.Idle?.RobotsOverLimit ?? 0,
            options.IdleSteps);
        await stderr.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"lorr: done in {time.GetElapsedTime(started).TotalSeconds:F1}s: {record.NumTaskFinished} tasks, {record.NumPlannerErrors} planner errors, {record.ScheduleErrors.Count} schedule errors, {record.NumEntryTimeouts} entry timeouts; robots idle > {options.IdleSteps} steps with a task: {record.Idle?.RobotsOverLimit ?? 0} (longest {record.Idle?.LongestRun ?? 0}, at the end {record.Idle?.OverLimitNow ?? 0}); output {options.Output}")).ConfigureAwait(false);
        if (record.TickAccount is { } account)
        {
            await stderr.WriteLineAsync("lorr: robot-ticks: " + account).ConfigureAwait(false);
        }

        if (entrant.Summary() is { } report)
        {
            await stderr.WriteLineAsync("lorr: " + report).ConfigureAwait(false);
        }

        await stderr.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"lorr: garbage collections gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, total pause {GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms")).ConfigureAwait(false);

        await stdout.WriteLineAsync(summary.ToJsonLine()).ConfigureAwait(false);
        return new LorrBenchOutcome(valid ? 0 : 1, summary, record, replay);
    }

    /// <summary>The project's optimizer as the entrant (2023: routing to the system's goals).</summary>
    public static ILorrEntrant CreateDefaultEntrant(LorrInstance instance, int seed = 0) =>
        CreateDefaultEntrant(instance, new PlannerOptions { Seed = seed });

    /// <summary>The project's optimizer with <paramref name="options"/> as the entrant (2023: routing to the system's goals).</summary>
    public static ILorrEntrant CreateDefaultEntrant(LorrInstance instance, PlannerOptions options)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(options);
        if (instance.Generation == LorrGeneration.Lorr2026 && options.Routing == RoutingAlgorithm.Epibt)
        {
            options.NoCycles = true; // the grant executor carries plans out under delays: no rotation rings
        }

        var planner = new PibtFleetPlanner(instance.Map, instance.TeamSize, options);
        return instance.Generation == LorrGeneration.Lorr2023 ? new AssignedGoalsEntrant(planner) : new FleetPlannerEntrant(planner);
    }

    private static string? CheckArguments(LorrBenchOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Input))
        {
            return "--input is required (a LoRR instance .json)";
        }

        if (!File.Exists(o.Input))
        {
            return $"--input '{o.Input}' does not exist";
        }

        if (o.Steps < 0)
        {
            return $"--steps must be 0 or more, got {o.Steps}";
        }

        if (o.IdleSteps <= 0)
        {
            return $"--idle-steps must be positive, got {o.IdleSteps}";
        }

        if (o.PlanMs <= 0)
        {
            return $"--plan-ms must be positive, got {o.PlanMs}";
        }

        if (string.IsNullOrWhiteSpace(o.Output))
        {
            return "--output is required";
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(o.Output));
        if (folder is not null && !Directory.Exists(folder))
        {
            return $"--output folder '{folder}' does not exist";
        }

        return null;
    }
}
