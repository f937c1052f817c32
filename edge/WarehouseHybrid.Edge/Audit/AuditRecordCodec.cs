using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WarehouseHybrid.Edge.Control;

namespace WarehouseHybrid.Edge.Audit;

/// <summary>Which old file an <see cref="AuditKinds.Pruned"/> record accounts for.</summary>
/// <param name="File">The deleted file's name.</param>
/// <param name="LastSeq">Sequence number of its last record.</param>
/// <param name="LastHash">Hash of its last record (what the next surviving record's <c>prev</c> names).</param>
public sealed record AuditPruned(string File, long LastSeq, string LastHash);

/// <summary>One committed audit record as written to disk (one JSON line) and as given to <see cref="IAuditListener"/>s.</summary>
/// <param name="Seq">Sequence number: 0 for the first record ever, then +1 across files and restarts.</param>
/// <param name="Time">When the entry was made.</param>
/// <param name="Robot">The robot.</param>
/// <param name="Kind">What happened.</param>
/// <param name="TraceId">Trace id (empty when none).</param>
/// <param name="ModelVersion">Model version (empty when none).</param>
/// <param name="InputDigest">"sha256:..." of the decision's input features (empty when none).</param>
/// <param name="Decision">The decision's output (null when the record is not a decision).</param>
/// <param name="Reason">Short reason (empty when none).</param>
/// <param name="Detail">Human-readable detail.</param>
/// <param name="Prev">Hash of the previous record (64 zeros before the first).</param>
/// <param name="Hash">SHA-256 (hex) over this line's bytes up to its "hash" field.</param>
/// <param name="Pruned">For <see cref="AuditKinds.Pruned"/> records, the file deleted.</param>
public sealed record AuditRecord(
    long Seq, DateTimeOffset Time, string Robot, string Kind, string TraceId, string ModelVersion, string InputDigest,
    AuditDecision? Decision, string Reason, string Detail, string Prev, string Hash, AuditPruned? Pruned)
{
    /// <summary>The line as written (UTF-8 JSON, without the newline).</summary>
    public string Json { get; init; } = string.Empty;
}

/// <summary>
/// The audit file format, one JSON object per line: <c>{"seq":..,"time":..,"robot":..,"kind":..,"trace":..,"model":..,
/// "input":..,"output":..,"reason":..,"detail":..,"prev":"&lt;hex&gt;","hash":"&lt;hex&gt;"}</c>. <c>hash</c> is SHA-256 over the
/// exact bytes of the line before <c>,"hash":</c> (so it covers <c>prev</c>, which chains each record to the one before);
/// the verifier hashes the bytes as they are, nothing is re-serialised. The one codec for the writer and the verifier.
/// </summary>
public static class AuditRecordCodec
{
    /// <summary>The <c>prev</c> of the very first record.</summary>
    public static readonly string GenesisHash = new('0', 64);

    private const int HashHexLength = 64;
    private static readonly byte[] HashFieldStart = ",\"hash\":\""u8.ToArray();
    private static readonly byte[] HashFieldEnd = "\"}"u8.ToArray();

    /// <summary>Bytes after the prefix: <c>,"hash":"</c>, 64 hex digits, <c>"}</c>.</summary>
    public static int SuffixLength => HashFieldStart.Length + HashHexLength + HashFieldEnd.Length;

