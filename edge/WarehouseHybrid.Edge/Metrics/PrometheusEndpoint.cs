using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace WarehouseHybrid.Edge.Metrics;

/// <summary>
/// Settings of the metrics endpoint (configuration section <c>Daemon:Metrics</c>). Off by default; when on, it serves
/// Prometheus text on a loopback address only: a robot's computer is not a server, so a local agent (an OpenTelemetry
/// collector, a Prometheus agent) scrapes it and forwards, and nothing else on the site network can reach it.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>Whether to serve metrics at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Loopback host to listen on: 127.0.0.1 (any 127.x address), ::1 or localhost.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port (the OpenTelemetry Prometheus exporter's usual 9464).</summary>
    public int Port { get; set; } = 9464;

    /// <summary>The scrape path.</summary>
    public string Path { get; set; } = "/metrics";

    /// <summary>Errors, each naming the option and the value; empty when valid (checked even when disabled, so a bad value never waits).</summary>
    public IReadOnlyList<string> Validate(string section = "Daemon:Metrics")
    {
        var errors = new List<string>();
        if (!IsLoopback(Host))
        {
            errors.Add($"{section}:Host: '{Host}' is not a loopback address; metrics are served on 127.0.0.1, ::1 or localhost only (scrape through a local agent)");
        }

        if (Port < 1 || Port > 65535)
        {
            errors.Add($"{section}:Port: {Port} must be in [1, 65535]");
        }

        if (string.IsNullOrEmpty(Path) || Path[0] != '/' || Path.IndexOfAny(['?', '#', ' ']) >= 0)
        {
            errors.Add($"{section}:Path: '{Path}' must start with '/' and hold no query (e.g. /metrics)");
        }

        return errors;
    }

    /// <summary>The scrape URL.</summary>
    public Uri Url() => new UriBuilder(Uri.UriSchemeHttp, Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host, Port, Path).Uri;

    private static bool IsLoopback(string? host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}

/// <summary>
/// The OpenTelemetry meter provider that reads <see cref="EdgeMetrics.MeterName"/> and serves it in the Prometheus
/// text format over HttpListener at <see cref="MetricsOptions.Url"/>.
/// </summary>
public sealed class PrometheusEndpoint : IDisposable
{
    private readonly MeterProvider _provider;

    /// <summary>Starts listening; throws <see cref="ArgumentException"/> naming the option when it is invalid.</summary>
    public PrometheusEndpoint(MetricsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid metrics options: " + string.Join("; ", errors), nameof(options));
        }

        Url = options.Url();
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(EdgeMetrics.MeterName)
            .AddPrometheusHttpListener(o =>
            {
                o.Host = options.Host;
                o.Port = options.Port;
                o.ScrapeEndpointPath = options.Path;
            })
            .Build();
    }

    /// <summary>Where the metrics are served.</summary>
    public Uri Url { get; }

    /// <inheritdoc />
    public void Dispose() => _provider.Dispose();
}
