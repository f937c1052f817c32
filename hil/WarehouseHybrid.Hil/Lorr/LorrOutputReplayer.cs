using System.Text.Json;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Domain.Validation;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>What an independent replay of an output file found.</summary>
public sealed class LorrReplayReport
{
    /// <summary>Steps (2026: ticks) replayed.</summary>
    public int StepsReplayed { get; internal set; }

    /// <summary>Tasks (2023: errands) whose finishing the replay confirmed.</summary>
    public int TasksFinished { get; internal set; }

    /// <summary>The file's <c>numTaskFinished</c>.</summary>
    public int ReportedTasksFinished { get; internal set; }

    /// <summary>Everything that did not agree (empty when the file is consistent).</summary>
    public List<string> Mismatches { get; } = new();

    /// <summary>True when nothing disagreed.</summary>
    public bool Agrees => Mismatches.Count == 0;
}

/// <summary>
/// Replays a LoRR output file against its instance without trusting the simulator that wrote it:
/// starts from <c>start</c>, applies <c>actualPaths</c> step by step with the project's
/// <see cref="PlanValidator"/> (every step must be valid), checks each task event against the
/// replayed positions (the robot stands on the errand the event claims, errands in order) and
/// that the tasks listed are the instance's, then recounts finished tasks and compares with
/// <c>numTaskFinished</c>.
/// </summary>
public static class LorrOutputReplayer
{
    private const int MaxMismatches = 20;

    /// <summary>Replays the file at <paramref name="outputPath"/>.</summary>
    public static LorrReplayReport Replay(string outputPath, LorrInstance instance)
    {
        using var stream = File.OpenRead(outputPath);
        using var doc = JsonDocument.Parse(stream);
        return Replay(doc.RootElement, instance);
    }

    /// <summary>Replays an output already parsed.</summary>
    public static LorrReplayReport Replay(JsonElement root, LorrInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var report = new LorrReplayReport();
        try
        {
            ReplayCore(root, instance, report);
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException or IndexOutOfRangeException)
        {
            report.Mismatches.Add("malformed output: " + ex.Message);
        }

        return report;
    }

