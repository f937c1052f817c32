using System.Diagnostics.Metrics;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Metrics;

/// <summary>The parts of one runtime the observable instruments read at collection time (null parts are skipped).</summary>
/// <param name="Loop">The control loop.</param>
/// <param name="Board">The serial link.</param>
/// <param name="Assurance">The decision module (null without a model manager).</param>
/// <param name="Models">The model manager (null without one).</param>
/// <param name="Audit">The audit log (null when auditing is off).</param>
/// <param name="RobotId">The robot, a label of the info metric.</param>
/// <param name="SiteId">The site, a label of the info metric.</param>
/// <param name="Deployments">The cloud rollout's deployment handler (null without a cloud link).</param>
public sealed record EdgeMetricSources(
    ControlLoop Loop, BoardLink Board, RuntimeAssurancePolicy? Assurance, ModelManager? Models, AuditLog? Audit, string RobotId, string SiteId,
    ModelDeploymentHandler? Deployments = null);

/// <summary>
/// The edge daemon's instruments on a <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/>
/// (exported by OpenTelemetry's Prometheus exporter in the daemon; docs/adr/0009-edge-audit-metrics.md lists the
/// series). Histograms are recorded on the hot paths without tags and without allocating (tick work, tick lateness,
/// inference); everything else is an observable instrument that reads counters the loop already keeps, at scrape time.
/// </summary>
public sealed class EdgeMetrics : IDisposable
{
    /// <summary>The meter name to enable in a MeterProvider.</summary>
    public const string MeterName = "WarehouseHybrid.Edge";

    private static readonly string[] SerialErrorKinds =
    [
        "too_short", "too_long", "bad_cobs", "bad_crc", "bad_version", "unknown_type", "bad_length", "bad_value",
        "frames_missed", "read_failure", "write_failure", "open_failure", "reconnect", "silent", "command_dropped", "close_timeout",
    ];

    private readonly Meter _meter;
    private readonly Histogram<double> _tickWork;
    private readonly Histogram<double> _tickLateness;
    private readonly Histogram<double> _inference;

