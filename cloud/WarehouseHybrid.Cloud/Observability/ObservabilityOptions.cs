namespace WarehouseHybrid.Cloud.Observability;

/// <summary>Traces, metrics and logs of the silo (configuration section <c>Cloud:Observability</c>).</summary>
public sealed class ObservabilityOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cloud:Observability";

    /// <summary>Path of the Prometheus scraping endpoint.</summary>
    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>An OTLP collector (e.g. <c>http://127.0.0.1:4317</c>) that gets traces and logs; none when empty.</summary>
    public string OtlpEndpoint { get; set; } = string.Empty;

    /// <summary>
    /// Records spans even without an OTLP collector (for an in-process exporter, e.g. tests). Without either, no span
    /// is created, but trace ids still flow from telemetry to plans.
    /// </summary>
    public bool RecordTraces { get; set; }

    /// <summary>Share of new traces recorded (0..1); a trace whose edge parent is sampled is always recorded.</summary>
    public double TraceSampleRatio { get; set; } = 1.0;

    /// <summary>Null when valid, else what is wrong (naming the setting).</summary>
    public string? Check()
    {
        if (!MetricsPath.StartsWith('/'))
        {
            return $"Observability.MetricsPath '{MetricsPath}' must start with '/'";
        }

        if (OtlpEndpoint.Length > 0 && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
        {
            return $"Observability.OtlpEndpoint '{OtlpEndpoint}' is not an absolute URI";
        }

        return TraceSampleRatio is < 0 or > 1 or double.NaN ? $"Observability.TraceSampleRatio must be 0..1, got {TraceSampleRatio}" : null;
    }
}