    private static void ReplayCore(JsonElement root, LorrInstance inst, LorrReplayReport report)
    {
        var map = inst.Map;
        var n = root.GetProperty("teamSize").GetInt32();
        report.ReportedTasksFinished = root.GetProperty("numTaskFinished").GetInt32();
        if (n != inst.TeamSize)
        {
            Add(report, $"teamSize {n} but the instance has {inst.TeamSize}");
            return;
        }

        var poses = new RobotPose[n];
        var i = 0;
        foreach (var s in root.GetProperty("start").EnumerateArray())
        {
            var cell = map.CellAt(s[0].GetInt32(), s[1].GetInt32());
            var heading = s[2].GetString() switch { "E" => Heading.East, "S" => Heading.South, "W" => Heading.West, _ => Heading.North };
            if (i < n)
            {
                poses[i] = new RobotPose(cell, heading);
                if (cell != inst.StartCells[i] || heading != Heading.East)
                {
                    Add(report, $"start of robot {i} is {cell}/{heading}, the instance says {inst.StartCells[i]} facing east");
                }
            }

            i++;
        }

        if (i != n)
        {
            Add(report, $"start lists {i} robots, expected {n}");
            return;
        }

        var generation = inst.Generation;
        var ticksPerAction = generation == LorrGeneration.Lorr2026 ? root.GetProperty("agentMaxCounter").GetInt32() : 1;
        var paths = root.GetProperty("actualPaths").EnumerateArray().Select(p => p.GetString() ?? string.Empty).ToArray();
        if (paths.Length != n)
        {
            Add(report, $"actualPaths has {paths.Length} entries, expected {n}");
            return;
        }

        var tape = generation == LorrGeneration.Lorr2026 ? paths.Select(ExpandSegments).ToArray() : paths.Select(ParseLetters).ToArray();
        var steps = tape[0].Length;
        if (tape.Any(t => t.Length != steps))
        {
            Add(report, "actualPaths entries have different lengths");
            return;
        }

        // Events grouped by the step they happen at.
        var events = ReadEvents(root, generation, n);
        var tasks = ReadTasks(root, inst, report);
        var eventIndex = 0;
        var progress = new Dictionary<int, int>();
        var validator = new PlanValidator(map);
        var actions = new RobotAction[n];
        var after = new RobotPose[n];
        var counters = new int[n];
        var conflicts = new List<Conflict>();
        for (var t = 0; t <= steps; t++)
        {
            while (eventIndex < events.Count && events[eventIndex].Timestep == t)
            {
                CheckEvent(events[eventIndex++], poses, tasks, progress, report, generation);
            }

            if (t == steps)
            {
                break;
            }

            var any = false;
            for (var r = 0; r < n; r++)
            {
                var code = tape[r][t];
                actions[r] = RobotAction.Wait;
                if (code <= 2)
                {
                    counters[r]++;
                    if (counters[r] >= ticksPerAction)
                    {
                        counters[r] = 0;
                        actions[r] = (RobotAction)code;
                        any = true;
                    }
                }
            }

            if (any)
            {
                conflicts.Clear();
                if (!validator.ValidateStep(poses, actions, after, conflicts))
                {
                    Add(report, $"step {t}: {string.Join("; ", conflicts.Take(3))}");
                }
                else
                {
                    (poses, after) = (after, poses);
                }
            }

            report.StepsReplayed++;
        }

        if (eventIndex < events.Count)
        {
            Add(report, $"{events.Count - eventIndex} events after the last step or out of order (first at {events[eventIndex].Timestep})");
        }

        if (report.TasksFinished != report.ReportedTasksFinished)
        {
            Add(report, $"replay confirms {report.TasksFinished} finished tasks, the file says {report.ReportedTasksFinished}");
        }
    }

    private static void CheckEvent(LorrEvent e, RobotPose[] poses, Dictionary<int, int[]> tasks, Dictionary<int, int> progress, LorrReplayReport report, LorrGeneration generation)
    {
        if (!tasks.TryGetValue(e.TaskId, out var errands))
        {
            Add(report, $"event at {e.Timestep} names unknown task {e.TaskId}");
            return;
        }

        if ((uint)e.Agent >= (uint)poses.Length)
        {
            Add(report, $"event at {e.Timestep} names robot {e.Agent}");
            return;
        }

        if (generation == LorrGeneration.Lorr2023)
        {
            if (e.Sequence == 1)
            {
                if (poses[e.Agent].Cell != errands[0])
                {
                    Add(report, $"step {e.Timestep}: robot {e.Agent} finishes task {e.TaskId} at cell {errands[0]} but stands on {poses[e.Agent].Cell}");
                    return;
                }

                report.TasksFinished++;
            }

            return;
        }

        var done = progress.GetValueOrDefault(e.TaskId);
        if (e.Sequence != done + 1 || e.Sequence > errands.Length)
        {
            Add(report, $"step {e.Timestep}: task {e.TaskId} jumps from {done} to {e.Sequence} errands done");
            return;
        }

        if (poses[e.Agent].Cell != errands[e.Sequence - 1])
        {
            Add(report, $"step {e.Timestep}: robot {e.Agent} reaches errand {e.Sequence - 1} of task {e.TaskId} (cell {errands[e.Sequence - 1]}) but stands on {poses[e.Agent].Cell}");
            return;
        }

        progress[e.TaskId] = e.Sequence;
        if (e.Sequence == errands.Length)
        {
            report.TasksFinished++;
        }
    }