    /// <summary>Creates the meter and its histograms (observables come with <see cref="Observe"/>).</summary>
    public EdgeMetrics()
    {
        _meter = new Meter(MeterName, typeof(EdgeMetrics).Assembly.GetName().Version?.ToString());
        _tickWork = _meter.CreateHistogram(
            "edge.control.tick.work", "s", "Time spent inside one control tick",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2] });
        _tickLateness = _meter.CreateHistogram(
            "edge.control.tick.lateness", "s", "How late a tick started against the fixed schedule",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1] });
        _inference = _meter.CreateHistogram(
            "edge.inference.duration", "s", "Learned-policy inference time per tick",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3] });
    }

    /// <summary>The meter (tests listen to it directly).</summary>
    public Meter Meter => _meter;

    /// <summary>Records one tick's work (control thread; allocation-free).</summary>
    public void RecordTickWork(TimeSpan work) => _tickWork.Record(work.TotalSeconds);

    /// <summary>Records one tick's start lateness (control thread; allocation-free).</summary>
    public void RecordTickLateness(TimeSpan lateness) => _tickLateness.Record(lateness.TotalSeconds);

    /// <summary>Records one inference's time (control thread; allocation-free).</summary>
    public void RecordInference(TimeSpan elapsed) => _inference.Record(elapsed.TotalSeconds);

    /// <summary>Registers the observable instruments over <paramref name="s"/>'s counters.</summary>
    public void Observe(EdgeMetricSources s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var loop = s.Loop;
        _meter.CreateObservableCounter("edge.control.ticks", () => loop.Counters.Ticks, "{tick}", "Control ticks run");
        _meter.CreateObservableCounter("edge.control.overruns", () => loop.Counters.Overruns, "{tick}", "Control periods missed");
        _meter.CreateObservableCounter("edge.control.immediate_ticks", () => loop.ImmediateTicks, "{tick}", "Out-of-schedule ticks run because a sensor frame demanded a brake");
        _meter.CreateObservableCounter("edge.control.allocated", () => loop.AllocatedBytes, "By", "Bytes the control thread allocated inside ticks after warm-up (0 in steady state)");
        _meter.CreateObservableCounter("edge.control.allocating_ticks", () => loop.AllocatingTicks, "{tick}", "Ticks after warm-up that allocated (a plan arrived, the mode changed)");
        _meter.CreateObservableCounter("edge.decision.ticks", () => PerReason(loop.ReasonTicks), "{tick}", "Ticks per decision reason of the command sent (learned, rule fallbacks, shield overrides)");
        _meter.CreateObservableCounter("edge.decision.fallbacks", () => PerReason(loop.ReasonEpisodes, skipLearned: true), "{episode}", "Times the decision entered each reason other than the learned policy");
        _meter.CreateObservableGauge("edge.decision.mode", () => ModeStates(loop.Mode), "{mode}", "1 for the current decision mode, 0 for the others");

        var board = s.Board;
        _meter.CreateObservableCounter("edge.serial.frames", () => board.Counters.SensorFrames, "{frame}", "Sensor frames received from the board");
        _meter.CreateObservableCounter("edge.serial.errors", () => SerialErrors(board.Counters), "{error}", "Serial errors per kind (rejected frames by reason, I/O failures, reconnects, silences)");
        _meter.CreateObservableGauge("edge.serial.connected", () => board.State == BoardLinkState.Connected ? 1 : 0, "{bool}", "1 while the board's tty is open");

        if (s.Assurance is { } assurance)
        {
            _meter.CreateObservableGauge("edge.drift.psi", () => Psi(assurance.Drift), "1", "Population stability index per model input feature against the training histogram");
            _meter.CreateObservableGauge("edge.drift.z", () => ZScores(assurance.Drift), "1", "Window-mean z-score per model input feature against the training statistics");
            _meter.CreateObservableGauge("edge.drift.active", () => assurance.Drift?.InDrift == true ? 1 : 0, "{bool}", "1 while the inputs are out of distribution (the rule policy drives)");
            _meter.CreateObservableCounter("edge.escalations", () => Escalations(assurance.Counters), "{request}", "Escalations to the cloud per outcome");
        }

        if (s.Deployments is { } deployments)
        {
            _meter.CreateObservableCounter("edge.model.deployments", () => DeploymentResults(deployments), "{message}",
                "cmd/model messages from the cloud rollout by result (received, installed, refused, rejected, reverted, duplicate)");
        }

        if (s.Models is { } models)
        {
            _meter.CreateObservableGauge("edge.model.info", () => ModelInfo(models, s.RobotId, s.SiteId), "{model}", "1, labelled with the active model version and execution provider (absent without a model)");
            _meter.CreateObservableCounter("edge.model.events", () => ModelEvents(models), "{event}", "Model swaps, promotions, rollbacks and refusals");
            _meter.CreateObservableGauge("edge.model.probation", () => models.OnProbation ? 1 : 0, "{bool}", "1 while the live model is on probation");
        }

        if (s.Audit is { } audit)
        {
            _meter.CreateObservableCounter("edge.audit.records", () => audit.Counters.Written, "{record}", "Audit records written");
            _meter.CreateObservableCounter("edge.audit.dropped", () => audit.Counters.Dropped, "{entry}", "Audit entries dropped because the queue was full");
            _meter.CreateObservableCounter("edge.audit.lost", () => audit.Counters.Lost, "{entry}", "Audit entries lost because a write failed");
            _meter.CreateObservableGauge("edge.audit.head_seq", () => audit.Counters.HeadSeq, "{record}", "Sequence number of the latest audit record");
        }
    }

    private static IEnumerable<Measurement<long>> DeploymentResults(ModelDeploymentHandler deployments)
    {
        var c = deployments.Counters;
        yield return new Measurement<long>(c.Received, new KeyValuePair<string, object?>("result", "received"));
        yield return new Measurement<long>(c.Installed, new KeyValuePair<string, object?>("result", "installed"));
        yield return new Measurement<long>(c.Refused, new KeyValuePair<string, object?>("result", "refused"));
        yield return new Measurement<long>(c.Rejected, new KeyValuePair<string, object?>("result", "rejected"));
        yield return new Measurement<long>(c.Reverted, new KeyValuePair<string, object?>("result", "reverted"));
        yield return new Measurement<long>(c.Duplicates, new KeyValuePair<string, object?>("result", "duplicate"));
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> PerReason(Func<DecisionReason, long> counter, bool skipLearned = false)
    {
        for (var i = 0; i < DecisionReasonText.Count; i++)
        {
            var reason = (DecisionReason)i;
            if (skipLearned && reason == DecisionReason.LearnedPolicy)
            {
                continue;
            }

            yield return new Measurement<long>(counter(reason), new KeyValuePair<string, object?>("reason", reason.ToText()));
        }
    }

    private static IEnumerable<Measurement<int>> ModeStates(DecisionMode mode)
    {
        foreach (var m in Enum.GetValues<DecisionMode>())
        {
            yield return new Measurement<int>(m == mode ? 1 : 0, new KeyValuePair<string, object?>("mode", m.ToString()));
        }
    }

    private static IEnumerable<Measurement<long>> SerialErrors(BoardLinkCounters c)
    {
        var d = c.Decoder;
        long[] values =
        [
            d.TooShort, d.TooLong, d.BadCobs, d.BadCrc, d.BadVersion, d.UnknownType, d.BadLength, d.BadValue,
            d.FramesMissed, c.ReadFailures, c.WriteFailures, c.OpenFailures, c.Reconnects, c.SilentEpisodes, c.CommandsDropped, c.CloseTimeouts,
        ];
        for (var i = 0; i < values.Length; i++)
        {
            yield return new Measurement<long>(values[i], new KeyValuePair<string, object?>("kind", SerialErrorKinds[i]));
        }
    }

    private static IEnumerable<Measurement<double>> Psi(DriftMonitor? drift)
    {
        if (drift is null || !drift.HasPsi)
        {
            yield break;
        }

        for (var i = 0; i < drift.FeatureNames.Count; i++)
        {
            var psi = drift.Psi(i);
            if (double.IsFinite(psi))
            {
                yield return new Measurement<double>(psi, new KeyValuePair<string, object?>("feature", drift.FeatureNames[i]));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ZScores(DriftMonitor? drift)
    {
        if (drift is null || drift.Count == 0)
        {
            yield break;
        }

        for (var i = 0; i < drift.FeatureNames.Count; i++)
        {
            yield return new Measurement<double>(drift.ZScore(i), new KeyValuePair<string, object?>("feature", drift.FeatureNames[i]));
        }
    }

    private static IEnumerable<Measurement<long>> Escalations(DecisionCounters c)
    {
        yield return new Measurement<long>(c.EscalationsSent, new KeyValuePair<string, object?>("outcome", "sent"));
        yield return new Measurement<long>(c.EscalationsAnswered, new KeyValuePair<string, object?>("outcome", "answered"));
        yield return new Measurement<long>(c.EscalationTimeouts, new KeyValuePair<string, object?>("outcome", "timeout"));
    }

    private static IEnumerable<Measurement<int>> ModelInfo(ModelManager models, string robot, string site)
    {
        if (models.Current is not { } active)
        {
            yield break;
        }

        yield return new Measurement<int>(1, [
            new KeyValuePair<string, object?>("version", active.Manifest.Version),
            new KeyValuePair<string, object?>("provider", active.Provider.ToString()),
            new KeyValuePair<string, object?>("robot", robot),
            new KeyValuePair<string, object?>("site", site),
        ]);
    }

    private static IEnumerable<Measurement<long>> ModelEvents(ModelManager models)
    {
        yield return new Measurement<long>(models.Swaps, new KeyValuePair<string, object?>("event", "swap"));
        yield return new Measurement<long>(models.Promotions, new KeyValuePair<string, object?>("event", "promoted"));
        yield return new Measurement<long>(models.Rollbacks, new KeyValuePair<string, object?>("event", "rollback"));
        yield return new Measurement<long>(models.Refusals, new KeyValuePair<string, object?>("event", "refused"));
    }
}
