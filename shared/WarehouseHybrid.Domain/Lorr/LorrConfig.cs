using System.Text.Json;
using WarehouseHybrid.Domain.Errors;

namespace WarehouseHybrid.Domain.Lorr;

/// <summary>
/// A LoRR instance <c>.json</c> config as written, before the files it names are read.
/// Paths are as in the file (relative to the JSON's folder).
/// </summary>
public sealed record LorrConfig
{
    /// <summary>Where the config came from (path or source name).</summary>
    public required string SourceName { get; init; }

    /// <summary>The format generation, from <c>version</c> (absent: 2023).</summary>
    public required LorrGeneration Generation { get; init; }

    /// <summary>The raw <c>version</c> value, null for 2023 files.</summary>
    public string? Version { get; init; }

    /// <summary><c>mapFile</c>, relative to the JSON.</summary>
    public required string MapFile { get; init; }

    /// <summary><c>agentFile</c>, relative to the JSON.</summary>
    public required string AgentFile { get; init; }

    /// <summary><c>taskFile</c>, relative to the JSON.</summary>
    public required string TaskFile { get; init; }

    /// <summary><c>teamSize</c>: the number of robots (the first entries of the agents file).</summary>
    public required int TeamSize { get; init; }

    /// <summary><c>numTasksReveal</c>: 2024+: open tasks = this x teamSize; 2023: tasks seen per robot.</summary>
    public required double NumTasksReveal { get; init; }

    /// <summary>2023 <c>taskAssignmentStrategy</c> (e.g. "roundrobin"); null when absent.</summary>
    public string? TaskAssignmentStrategy { get; init; }

    /// <summary>
    /// Execution ticks per forward/rotate action: <c>agentCounter</c> (2026 default 10); 1 for
    /// generations without it.
    /// </summary>
    public required int AgentCounter { get; init; }

    /// <summary><c>agentSize</c>: robot safety square edge in cells (default 1.0).</summary>
    public required double AgentSize { get; init; }

    /// <summary>The 2026 <c>delayConfig</c>, or null when the file has none.</summary>
    public LorrDelayConfig? DelayConfig { get; init; }

    /// <summary>The 1-based line of a key in the JSON (or of the object end when absent), for messages.</summary>
    internal JsonLineIndex? Lines { get; init; }

    /// <summary>Loads and checks a config file.</summary>
    public static LorrConfig Load(string jsonPath) => Parse(File.ReadAllBytes(jsonPath), jsonPath);

    /// <summary>Parses and checks a config held in a string.</summary>
    public static LorrConfig ParseText(string json, string sourceName) =>
        Parse(System.Text.Encoding.UTF8.GetBytes(json), sourceName);

    /// <summary>Parses and checks a config given as UTF-8 bytes (a leading BOM is allowed).</summary>
    public static LorrConfig Parse(ReadOnlySpan<byte> utf8, string sourceName)
    {
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        var memory = utf8.ToArray();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(memory);
        }
        catch (JsonException ex)
        {
            var line = (int)(ex.LineNumber ?? 0) + 1;
            var column = ex.BytePositionInLine is { } b ? (int)b + 1 : (int?)null;
            throw new DomainFormatException(sourceName, line, column, "invalid JSON: " + FirstSentence(ex.Message), ex);
        }

        using (doc)
        {
            var lines = new JsonLineIndex(memory);
            var reader = new ConfigValues(doc.RootElement, lines, sourceName, string.Empty);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DomainFormatException(sourceName, 1, $"the config must be a JSON object, found {doc.RootElement.ValueKind}");
            }

            var version = reader.OptionalString("version");
            var generation = DetectGeneration(version, lines, sourceName);
            var teamSize = reader.RequiredInt("teamSize");
            if (teamSize <= 0)
            {
                throw reader.Error("teamSize", $"teamSize must be positive, got {teamSize}");
            }

            var reveal = reader.RequiredDouble("numTasksReveal");
            if (!(reveal > 0) || double.IsInfinity(reveal))
            {
                throw reader.Error("numTasksReveal", $"numTasksReveal must be a positive number, got {reveal}");
            }

            var agentCounter = reader.OptionalInt("agentCounter") ?? (generation == LorrGeneration.Lorr2026 ? 10 : 1);
            if (agentCounter <= 0)
            {
                throw reader.Error("agentCounter", $"agentCounter must be positive, got {agentCounter}");
            }

            var agentSize = reader.OptionalDouble("agentSize") ?? 1.0;
            if (!(agentSize > 0) || double.IsInfinity(agentSize))
            {
                throw reader.Error("agentSize", $"agentSize must be positive, got {agentSize}");
            }