    private static List<LorrEvent> ReadEvents(JsonElement root, LorrGeneration generation, int n)
    {
        var list = new List<LorrEvent>();
        if (generation == LorrGeneration.Lorr2023)
        {
            var agent = 0;
            foreach (var perAgent in root.GetProperty("events").EnumerateArray())
            {
                foreach (var e in perAgent.EnumerateArray())
                {
                    var kind = e[2].GetString() == "finished" ? 1 : 0;
                    list.Add(new LorrEvent(e[1].GetInt32(), agent, e[0].GetInt32(), kind));
                }

                agent++;
            }

            _ = n;
        }
        else
        {
            foreach (var e in root.GetProperty("events").EnumerateArray())
            {
                list.Add(new LorrEvent(e[0].GetInt32(), e[1].GetInt32(), e[2].GetInt32(), e[3].GetInt32()));
            }
        }

        // Stable: keeps each task's events in file order within a step.
        return list.Select((e, k) => (e, k)).OrderBy(x => x.e.Timestep).ThenBy(x => x.k).Select(x => x.e).ToList();
    }

    private static Dictionary<int, int[]> ReadTasks(JsonElement root, LorrInstance inst, LorrReplayReport report)
    {
        var map = inst.Map;
        var tasks = new Dictionary<int, int[]>();
        foreach (var t in root.GetProperty("tasks").EnumerateArray())
        {
            var id = t[0].GetInt32();
            int[] errands;
            if (inst.Generation == LorrGeneration.Lorr2023)
            {
                errands = [map.CellAt(t[1].GetInt32(), t[2].GetInt32())];
            }
            else
            {
                var coords = t[2].EnumerateArray().Select(x => x.GetInt32()).ToArray();
                errands = new int[coords.Length / 2];
                for (var k = 0; k < errands.Length; k++)
                {
                    errands[k] = map.CellAt(coords[2 * k], coords[(2 * k) + 1]);
                }

                var expected = inst.Tasks[id % inst.Tasks.Count];
                if (!expected.AsSpan().SequenceEqual(errands))
                {
                    Add(report, $"task {id} has errands [{string.Join(",", errands)}], the task file's entry {id % inst.Tasks.Count} is [{string.Join(",", expected)}]");
                }
            }

            tasks[id] = errands;
        }

        return tasks;
    }

    private static byte[] ParseLetters(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        var parts = path.Split(',');
        var codes = new byte[parts.Length];
        for (var k = 0; k < parts.Length; k++)
        {
            var code = parts[k].Length == 1 ? TapeCodes.FromLetter(parts[k][0]) : -1;
            codes[k] = code >= 0 ? (byte)code : throw new FormatException($"action {k} is '{parts[k]}', expected F, R, C, W or T");
        }

        return codes;
    }

    // "[(t,row,col,ori,counter):(F 3,W 2)]..." -> one code per tick.
    private static byte[] ExpandSegments(string path)
    {
        var codes = new List<byte>();
        var pos = 0;
        while (pos < path.Length)
        {
            var open = path.IndexOf("):(", pos, StringComparison.Ordinal);
            var close = path.IndexOf(")]", open + 3, StringComparison.Ordinal);
            if (open < 0 || close < 0)
            {
                throw new FormatException($"path segment at character {pos} is not [(t,row,col,ori,counter):(A d,...)]");
            }

            foreach (var run in path[(open + 3)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var space = run.IndexOf(' ', StringComparison.Ordinal);
                var code = TapeCodes.FromLetter(run[0]);
                if (space != 1 || code < 0 || !int.TryParse(run.AsSpan(space + 1), out var count))
                {
                    throw new FormatException($"run '{run}' is not 'A d'");
                }

                for (var k = 0; k < count; k++)
                {
                    codes.Add((byte)code);
                }
            }

            pos = close + 2;
        }

        return codes.ToArray();
    }

    private static void Add(LorrReplayReport report, string message)
    {
        if (report.Mismatches.Count < MaxMismatches)
        {
            report.Mismatches.Add(message);
        }
    }
}
