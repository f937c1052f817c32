using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using WarehouseHybrid.Cloud.Hosting;

namespace WarehouseHybrid.Cloud.Observability;

/// <summary>Puts OpenTelemetry into the silo: the cloud's spans and instruments, Prometheus on /metrics, logs with trace ids.</summary>
public static class ObservabilityHosting
{
    /// <summary>
    /// Registers <see cref="CloudMetrics"/>, a tracer provider for <see cref="CloudTracing.Source"/> (plus Orleans'
    /// and ASP.NET Core's spans), a meter provider with the Prometheus exporter, and OpenTelemetry logging with
    /// scopes; every log record written inside a span carries its trace and span id. Options come from
    /// <see cref="ObservabilityOptions.Section"/>, validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddWarehouseObservability(this IHostApplicationBuilder builder, Action<ObservabilityOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(ObservabilityMarker)))
        {
            // Added already (AddWarehouseCloud adds it): only apply the caller's changes.
            if (configure is not null)
            {
                builder.Services.PostConfigure(configure);
            }

            return builder;
        }

        builder.Services.AddSingleton<ObservabilityMarker>();
        var options = new ObservabilityOptions();
        builder.Configuration.GetSection(ObservabilityOptions.Section).Bind(options);
        configure?.Invoke(options);
        var services = builder.Services;
        services.AddOptions<ObservabilityOptions>().Configure(o =>
        {
            builder.Configuration.GetSection(ObservabilityOptions.Section).Bind(o);
            configure?.Invoke(o);
        }).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ObservabilityOptions>>(new CheckValidator());
        services.AddCloudInstruments();

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        var otel = services.AddOpenTelemetry()
            .WithTracing(t =>
            {
                t.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSampleRatio)));
                if (options.OtlpEndpoint.Length > 0)
                {
                    t.AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint));
                }
            })
            .WithMetrics(m => m.AddMeter(CloudMetrics.MeterName).AddPrometheusExporter(o => o.ScrapeEndpointPath = options.MetricsPath));
        if (options.OtlpEndpoint.Length > 0)
        {
            otel.WithLogging(l => l.AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint)), o => o.IncludeScopes = true);
        }
        else
        {
            otel.WithLogging(configureBuilder: null, configureOptions: o => o.IncludeScopes = true);
        }

        // Spans cost CPU on the telemetry path: record them only when something takes them. The sources are added
        // after configuration is final, so a later AddWarehouseObservability(o => o.RecordTraces = true) counts.
        services.ConfigureOpenTelemetryTracerProvider((sp, t) =>
        {
            var o = sp.GetRequiredService<IOptions<ObservabilityOptions>>().Value;
            if (o.RecordTraces || o.OtlpEndpoint.Length > 0)
            {
                t.AddSource(CloudTracing.SourceName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.AspNetCore");
            }
        });
        return builder;
    }

    /// <summary>
    /// Registers <see cref="CloudMetrics"/> (grains depend on it); <see cref="CloudHost.AddWarehouseCloud"/> calls this,
    /// so a silo without <see cref="AddWarehouseObservability"/> still runs, its instruments simply unobserved.
    /// </summary>
    public static IServiceCollection AddCloudInstruments(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<CloudMetrics>();
        return services;
    }

    /// <summary>Maps the Prometheus scraping endpoint (<see cref="ObservabilityOptions.MetricsPath"/>, read-only).</summary>
    public static IEndpointConventionBuilder MapWarehouseMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<ObservabilityOptions>>().Value.MetricsPath;
        return endpoints.MapPrometheusScrapingEndpoint(path);
    }

    private sealed class ObservabilityMarker;

    private sealed class CheckValidator : IValidateOptions<ObservabilityOptions>
    {
        public ValidateOptionsResult Validate(string? name, ObservabilityOptions options) =>
            options.Check() is { } failure ? ValidateOptionsResult.Fail("Cloud." + failure) : ValidateOptionsResult.Success;
    }
}
