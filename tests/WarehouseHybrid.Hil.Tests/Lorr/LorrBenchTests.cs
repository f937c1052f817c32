using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Hil.Lorr;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Lorr;

public sealed class LorrBenchTests : IDisposable
{
    private const string Random2024 = "lorr/2024-example/random.domain/random_32_32_20_100.json";
    private const string Random2023 = "lorr/2023-example/random.domain/EI23-random_50.json";
    private const string Small2026 = "lorr/2026-example/warehouse.domain/warehouse_small_200.json";

    private readonly string _folder = Directory.CreateTempSubdirectory("lorr-bench-tests").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Out(string name) => Path.Combine(_folder, name);

    // Functional runs get a budget no loaded CI machine can exceed, so no step times out and the
    // assertions are about behaviour; entry timeouts are tested on a fake clock below.
    private static LorrBenchOptions Options(string input, int steps, string output, int planMs = 120_000) =>
        new() { Input = input, Steps = steps, PlanMs = planMs, Output = output, ProgressEvery = 1000 };

    private static async Task<(LorrBenchOutcome Outcome, string Stdout, string Stderr)> Run(
        LorrBenchOptions options, TimeProvider? time = null, Func<LorrInstance, ILorrEntrant>? entrant = null)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var outcome = await LorrBenchRunner.RunAsync(options, stdout, stderr, time, entrant);
        return (outcome, stdout.ToString(), stderr.ToString());
    }

    private static JsonDocument ReadJson(string path) => JsonDocument.Parse(File.ReadAllBytes(path));

    private static JsonElement LastLine(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return JsonDocument.Parse(lines[^1]).RootElement.Clone();
    }

    [Fact]
    public async Task Run2024_OptimizerFinishesTasks_OutputHasStartKitKeysAndReplayAgrees()
    {
        var output = Out("r2024.json");
        var (outcome, stdout, _) = await Run(Options(RepoPaths.Data(Random2024), 50, output));

        Assert.Equal(0, outcome.ExitCode);
        var summary = LastLine(stdout);
        Assert.True(summary.GetProperty("valid").GetBoolean());
        Assert.Equal("random_32_32_20_100", summary.GetProperty("instance").GetString());
        Assert.Equal(50, summary.GetProperty("steps").GetInt32());
        // Measured 94-97 tasks in the first 50 steps (seeds 0-2; the Start-Kit default planner
        // finishes about 1.8 per step over 500 steps, fewer while it warms up).
        var finished = summary.GetProperty("numTaskFinished").GetInt32();
        Assert.True(finished >= 75, $"only {finished} tasks in 50 steps");
        Assert.Equal(50, summary.GetProperty("idleK").GetInt32());
        Assert.True(summary.GetProperty("idleRobots").GetInt32() <= 2, "robots froze with a task for more than 50 of 50 steps");
        foreach (var key in new[] { "throughputPerStep", "maxPlanMs", "p99PlanMs", "teamSize", "idleRobots" })
        {
            Assert.Equal(JsonValueKind.Number, summary.GetProperty(key).ValueKind);
        }

        using var doc = ReadJson(output);
        var root = doc.RootElement;
        Assert.Equal("MAPF_T", root.GetProperty("actionModel").GetString());
        Assert.Equal("2024 LoRR", root.GetProperty("version").GetString());
        Assert.Equal(finished, root.GetProperty("numTaskFinished").GetInt32());
        foreach (var key in new[] { "teamSize", "sumOfCost", "makespan", "numPlannerErrors", "numScheduleErrors", "numEntryTimeouts" })
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty(key).ValueKind);
        }

        foreach (var key in new[] { "start", "actualPaths", "plannerPaths", "plannerTimes", "errors", "actualSchedule", "plannerSchedule", "scheduleErrors", "events", "tasks" })
        {
            Assert.Equal(JsonValueKind.Array, root.GetProperty(key).ValueKind);
        }

        var start = root.GetProperty("start")[0];
        Assert.Equal(JsonValueKind.Number, start[0].ValueKind);
        Assert.Equal("E", start[2].GetString());
        var path = root.GetProperty("actualPaths")[0].GetString()!;
        Assert.Equal(50, path.Split(',').Length);
        Assert.All(path.Split(','), a => Assert.Contains(a, new[] { "F", "R", "C", "W" }));
        Assert.Equal(100, root.GetProperty("actualPaths").GetArrayLength());
        Assert.Equal(50, root.GetProperty("plannerTimes").GetArrayLength());
        // The schedule is applied after each move, so its first entry is at step 1 (as in the Start-Kit).
        Assert.Matches("^1:-?\\d+(,\\d+:-?\\d+)*$", root.GetProperty("actualSchedule")[0].GetString()!);

        // The first 150 tasks (floor(1.5 x 100)) are revealed at step 0 with the file's errands as [row, col, ...].
        var tasks = root.GetProperty("tasks");
        Assert.Equal(150, tasks.EnumerateArray().Count(t => t[1].GetInt32() == 0));
        Assert.Equal(150 + finished, tasks.GetArrayLength());

        var instance = LorrInstance.Load(RepoPaths.Data(Random2024));
        var replay = LorrOutputReplayer.Replay(output, instance);
        Assert.True(replay.Agrees, string.Join("\n", replay.Mismatches));
        Assert.Equal(finished, replay.TasksFinished);
        Assert.Equal(50, replay.StepsReplayed);
    }

    [Fact]
    public async Task Run2023_RoundRobinErrands_Counted_OutputHas2023Encoding()
    {
        var output = Out("r2023.json");
        var (outcome, stdout, _) = await Run(Options(RepoPaths.Data(Random2023), 30, output));

        Assert.Equal(0, outcome.ExitCode);
        Assert.True(LastLine(stdout).GetProperty("valid").GetBoolean());
        using var doc = ReadJson(output);
        var root = doc.RootElement;
        Assert.Equal("Yes", root.GetProperty("AllValid").GetString());
        Assert.False(root.TryGetProperty("version", out _));
        Assert.True(root.GetProperty("numTaskFinished").GetInt32() > 0);

        // Robot k is given file entries k, k+n, ...: its first task is entry k, assigned at step 0.
        var instance = LorrInstance.Load(RepoPaths.Data(Random2023));
        var events = root.GetProperty("events");
        Assert.Equal(50, events.GetArrayLength());
        var firstOfRobot3 = events[3][0];
        Assert.Equal("assigned", firstOfRobot3[2].GetString());
        var task = root.GetProperty("tasks").EnumerateArray().Single(t => t[0].GetInt32() == firstOfRobot3[0].GetInt32());
        Assert.Equal(instance.Tasks[3][0], instance.Map.CellAt(task[1].GetInt32(), task[2].GetInt32()));

        var replay = LorrOutputReplayer.Replay(output, instance);
        Assert.True(replay.Agrees, string.Join("\n", replay.Mismatches));
    }

    [Fact]
    public async Task Run2026_TickLevelWithDelays_PlansEveryCommunicationPeriod_WritesSegmentsAndSaysWhatIsApproximated()
    {
        var output = Out("r2026.json");
        var (outcome, stdout, stderr) = await Run(Options(RepoPaths.Data(Small2026), 400, output, planMs: 1000));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("note: 2026 mode", stdout, StringComparison.Ordinal);
        var summary = LastLine(stdout);
        Assert.True(summary.GetProperty("valid").GetBoolean());
        var finished = summary.GetProperty("numTaskFinished").GetInt32();
        // Main before takeovers, close following and anticipation (ADR 0007, item 7) finished 366 here; now about 1,100.
        Assert.True(finished >= 600, $"only {finished} tasks in 400 ticks (40 actions of 10 ticks each)");
        using var doc = ReadJson(output);
        var root = doc.RootElement;
        Assert.Equal("2026 LoRR", root.GetProperty("version").GetString());
        Assert.Equal(10, root.GetProperty("agentMaxCounter").GetInt32());
        Assert.Equal(0, root.GetProperty("numPlannerErrors").GetInt32()); // the grant executor never lets robots collide

        // The only schedule errors are stale ones, at most one per task: a robot proposing the task it is
        // about to finish when it finished just before the schedule applied. Never two robots on one task.
        var errors = root.GetProperty("scheduleErrors").EnumerateArray().ToList();
        Assert.All(errors, e => Assert.Equal("task already finished", e[4].GetString()));
        Assert.True(errors.Count <= finished, $"{errors.Count} schedule errors for {finished} tasks");
        Assert.Equal(errors.Count, errors.Select(e => e[0].GetInt32()).Distinct().Count());
        Assert.Contains("robot-ticks: acting", stderr, StringComparison.Ordinal);
        var account = outcome.Record!.TickAccount!;
        Assert.Equal(200L * 400, account.Total); // every robot-tick counted once
        Assert.True(account[LorrTickUse.Acting] > account.Total / 2, account.ToString());
        Assert.True(account[LorrTickUse.Delayed] > 0, account.ToString());
        Assert.Equal(200, root.GetProperty("delayIntervals").GetArrayLength());
        Assert.Contains(root.GetProperty("delayIntervals").EnumerateArray(), robot => robot.GetArrayLength() > 0);
        Assert.Matches(@"^\[\(0,\d+,\d+,0,0\):\(([FRCWT] \d+,?)+\)\]$", root.GetProperty("actualPaths")[0].GetString()!);

        // At most one planning call per 1000 ms of 100 ms ticks: 40 calls in 400 ticks, plus the initial one. A call
        // that overruns its period (a loaded machine: the suite runs in parallel) starts the next one late, as in the
        // Start-Kit, so a few may be missing; most periods must be planned.
        var calls = root.GetProperty("plannerTimes").GetArrayLength();
        Assert.InRange(calls, 30, 41);
        var replay = LorrOutputReplayer.Replay(output, LorrInstance.Load(RepoPaths.Data(Small2026)));
        Assert.True(replay.Agrees, string.Join("\n", replay.Mismatches));
        Assert.Equal(400, replay.StepsReplayed);
        Assert.Contains("robots idle", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidActions_AreRecordedAsPlannerErrors_AndEveryoneWaitsThatStep()
    {
        var output = Out("invalid.json");
        var (outcome, stdout, _) = await Run(Options(RepoPaths.Data(Random2024), 10, output), entrant: _ => new AllForwardEntrant());

        Assert.Equal(0, outcome.ExitCode); // the run itself is sound: every executed step was legal
        Assert.True(LastLine(stdout).GetProperty("valid").GetBoolean());
        using var doc = ReadJson(output);
        var root = doc.RootElement;
        var errors = root.GetProperty("numPlannerErrors").GetInt32();
        Assert.True(errors > 0);
        Assert.Equal(errors, root.GetProperty("errors").GetArrayLength());
        var error = root.GetProperty("errors")[0];
        Assert.Contains(error[3].GetString(), new[] { "unallowed move", "vertex conflict", "edge conflict" });
        var step = error[2].GetInt32() - 1;
        foreach (var robot in root.GetProperty("actualPaths").EnumerateArray())
        {
            Assert.Equal("W", robot.GetString()!.Split(',')[step]);
        }

        Assert.All(root.GetProperty("plannerPaths").EnumerateArray(), p => Assert.Equal("F", p.GetString()!.Split(',')[step]));
    }

    [Fact]
    public async Task SlowPlanner_CostsOneAllWaitStepPerFullBudget_CountedAsEntryTimeouts()
    {
        var time = new FakeTimeProvider();
        var slow = new SlowEntrant(time, 2.5);
        var output = Out("slow.json");
        var (outcome, _, _) = await Run(Options(RepoPaths.Data(Random2024), 9, output, planMs: 100), time, _ => slow);

        Assert.Equal(0, outcome.ExitCode);
        using var doc = ReadJson(output);
        var root = doc.RootElement;
        // Each call: 2 timeout steps ('T'), then its (all-wait) actions: 3 calls fill 9 steps.
        Assert.Equal(6, root.GetProperty("numEntryTimeouts").GetInt32());
        Assert.Equal(3, slow.Calls);
        Assert.Equal("T,T,W,T,T,W,T,T,W", root.GetProperty("actualPaths")[0].GetString());
        Assert.Equal(0.25, root.GetProperty("plannerTimes")[0].GetDouble(), 3);
    }

    [Fact]
    public async Task MissingInput_IsAClearErrorWithNonZeroExit()
    {
        var (outcome, _, stderr) = await Run(Options(Out("nope.json"), 10, Out("o.json")));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("--input", stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NegativeSteps_IsAClearErrorWithNonZeroExit()
    {
        var (outcome, _, stderr) = await Run(Options(RepoPaths.Data(Random2024), -5, Out("o.json")));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("--steps", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Out("o.json")));
    }

    [Fact]
    public async Task MalformedConfig_IsAClearErrorNamingFileAndLine()
    {
        var config = Out("bad.json");
        await File.WriteAllTextAsync(config, "{\n  \"mapFile\": \"x.map\",\n  \"teamSize\": \"many\"\n");
        var (outcome, _, stderr) = await Run(Options(config, 10, Out("o.json")));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("bad.json", stderr, StringComparison.Ordinal);
        Assert.Contains("cannot load --input", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replayer_CatchesATamperedOutput()
    {
        var output = Out("tamper.json");
        await Run(Options(RepoPaths.Data(Random2024), 30, output));
        var instance = LorrInstance.Load(RepoPaths.Data(Random2024));
        using var doc = ReadJson(output);
        var text = await File.ReadAllTextAsync(output);

        var inflated = text.Replace(
            $"\"numTaskFinished\":{doc.RootElement.GetProperty("numTaskFinished").GetInt32()}",
            $"\"numTaskFinished\":{doc.RootElement.GetProperty("numTaskFinished").GetInt32() + 1}",
            StringComparison.Ordinal);
        using var inflatedDoc = JsonDocument.Parse(inflated);
        Assert.Contains(LorrOutputReplayer.Replay(inflatedDoc.RootElement, instance).Mismatches, m => m.Contains("finished", StringComparison.Ordinal));

        // Robot 0 stops moving: its events no longer match where it stands (or its steps collide).
        var paths = doc.RootElement.GetProperty("actualPaths");
        var frozen = string.Join(",", Enumerable.Repeat("W", 30));
        var moved = text.Replace("\"" + paths[0].GetString() + "\"", "\"" + frozen + "\"", StringComparison.Ordinal);
        Assert.NotEqual(text, moved);
        using var movedDoc = JsonDocument.Parse(moved);
        Assert.False(LorrOutputReplayer.Replay(movedDoc.RootElement, instance).Agrees);
    }

    [Fact]
    public async Task PlannerOption_UnknownNameOrBadValue_IsAClearErrorNamingIt()
    {
        var unknown = Options(RepoPaths.Data(Random2024), 5, Out("o.json")) with { PlannerSettings = ["NoSuchSetting=3"] };
        var (outcome, _, stderr) = await Run(unknown);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("NoSuchSetting", stderr, StringComparison.Ordinal);

        var badValue = Options(RepoPaths.Data(Random2024), 5, Out("o.json")) with { PlannerSettings = ["HighwayAgainstCost=lots"] };
        (outcome, _, stderr) = await Run(badValue);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("'lots' is not a valid Int32", stderr, StringComparison.Ordinal);

        var outOfRange = Options(RepoPaths.Data(Random2024), 5, Out("o.json")) with { PlannerSettings = ["HighwayAgainstCost=0"] };
        (outcome, _, stderr) = await Run(outOfRange);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("HighwayAgainstCost", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Out("o.json")));
    }

    [Fact]
    public void PlannerOption_SetsNumbersFlagsAndEnumsByCaseInsensitiveName()
    {
        var options = new WarehouseHybrid.Planning.Fleet.PlannerOptions();
        Assert.Null(PlannerOptionSetter.TryApply(options, ["guidance=none", "HighwayAgainstCost=5", "PreferFreeCellsOnTies=true", "BudgetUse=0.5"]));
        Assert.Equal(WarehouseHybrid.Planning.Fleet.GuidanceMode.None, options.Guidance);
        Assert.Equal(5, options.HighwayAgainstCost);
        Assert.True(options.PreferFreeCellsOnTies);
        Assert.Equal(0.5, options.BudgetUse);
        Assert.Contains("TimeProvider", PlannerOptionSetter.TryApply(options, ["TimeProvider=x"]), StringComparison.Ordinal);
        Assert.Contains("expected Name=Value", PlannerOptionSetter.TryApply(options, ["Guidance"]), StringComparison.Ordinal);
    }

    [Fact]
    public void IdleTracker_CountsRobotsFrozenWithATaskForMoreThanK_NotIdleOnesOrMovers()
    {
        var tracker = new LorrIdleTracker(3, limit: 2);
        var poses = new[] { new RobotPose(0, Heading.East), new RobotPose(5, Heading.East), new RobotPose(9, Heading.East) };
        for (var step = 0; step < 5; step++)
        {
            poses[1] = poses[1] with { Cell = 5 + step }; // robot 1 moves every step
            tracker.Observe(poses, r => r != 2);          // robot 2 has no task
        }

        // Robot 0 stood still with a task for 4 steps after its first observation; the others never count.
        Assert.Equal(1, tracker.RobotsOverLimit);
        Assert.Equal(4, tracker.LongestRun);
        Assert.Equal(1, tracker.OverLimitNow);
        poses[0] = poses[0] with { Cell = 1 };
        tracker.Observe(poses, _ => true);
        Assert.Equal(0, tracker.OverLimitNow);
        Assert.Equal(1, tracker.RobotsOverLimit);
    }

    [Fact]
    public void Mt19937_MatchesTheCppStandardsCheckValue()
    {
        // The C++ standard: the 10000th output of a default-constructed mt19937 (seed 5489) is 4123659995.
        var rng = new Mt19937(5489);
        uint value = 0;
        for (var i = 0; i < 10000; i++)
        {
            value = rng.Next();
        }

        Assert.Equal(4123659995u, value);
    }
}
