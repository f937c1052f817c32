using System.Globalization;
using System.Text.RegularExpressions;

namespace WarehouseHybrid.Cloud.Tests.Observability;

/// <summary>One sample of the Prometheus text exposition format.</summary>
internal sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict reader of the Prometheus text format (version 0.0.4) as scraped from /metrics: every line must be a
/// comment (# HELP / # TYPE / other) or a sample <c>name{label="value",...} number [timestamp]</c>; anything else fails.
/// </summary>
internal static partial class PrometheusText
{
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+-?\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<k>[a-zA-Z_][a-zA-Z0-9_]*)="(?<v>(\\.|[^"\\])*)",?""")]
    private static partial Regex Label();

    public static (IReadOnlyList<PromSample> Samples, IReadOnlyDictionary<string, string> Types) Parse(string text)
    {
        var samples = new List<PromSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4 && parts[1] == "TYPE")
                {
                    types[parts[2]] = parts[3];
                }

                continue;
            }

            var m = SampleLine().Match(line);
            if (!m.Success)
            {
                throw new FormatException($"line {lineNo} is not a Prometheus sample: '{line}'");
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (m.Groups["labels"].Success && m.Groups["labels"].Value.Length > 0)
            {
                var rest = m.Groups["labels"].Value;
                var matched = 0;
                foreach (Match l in Label().Matches(rest))
                {
                    labels[l.Groups["k"].Value] = l.Groups["v"].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
                    matched += l.Length;
                }

                if (matched != rest.Length)
                {
                    throw new FormatException($"line {lineNo}: malformed labels '{rest}'");
                }
            }

            var valueText = m.Groups["value"].Value;
            var value = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PromSample(m.Groups["name"].Value, labels, value));
        }

        return (samples, types);
    }
}