    /// <summary>
    /// Writes one record (with its trailing newline) into <paramref name="output"/> and returns its hash.
    /// <paramref name="json"/> is reset onto <paramref name="output"/>; both are reused by the writer thread.
    /// </summary>
    public static string Encode(ArrayBufferWriter<byte> output, Utf8JsonWriter json, long seq, string robot, in AuditEntry entry, string prev, AuditPruned? pruned = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(json);
        var start = output.WrittenCount;
        json.Reset(output);
        json.WriteStartObject();
        json.WriteNumber("seq", seq);
        json.WriteString("time", DateTimeOffset.FromUnixTimeMilliseconds(entry.UnixMs));
        json.WriteString("robot", robot);
        json.WriteString("kind", entry.Kind);
        json.WriteString("trace", entry.TraceId ?? string.Empty);
        json.WriteString("model", entry.ModelVersion ?? string.Empty);
        if (entry.HasInput)
        {
            Span<char> hex = stackalloc char[7 + (2 * Sha256Digest.Length)];
            "sha256:".CopyTo(hex);
            Convert.TryToHexStringLower(entry.Input, hex[7..], out _);
            json.WriteString("input", hex);
        }
        else
        {
            json.WriteString("input", string.Empty);
        }

        if (entry.HasDecision)
        {
            var d = entry.Decision;
            json.WriteStartObject("output");
            json.WriteString("mode", d.Mode.ToString());
            json.WriteNumber("linearMps", Math.Round(d.LinearMps, 4));
            json.WriteNumber("angularRadps", Math.Round(d.AngularRadps, 4));
            json.WriteBoolean("brake", d.Brake);
            if (float.IsFinite(d.Confidence))
            {
                json.WriteNumber("confidence", Math.Round(d.Confidence, 4));
            }
            else
            {
                json.WriteNull("confidence");
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("output");
        }

        json.WriteString("reason", entry.Reason ?? (entry.HasDecision ? entry.Decision.Reason.ToText() : string.Empty));
        json.WriteString("detail", entry.Detail ?? string.Empty);
        if (pruned is not null)
        {
            json.WriteStartObject("pruned");
            json.WriteString("file", pruned.File);
            json.WriteNumber("lastSeq", pruned.LastSeq);
            json.WriteString("lastHash", pruned.LastHash);
            json.WriteEndObject();
        }

        json.WriteString("prev", prev);
        json.Flush();

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(output.WrittenSpan[start..], hash);
        var hex64 = Convert.ToHexStringLower(hash);
        Append(output, HashFieldStart);
        var dest = output.GetSpan(HashHexLength);
        Encoding.ASCII.GetBytes(hex64, dest);
        output.Advance(HashHexLength);
        Append(output, HashFieldEnd);
        Append(output, "\n"u8);
        return hex64;
    }

    /// <summary>
    /// Whether <paramref name="line"/> (without its newline) ends like a complete record (the hash field closed the
    /// object). The verifier uses it to tell a crash-torn tail (never complete) from an altered terminator.
    /// </summary>
    public static bool LooksComplete(ReadOnlySpan<byte> line)
    {
        if (line.Length <= SuffixLength || !line.EndsWith(HashFieldEnd))
        {
            return false;
        }

        var field = line[^SuffixLength..];
        return field.StartsWith(HashFieldStart) && IsLowerHex(field.Slice(HashFieldStart.Length, HashHexLength));
    }

    /// <summary>
    /// Whether <paramref name="bytes"/> contain a closed hash field anywhere: a crash can only leave a strict prefix of a
    /// record behind, so an unterminated tail that contains one is a complete record whose newline was altered.
    /// </summary>
    public static bool ContainsRecordEnd(ReadOnlySpan<byte> bytes)
    {
        var from = 0;
        while (true)
        {
            var i = bytes[from..].IndexOf(HashFieldStart);
            if (i < 0)
            {
                return false;
            }

            var at = from + i;
            if (bytes.Length >= at + SuffixLength
                && IsLowerHex(bytes.Slice(at + HashFieldStart.Length, HashHexLength))
                && bytes.Slice(at + HashFieldStart.Length + HashHexLength, HashFieldEnd.Length).SequenceEqual(HashFieldEnd))
            {
                return true;
            }

            from = at + 1;
        }
    }

    /// <summary>
    /// Checks and parses one line (without its newline): the hash must match the bytes and the fields must be those of a
    /// record. False with <paramref name="error"/> saying what is wrong; never throws for bad input.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out AuditRecord? record, out string error)
    {
        record = null;
        if (!LooksComplete(line))
        {
            error = "not a complete audit record (no closing \"hash\" field)";
            return false;
        }

        var prefix = line[..^SuffixLength];
        var declared = Encoding.ASCII.GetString(line.Slice(line.Length - SuffixLength + HashFieldStart.Length, HashHexLength));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(prefix, hash);
        var actual = Convert.ToHexStringLower(hash);
        if (!string.Equals(actual, declared, StringComparison.Ordinal))
        {
            error = $"hash mismatch: the record's bytes hash to {actual[..12]}..., the record says {declared[..12]}... (content altered)";
            return false;
        }

        var body = new byte[prefix.Length + 1];
        prefix.CopyTo(body);
        body[^1] = (byte)'}';
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            AuditDecision? decision = null;
            if (root.GetProperty("output") is { ValueKind: JsonValueKind.Object } o)
            {
                var confidence = o.GetProperty("confidence");
                decision = new AuditDecision(
                    Enum.Parse<DecisionMode>(o.GetProperty("mode").GetString()!),
                    DecisionReasonText.Parse(root.GetProperty("reason").GetString()),
                    o.GetProperty("linearMps").GetSingle(),
                    o.GetProperty("angularRadps").GetSingle(),
                    o.GetProperty("brake").GetBoolean(),
                    confidence.ValueKind == JsonValueKind.Null ? float.NaN : confidence.GetSingle());
            }

            AuditPruned? pruned = null;
            if (root.TryGetProperty("pruned", out var p))
            {
                pruned = new AuditPruned(p.GetProperty("file").GetString()!, p.GetProperty("lastSeq").GetInt64(), p.GetProperty("lastHash").GetString()!);
            }

            var prev = root.GetProperty("prev").GetString()!;
            if (prev.Length != HashHexLength || !IsLowerHex(Encoding.ASCII.GetBytes(prev)))
            {
                error = $"field prev '{prev}' is not a 64-digit hash";
                return false;
            }

            record = new AuditRecord(
                root.GetProperty("seq").GetInt64(),
                root.GetProperty("time").GetDateTimeOffset(),
                root.GetProperty("robot").GetString()!,
                root.GetProperty("kind").GetString()!,
                root.GetProperty("trace").GetString()!,
                root.GetProperty("model").GetString()!,
                root.GetProperty("input").GetString()!,
                decision,
                root.GetProperty("reason").GetString()!,
                root.GetProperty("detail").GetString()!,
                prev,
                declared,
                pruned)
            {
                Json = Encoding.UTF8.GetString(line),
            };
            error = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            error = $"the record's fields do not parse: {ex.Message}";
            return false;
        }
    }

    /// <summary>The file name of audit file number <paramref name="index"/>.</summary>
    public static string FileName(long index) => string.Create(CultureInfo.InvariantCulture, $"audit-{index:D8}.jsonl");

    /// <summary>The number in an audit file name, or -1 when the name is not one.</summary>
    public static long FileIndex(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return fileName.StartsWith("audit-", StringComparison.Ordinal) && fileName.EndsWith(".jsonl", StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(6, fileName.Length - 12), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : -1;
    }

    /// <summary>The audit files in <paramref name="directory"/>, oldest first.</summary>
    public static IReadOnlyList<(long Index, string Path)> Files(string directory) =>
        System.IO.Directory.EnumerateFiles(directory, "audit-*.jsonl")
            .Select(p => (Index: FileIndex(Path.GetFileName(p)), Path: p))
            .Where(f => f.Index >= 0)
            .OrderBy(f => f.Index)
            .ToArray();

    private static void Append(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private static bool IsLowerHex(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if (b is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f')))
            {
                return false;
            }
        }

        return true;
    }
}
