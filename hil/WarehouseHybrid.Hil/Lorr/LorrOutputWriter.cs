using System.Text;
using System.Text.Json;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Lorr;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// Writes a run as the Start-Kit of the instance's generation writes its output file (same keys,
/// order and encodings; 2024 also gets <c>sumOfCost</c>, which its documentation lists), streamed
/// with <see cref="Utf8JsonWriter"/> and flushed every megabyte, so a path string is the largest
/// thing built in memory.
/// </summary>
public static class LorrOutputWriter
{
    /// <summary>2026 path segment length in ticks (the Start-Kit's default <c>outputActionWindow</c>).</summary>
    public const int SegmentSize = 1000;

    private const int FlushBytes = 1 << 20;

    /// <summary>Writes <paramref name="record"/> to <paramref name="path"/>.</summary>
    public static void Write(LorrRunRecord record, string path)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(record, stream);
    }

    /// <summary>Writes <paramref name="record"/> to <paramref name="stream"/>.</summary>
    public static void Write(LorrRunRecord record, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { SkipValidation = false });
        switch (record.Instance.Generation)
        {
            case LorrGeneration.Lorr2023:
                Write2023(record, w, stream);
                break;
            default:
                Write2024(record, w, stream);
                break;
        }

        w.Flush();
    }

    private static void Write2024(LorrRunRecord r, Utf8JsonWriter w, Stream s)
    {
        var is2026 = r.Instance.Generation == LorrGeneration.Lorr2026;
        var cols = r.Instance.Map.Width;
        w.WriteStartObject();
        w.WriteString("actionModel", "MAPF_T");
        w.WriteString("version", is2026 ? "2026 LoRR" : "2024 LoRR");
        w.WriteNumber("teamSize", r.Instance.TeamSize);
        w.WriteNumber("numTaskFinished", r.NumTaskFinished);
        w.WriteNumber("sumOfCost", r.SolutionCosts.Sum());
        w.WriteNumber("makespan", is2026 ? r.Steps : (r.SolutionCosts.Length == 0 ? 0 : r.SolutionCosts.Max()));
        w.WriteNumber("numPlannerErrors", r.NumPlannerErrors);
        w.WriteNumber("numScheduleErrors", r.ScheduleErrors.Count);
        w.WriteNumber("numEntryTimeouts", r.NumEntryTimeouts);
        if (is2026)
        {
            w.WriteNumber("agentMaxCounter", r.AgentCounter);
            w.WriteNumber("outputSegmentSize", SegmentSize);
            w.WriteStartArray("delayIntervals");
            foreach (var list in r.DelayIntervals ?? [])
            {
                w.WriteStartArray();
                foreach (var (a, b) in list)
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(a);
                    w.WriteNumberValue(b);
                    w.WriteEndArray();
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        WriteStarts(r, w);
        w.WritePropertyName("actualPaths");
        WritePaths(r, r.ActualTape, w, s, is2026);
        if (is2026)
        {
            WriteEvents2024(r, w, s);
            WriteTasks2024(r, w, s, cols);
        }

        w.WritePropertyName("plannerPaths");
        WritePaths(r, r.PlannerTape, w, s, is2026);
        WritePlannerTimesAndErrors(r, w);
        WriteSchedule(w, s, "actualSchedule", r.ActualSchedule);
        WriteSchedule(w, s, "plannerSchedule", r.PlannerSchedule);
        w.WriteStartArray("scheduleErrors");
        foreach (var e in r.ScheduleErrors)
        {
            w.WriteStartArray();
            w.WriteNumberValue(e.TaskId);
            w.WriteNumberValue(e.Robot1);
            w.WriteNumberValue(e.Robot2);
            w.WriteNumberValue(e.Timestep);
            w.WriteStringValue(e.Message);
            w.WriteEndArray();
        }

        w.WriteEndArray();
        if (!is2026)
        {
            WriteEvents2024(r, w, s);
            WriteTasks2024(r, w, s, cols);
        }

        w.WriteEndObject();
    }

    // "plannerTimes" and "errors" ([robot1, robot2, timestep, message]) are the same in every generation.
    private static void WritePlannerTimesAndErrors(LorrRunRecord r, Utf8JsonWriter w)
    {
        w.WriteStartArray("plannerTimes");
        foreach (var t in r.PlannerTimes)
        {
            w.WriteNumberValue(t);
        }

        w.WriteEndArray();
        w.WriteStartArray("errors");
        foreach (var e in r.Errors)
        {
            w.WriteStartArray();
            w.WriteNumberValue(e.Robot1);
            w.WriteNumberValue(e.Robot2);
            w.WriteNumberValue(e.Timestep);
            w.WriteStringValue(e.Message);
            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    private static void Write2023(LorrRunRecord r, Utf8JsonWriter w, Stream s)
    {
        var cols = r.Instance.Map.Width;
        w.WriteStartObject();
        w.WriteString("actionModel", "MAPF_T");
        w.WriteString("AllValid", r.Errors.Count == 0 ? "Yes" : "No");
        w.WriteNumber("teamSize", r.Instance.TeamSize);
        WriteStarts(r, w);
        w.WriteNumber("numTaskFinished", r.NumTaskFinished);
        w.WriteNumber("sumOfCost", r.SolutionCosts.Sum());
        w.WriteNumber("makespan", r.SolutionCosts.Length == 0 ? 0 : r.SolutionCosts.Max());
        w.WritePropertyName("actualPaths");
        WritePaths(r, r.ActualTape, w, s, false);
        w.WritePropertyName("plannerPaths");
        WritePaths(r, r.PlannerTape, w, s, false);
        WritePlannerTimesAndErrors(r, w);

        // Per agent: [task_id, timestep, "assigned" | "finished"].
        var byAgent = new List<LorrEvent>[r.Instance.TeamSize];
        for (var i = 0; i < byAgent.Length; i++)
        {
            byAgent[i] = new List<LorrEvent>();
        }

        foreach (var e in r.Events)
        {
            byAgent[e.Agent].Add(e);
        }

        w.WriteStartArray("events");
        foreach (var list in byAgent)
        {
            w.WriteStartArray();
            foreach (var e in list)
            {
                w.WriteStartArray();
                w.WriteNumberValue(e.TaskId);
                w.WriteNumberValue(e.Timestep);
                w.WriteStringValue(e.Sequence == 0 ? "assigned" : "finished");
                w.WriteEndArray();
            }

            w.WriteEndArray();
            MaybeFlush(w, s);
        }

        w.WriteEndArray();
        w.WriteStartArray("tasks");
        foreach (var t in r.Tasks)
        {
            var cell = r.Instance.Tasks[t.FileIndex][0];
            w.WriteStartArray();
            w.WriteNumberValue(t.Id);
            w.WriteNumberValue(cell / cols);
            w.WriteNumberValue(cell % cols);
            w.WriteEndArray();
            MaybeFlush(w, s);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteStarts(LorrRunRecord r, Utf8JsonWriter w)
    {
        var cols = r.Instance.Map.Width;
        w.WriteStartArray("start");
        foreach (var p in r.Starts)
        {
            w.WriteStartArray();
            w.WriteNumberValue(p.Cell / cols);
            w.WriteNumberValue(p.Cell % cols);
            w.WriteStringValue(p.Heading switch
            {
                Heading.East => "E",
                Heading.South => "S",
                Heading.West => "W",
                _ => "N",
            });
            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    private static void WritePaths(LorrRunRecord r, ActionTape tape, Utf8JsonWriter w, Stream s, bool segments)
    {
        w.WriteStartArray();
        var buffer = new ArrayBufferWriterLite();
        for (var robot = 0; robot < tape.Robots; robot++)
        {
            buffer.Clear();
            if (segments)
            {
                EncodeSegments(r, tape, robot, buffer);
            }
            else
            {
                for (var step = 0; step < tape.Count; step++)
                {
                    if (step > 0)
                    {
                        buffer.Append((byte)',');
                    }

                    buffer.Append(TapeCodes.Letter(tape[step, robot]));
                }
            }

            w.WriteStringValue(buffer.Span);
            MaybeFlush(w, s);
        }

        w.WriteEndArray();
    }

    // 2026: "[(t,row,col,ori,counter):(F 3,W 2)]" per segment of SegmentSize ticks; each tape step
    // is TicksPerStep ticks of its action; the pose snapshot follows the executed actions (an action
    // lands after AgentCounter ticks of it; waits pause it).
    private static void EncodeSegments(LorrRunRecord r, ActionTape tape, int robot, ArrayBufferWriterLite buffer)
    {
        var map = r.Instance.Map;
        var perStep = r.TicksPerStep;
        var c = r.AgentCounter;
        var pose = r.Starts[robot];
        var totalTicks = r.Steps;
        var counter = 0;
        byte runCode = 255;
        var runLength = 0;
        var inSegment = false;
        for (var tick = 0; tick < totalTicks; tick++)
        {
            var step = tick / perStep;
            var code = step < tape.Count ? tape[step, robot] : (byte)RobotAction.Wait;
            var actual = step < r.ActualTape.Count ? r.ActualTape[step, robot] : (byte)RobotAction.Wait;
            if (tick % SegmentSize == 0)
            {
                if (inSegment)
                {
                    FlushRun(buffer, runCode, runLength);
                    buffer.Append(")]"u8);
                }

                buffer.Append("[("u8);
                buffer.AppendInt(tick);
                buffer.Append((byte)',');
                buffer.AppendInt(map.Row(pose.Cell));
                buffer.Append((byte)',');
                buffer.AppendInt(map.Column(pose.Cell));
                buffer.Append((byte)',');
                buffer.AppendInt((int)pose.Heading);
                buffer.Append((byte)',');
                buffer.AppendInt(counter);
                buffer.Append("):("u8);
                inSegment = true;
                runCode = 255;
                runLength = 0;
            }

            if (code == runCode)
            {
                runLength++;
            }
            else
            {
                if (runLength > 0)
                {
                    FlushRun(buffer, runCode, runLength);
                    buffer.Append((byte)',');
                }

                runCode = code;
                runLength = 1;
            }

            // The pose follows the executed (actual) tape.
            if (actual <= 2)
            {
                counter++;
                if (counter >= c)
                {
                    counter = 0;
                    pose = pose.Apply((RobotAction)actual, map);
                }
            }
        }

        if (inSegment)
        {
            FlushRun(buffer, runCode, runLength);
            buffer.Append(")]"u8);
        }
    }

    private static void FlushRun(ArrayBufferWriterLite buffer, byte code, int length)
    {
        if (length == 0)
        {
            return;
        }

        buffer.Append(TapeCodes.Letter(code));
        buffer.Append((byte)' ');
        buffer.AppendInt(length);
    }

    private static void WriteSchedule(Utf8JsonWriter w, Stream s, string name, List<(int Time, int Task)>[] schedule)
    {
        w.WriteStartArray(name);
        var sb = new StringBuilder();
        foreach (var list in schedule)
        {
            sb.Clear();
            for (var i = 0; i < list.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                sb.Append(list[i].Time).Append(':').Append(list[i].Task);
            }

            w.WriteStringValue(sb.ToString());
            MaybeFlush(w, s);
        }

        w.WriteEndArray();
    }

    private static void WriteEvents2024(LorrRunRecord r, Utf8JsonWriter w, Stream s)
    {
        w.WriteStartArray("events");
        foreach (var e in r.Events)
        {
            w.WriteStartArray();
            w.WriteNumberValue(e.Timestep);
            w.WriteNumberValue(e.Agent);
            w.WriteNumberValue(e.TaskId);
            w.WriteNumberValue(e.Sequence);
            w.WriteEndArray();
            MaybeFlush(w, s);
        }

        w.WriteEndArray();
    }

    private static void WriteTasks2024(LorrRunRecord r, Utf8JsonWriter w, Stream s, int cols)
    {
        w.WriteStartArray("tasks");
        foreach (var t in r.Tasks)
        {
            w.WriteStartArray();
            w.WriteNumberValue(t.Id);
            w.WriteNumberValue(t.ReleaseTime);
            w.WriteStartArray();
            foreach (var cell in r.Instance.Tasks[t.FileIndex])
            {
                w.WriteNumberValue(cell / cols);
                w.WriteNumberValue(cell % cols);
            }

            w.WriteEndArray();
            w.WriteEndArray();
            MaybeFlush(w, s);
        }

        w.WriteEndArray();
    }

    private static void MaybeFlush(Utf8JsonWriter w, Stream s)
    {
        _ = s;
        if (w.BytesPending > FlushBytes)
        {
            w.Flush();
        }
    }

    /// <summary>A growable byte buffer reused across path strings.</summary>
    private sealed class ArrayBufferWriterLite
    {
        private byte[] _data = new byte[1024];
        private int _length;

        public ReadOnlySpan<byte> Span => _data.AsSpan(0, _length);

        public void Clear() => _length = 0;

        public void Append(byte b)
        {
            Ensure(1);
            _data[_length++] = b;
        }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_data.AsSpan(_length));
            _length += bytes.Length;
        }

        public void AppendInt(int value)
        {
            Ensure(11);
            value.TryFormat(_data.AsSpan(_length), out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            _length += written;
        }

        private void Ensure(int more)
        {
            if (_length + more > _data.Length)
            {
                Array.Resize(ref _data, Math.Max(_data.Length * 2, _length + more));
            }
        }
    }
}