            return new LorrConfig
            {
                SourceName = sourceName,
                Generation = generation,
                Version = version,
                MapFile = reader.RequiredPath("mapFile"),
                AgentFile = reader.RequiredPath("agentFile"),
                TaskFile = reader.RequiredPath("taskFile"),
                TeamSize = teamSize,
                NumTasksReveal = reveal,
                TaskAssignmentStrategy = reader.OptionalString("taskAssignmentStrategy"),
                AgentCounter = agentCounter,
                AgentSize = agentSize,
                DelayConfig = reader.OptionalObject("delayConfig") is { } delay ? ReadDelay(delay) : null,
                Lines = lines,
            };
        }
    }

    /// <summary>The line of a key in the source JSON (1 when unknown).</summary>
    public int LineOf(string key) => Lines?.LineOf(key) ?? 1;

    private static LorrGeneration DetectGeneration(string? version, JsonLineIndex lines, string source)
    {
        if (version is null)
        {
            return LorrGeneration.Lorr2023;
        }

        var v = version.Trim();
        if (v.StartsWith("2024", StringComparison.Ordinal))
        {
            return LorrGeneration.Lorr2024;
        }

        if (v.StartsWith("2026", StringComparison.Ordinal))
        {
            return LorrGeneration.Lorr2026;
        }

        throw new DomainFormatException(source, lines.LineOf("version"), $"unknown version '{version}', expected \"2024 LoRR\" or \"2026 LoRR\" (or no version for 2023)");
    }

    private static LorrDelayConfig ReadDelay(ConfigValues d)
    {
        var min = d.RequiredInt("minDelay");
        var max = d.RequiredInt("maxDelay");
        if (min < 0 || max < min)
        {
            throw d.Error("maxDelay", $"delay range must satisfy 0 <= minDelay <= maxDelay, got {min}..{max}");
        }

        var eventModel = d.RequiredString("eventModel") switch
        {
            "bernoulli" => DelayEventModel.Bernoulli,
            "poisson" => DelayEventModel.Poisson,
            var other => throw d.Error("eventModel", $"eventModel must be \"bernoulli\" or \"poisson\", got \"{other}\""),
        };
        var durationModel = d.RequiredString("durationModel") switch
        {
            "uniform" => DelayDurationModel.Uniform,
            "gaussian" => DelayDurationModel.Gaussian,
            var other => throw d.Error("durationModel", $"durationModel must be \"uniform\" or \"gaussian\", got \"{other}\""),
        };
        var p = d.RequiredDouble("pDelay");
        if (!(p >= 0 && p <= 1))
        {
            throw d.Error("pDelay", $"pDelay must be in [0, 1], got {p}");
        }

        var mean = d.RequiredDouble("gaussMeanRatio");
        var std = d.RequiredDouble("gaussStdRatio");
        if (!(std >= 0) || double.IsInfinity(std) || double.IsNaN(mean) || double.IsInfinity(mean))
        {
            throw d.Error("gaussStdRatio", $"gaussian ratios must be finite with gaussStdRatio >= 0, got mean {mean}, std {std}");
        }

        return new LorrDelayConfig(d.RequiredLong("seed"), min, max, eventModel, p, durationModel, mean, std);
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>Typed access to one JSON object's keys with located errors.</summary>
    private sealed class ConfigValues(JsonElement obj, JsonLineIndex lines, string source, string prefix)
    {
        public DomainFormatException Error(string key, string detail) =>
            new(source, lines.LineOf(prefix + key), detail);

        public string RequiredString(string key) => OptionalString(key) ?? throw Missing(key);

        public string RequiredPath(string key)
        {
            var value = RequiredString(key);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw Error(key, $"{Name(key)} must name a file, got an empty string");
            }

            return value;
        }

        public string? OptionalString(string key)
        {
            if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : throw Error(key, $"{Name(key)} must be a string, got {Describe(v)}");
        }

        public int RequiredInt(string key) => OptionalInt(key) ?? throw Missing(key);

        public int? OptionalInt(string key)
        {
            if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)
                ? i
                : throw Error(key, $"{Name(key)} must be an integer, got {Describe(v)}");
        }

        public long RequiredLong(string key)
        {
            if (!obj.TryGetProperty(key, out var v))
            {
                throw Missing(key);
            }

            return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var i)
                ? i
                : throw Error(key, $"{Name(key)} must be an integer, got {Describe(v)}");
        }

        public double RequiredDouble(string key) => OptionalDouble(key) ?? throw Missing(key);

        public double? OptionalDouble(string key)
        {
            if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)
                ? d
                : throw Error(key, $"{Name(key)} must be a number, got {Describe(v)}");
        }

        public ConfigValues? OptionalObject(string key)
        {
            if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.Object
                ? new ConfigValues(v, lines, source, prefix + key + ".")
                : throw Error(key, $"{Name(key)} must be an object, got {Describe(v)}");
        }

        private DomainFormatException Missing(string key) =>
            new(source, lines.LineOf(prefix + key), $"missing required key \"{Name(key)}\"");

        private string Name(string key) => prefix + key;

        private static string Describe(JsonElement v)
        {
            var raw = v.GetRawText();
            return $"{v.ValueKind.ToString().ToLowerInvariant()} {(raw.Length > 40 ? raw[..40] + "..." : raw)}";
        }
    }
}
