using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;

namespace WarehouseHybrid.Cloud.Observability;

/// <summary>
/// The cloud's OpenTelemetry instruments (meter <see cref="MeterName"/>), exported on <c>/metrics</c> in Prometheus
/// form. Tags are low-cardinality on purpose (site, model version, mode, reason, outcome): per-robot detail is the
/// dashboard's job, never a metric label. Names follow OpenTelemetry conventions; the Prometheus exporter turns
/// <c>wh.site.plan.duration</c> (ms) into <c>wh_site_plan_duration_milliseconds</c> and counters into <c>..._total</c>.
/// </summary>
public sealed class CloudMetrics
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "WarehouseHybrid.Cloud";

    private readonly Histogram<double> _planDuration;
    private readonly Counter<long> _steps;
    private readonly Counter<long> _tasksFinished;
    private readonly Counter<long> _plannerFallbacks;
    private readonly Counter<long> _plansPublished;
    private readonly Counter<long> _telemetry;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _driftSamples;
    private readonly Counter<long> _escalations;
    private readonly Histogram<double> _escalationDuration;
    private readonly Counter<long> _rolloutTransitions;
    private readonly Counter<long> _deployments;

    /// <summary>Creates the instruments on a meter of <paramref name="meterFactory"/>.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    /// <param name="services">Used lazily to read the MQTT bridge's rejection counters, when the host has a bridge.</param>
    public CloudMetrics(IMeterFactory meterFactory, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _planDuration = meter.CreateHistogram<double>("wh.site.plan.duration", "ms", "Time the optimizer took for one site step",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000] });
        _steps = meter.CreateCounter<long>("wh.site.steps", "{step}", "Site steps planned and dispatched");
        _tasksFinished = meter.CreateCounter<long>("wh.site.tasks.finished", "{task}", "Tasks the optimizer reports finished");
        _plannerFallbacks = meter.CreateCounter<long>("wh.site.planner.fallbacks", "{step}", "Steps where the optimizer used its fallback");
        _plansPublished = meter.CreateCounter<long>("wh.site.plans.published", "{segment}", "Plan segments handed to the command publisher");
        _telemetry = meter.CreateCounter<long>("wh.robot.telemetry", "{record}", "Telemetry records accepted by robot grains");
        _decisions = meter.CreateCounter<long>("wh.robot.decisions", "{record}", "Telemetry records by the edge's decision mode and fallback reason (fallback rate = rule + shield over all)");
        _driftSamples = meter.CreateCounter<long>("wh.robot.drift", "{record}", "Telemetry records whose edge reports input drift, by model version");
        _escalations = meter.CreateCounter<long>("wh.escalation.answers", "{request}", "Escalation requests by outcome and cloud model version");
        _escalationDuration = meter.CreateHistogram<double>("wh.escalation.duration", "ms", "Time the cloud model took to answer an escalation",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100] });
        _rolloutTransitions = meter.CreateCounter<long>("wh.rollout.transitions", "{transition}", "Model rollout state changes by new state");
        _deployments = meter.CreateCounter<long>("wh.rollout.deployments", "{message}", "Model deployment messages sent to robots");
        meter.CreateObservableCounter("wh.mqtt.rejected", () => Rejections(services), "{message}", "Inbound MQTT messages the bridge dropped, by reason");
    }

    /// <summary>One planned step of a site.</summary>
    public void StepPlanned(string siteId, TimeSpan elapsed, int tasksFinished, bool usedFallback, int segments)
    {
        var site = new KeyValuePair<string, object?>("site", siteId);
        _planDuration.Record(elapsed.TotalMilliseconds, site);
        _steps.Add(1, site);
        if (tasksFinished > 0)
        {
            _tasksFinished.Add(tasksFinished, site);
        }

        if (usedFallback)
        {
            _plannerFallbacks.Add(1, site);
        }

        if (segments > 0)
        {
            _plansPublished.Add(segments, site);
        }
    }

    /// <summary>One telemetry record accepted by a robot grain.</summary>
    public void TelemetryAccepted(TelemetryReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var version = new KeyValuePair<string, object?>("model_version", report.ModelVersion.Length == 0 ? "none" : report.ModelVersion);
        _telemetry.Add(1, new KeyValuePair<string, object?>("site", report.SiteId), version);
        _decisions.Add(1, version, new("mode", ModeName(report.DecisionMode)), new("fallback_reason", report.FallbackReason.Length == 0 ? "none" : report.FallbackReason));
        if (report.ModelHealth?.Drifting == true || report.FallbackReason == DriftReason)
        {
            _driftSamples.Add(1, version);
        }
    }

    /// <summary>An escalation answered (or not) by the cloud model.</summary>
    public void EscalationAnswered(string modelVersion, string outcome, TimeSpan elapsed)
    {
        var version = new KeyValuePair<string, object?>("model_version", modelVersion);
        _escalations.Add(1, version, new("outcome", outcome));
        _escalationDuration.Record(elapsed.TotalMilliseconds, version);
    }

    /// <summary>A rollout entered <paramref name="state"/>.</summary>
    public void RolloutTransition(string state) => _rolloutTransitions.Add(1, new KeyValuePair<string, object?>("state", state));

    /// <summary>Model deployment messages sent.</summary>
    public void DeploymentsSent(int count, string kind) => _deployments.Add(count, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>The fallback reason text the edge reports while its inputs drift (edge DecisionReason.InputDrift).</summary>
    public const string DriftReason = "input-drift";

    /// <summary>The Prometheus label value of a protobuf DecisionMode number.</summary>
    public static string ModeName(int decisionMode) => decisionMode switch
    {
        1 => "learned",
        2 => "rule",
        3 => "shield_stop",
        4 => "escalated",
        _ => "unknown",
    };

    private static IEnumerable<Measurement<long>> Rejections(IServiceProvider services)
    {
        if (services.GetService<MqttBridge>() is not { } bridge)
        {
            return [];
        }

        return bridge.Stats.Rejected.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("reason", kv.Key.ToString())));
    }
}
