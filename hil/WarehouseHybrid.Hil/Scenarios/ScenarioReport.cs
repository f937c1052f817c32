using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WarehouseHybrid.Hil.Scenarios;

/// <summary>One expectation's verdict.</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Detail">Measured value or why it failed.</param>
public sealed record CheckResult(string Name, bool Passed, string Detail);

/// <summary>A fault as it was applied.</summary>
/// <param name="Id">Fault id.</param>
/// <param name="Kind">Fault kind.</param>
/// <param name="StartedAtSeconds">Scenario time it began.</param>
/// <param name="EndedAtSeconds">Scenario time it ended, or null.</param>
/// <param name="Robots">Robot ids it touched.</param>
public sealed record AppliedFault(string Id, string Kind, double StartedAtSeconds, double? EndedAtSeconds, IReadOnlyList<string> Robots);

/// <summary>The first invariant violation, for machines.</summary>
/// <param name="Kind">Invariant.</param>
/// <param name="TimeSeconds">World time.</param>
/// <param name="Step">World step.</param>
/// <param name="Involved">Robots (people, items) involved.</param>
/// <param name="Cells">Cells involved.</param>
/// <param name="Message">The sentence.</param>
public sealed record ViolationRecord(string Kind, double TimeSeconds, long Step, IReadOnlyList<string> Involved, IReadOnlyList<int> Cells, string Message);

/// <summary>Telemetry seen at the broker (daemon mode).</summary>
/// <param name="Messages">Telemetry messages received by the rig's observer.</param>
/// <param name="Duplicates">Repeated sequence numbers (QoS 1 redelivery).</param>
/// <param name="MissingSeq">Sequence numbers never seen between a robot's first and last.</param>
/// <param name="LongestGapSeconds">Longest gap in sample time between consecutive messages of one robot.</param>
/// <param name="CloudReceived">Telemetry records the silo's bridge routed, when known.</param>
public sealed record TelemetryRecord(long Messages, long Duplicates, long MissingSeq, double LongestGapSeconds, long? CloudReceived);

/// <summary>What a scenario run did and whether it passed: written as report.json (and rendered as report.md).</summary>
public sealed record ScenarioReport
{
    /// <summary>Scenario name.</summary>
    public required string Name { get; init; }

    /// <summary>The scenario file.</summary>
    public required string File { get; init; }

    /// <summary>inProcess or daemons.</summary>
    public required string Mode { get; init; }

    /// <summary>Whether the short (CI) form ran.</summary>
    public bool Short { get; init; }

    /// <summary>The verdict.</summary>
    public bool Passed { get; init; }

    /// <summary>Robots.</summary>
    public int Robots { get; init; }

    /// <summary>Scenario time covered.</summary>
    public double SimulatedSeconds { get; init; }

    /// <summary>Wall time taken.</summary>
    public double WallSeconds { get; init; }

    /// <summary>Simulated / wall.</summary>
    public double SpeedFactor { get; init; }

    /// <summary>World steps, each with every invariant checked.</summary>
    public long WorldSteps { get; init; }

    /// <summary>Site steps dispatched.</summary>
    public long SiteSteps { get; init; }

    /// <summary>Tasks finished.</summary>
    public long TasksFinished { get; init; }

    /// <summary>Invariant violations counted.</summary>
    public long Violations { get; init; }

    /// <summary>The first violation with its context.</summary>
    public ViolationRecord? FirstViolation { get; init; }

    /// <summary>Each expectation's verdict.</summary>
    public IReadOnlyList<CheckResult> Checks { get; init; } = [];

    /// <summary>Faults as applied.</summary>
    public IReadOnlyList<AppliedFault> Faults { get; init; } = [];

    /// <summary>Decision-mode changes per robot id.</summary>
    public IReadOnlyDictionary<string, long> ModeChanges { get; init; } = new Dictionary<string, long>();

    /// <summary>Rig tick wall time p50 / p99 / max, milliseconds.</summary>
    public double[] TickMs { get; init; } = [];

    /// <summary>Telemetry at the broker (daemon mode).</summary>
    public TelemetryRecord? Telemetry { get; init; }

    /// <summary>Files written beside the report.</summary>
    public IReadOnlyList<string> Artifacts { get; init; } = [];

    /// <summary>Notes (what could not be measured and why).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The JSON form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a report.json back.</summary>
    public static ScenarioReport FromJson(string json) => JsonSerializer.Deserialize<ScenarioReport>(json, Json)
        ?? throw new JsonException("the report is empty");

    /// <summary>The Markdown form, for people.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"# Scenario {Name}: {(Passed ? "PASSED" : "FAILED")}");
        md.AppendLine();
        md.AppendLine(c, $"`{File}` ({Mode}{(Short ? ", short form" : string.Empty)}): {Robots} robots, {SimulatedSeconds:F1} s simulated in {WallSeconds:F1} s wall ({SpeedFactor:F2}x), {WorldSteps} world steps checked, {SiteSteps} site steps, {TasksFinished} tasks finished, {Violations} invariant violations.");
        md.AppendLine();
        md.AppendLine("| check | result | detail |");
        md.AppendLine("|---|---|---|");
        foreach (var check in Checks)
        {
            md.AppendLine(c, $"| {check.Name} | {(check.Passed ? "pass" : "**FAIL**")} | {check.Detail.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }

        if (FirstViolation is { } v)
        {
            md.AppendLine();
            md.AppendLine(c, $"First violation: **{v.Kind}** at t = {v.TimeSeconds:F3} s (world step {v.Step}), involving {string.Join(", ", v.Involved)}, cells {string.Join(", ", v.Cells)}: {v.Message}");
        }

        if (Faults.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("| fault | kind | from s | to s | robots |");
            md.AppendLine("|---|---|---:|---:|---|");
            foreach (var f in Faults)
            {
                md.AppendLine(c, $"| {f.Id} | {f.Kind} | {f.StartedAtSeconds:F2} | {(f.EndedAtSeconds is { } e ? e.ToString("F2", c) : "-")} | {(f.Robots.Count > 6 ? $"{f.Robots.Count} robots" : string.Join(", ", f.Robots))} |");
            }
        }

        if (Telemetry is { } t)
        {
            md.AppendLine();
            md.AppendLine(c, $"Telemetry at the broker: {t.Messages} messages, {t.MissingSeq} missing sequence numbers, {t.Duplicates} duplicates, longest sample gap {t.LongestGapSeconds:F2} s{(t.CloudReceived is { } r ? $", {r} routed by the cloud" : string.Empty)}.");
        }

        if (TickMs.Length == 3)
        {
            md.AppendLine();
            md.AppendLine(c, $"Rig tick wall time: p50 {TickMs[0]:F3} ms, p99 {TickMs[1]:F3} ms, max {TickMs[2]:F3} ms.");
        }

        foreach (var note in Notes)
        {
            md.AppendLine();
            md.AppendLine("Note: " + note);
        }

        if (Artifacts.Any(a => a.EndsWith(".png", StringComparison.Ordinal)))
        {
            md.AppendLine();
            foreach (var png in Artifacts.Where(a => a.EndsWith(".png", StringComparison.Ordinal)))
            {
                md.AppendLine(c, $"![{Path.GetFileNameWithoutExtension(png)}]({png})");
            }
        }

        return md.ToString();
    }
}
