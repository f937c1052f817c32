using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Contracts.Fleet;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Metrics;
using WarehouseHybrid.Edge.Models;

namespace WarehouseHybrid.Edge.Decision;

/// <summary>Counters of the decision module.</summary>
/// <param name="LearnedTicks">Ticks the learned proposal was used.</param>
/// <param name="FallbackTicks">Ticks the rule policy acted, per <see cref="DecisionReason"/> (index = reason number).</param>
/// <param name="DeadlineOverruns">Inferences past the deadline.</param>
/// <param name="EscalationsSent">Escalations handed to the client.</param>
/// <param name="EscalationsAnswered">Escalations answered within the SLO.</param>
/// <param name="EscalationTimeouts">Escalations the cloud did not answer in time (or could not be sent).</param>
/// <param name="DriftEpisodes">Drift episodes started.</param>
/// <param name="ModelSwaps">Model changes seen by the control thread.</param>
public sealed record DecisionCounters(
    long LearnedTicks, IReadOnlyList<long> FallbackTicks, long DeadlineOverruns, long EscalationsSent, long EscalationsAnswered,
    long EscalationTimeouts, long DriftEpisodes, long ModelSwaps);

/// <summary>
/// Runtime assurance ("Simplex") around the learned policy: the learned proposal drives only when a model is
/// loaded and healthy, its inference is on time, its confidence is at or above the accept threshold and the
/// inputs are in distribution; otherwise the rule policy acts, and the safety shield still checks whatever is
/// chosen. In the uncertain confidence band the robot slows (or holds) and asks the cloud through
/// <see cref="IEscalationClient"/>; without an answer within the SLO the rule policy decides. After a fallback the
/// learned policy returns only after <see cref="RuntimeAssuranceOptions.RecoveryTicks"/> good ticks.
/// Reports its choice through <see cref="Mode"/> and <see cref="Reason"/>, which the control loop turns into
/// mode-change events; drift, escalation and model swaps are events of their own. Allocation-free per tick
/// except when something changes (an event, an escalation, a model swap).
/// </summary>
public sealed partial class RuntimeAssurancePolicy : IDrivingPolicy
{
    private readonly RuntimeAssuranceOptions _options;
    private readonly KinematicLimits _limits;
    private readonly RulePolicy _rule;
    private readonly ModelManager _models;
    private readonly IEscalationClient _escalation;
    private readonly IRobotEventSink _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _robotId;
    private readonly long[] _fallbacks = new long[32];
    private readonly float[] _recordScratch = new float[PolicyFeatures.Count];
    private readonly float[] _latencyUs = new float[LatencyWindow];
    private long _latencyCount;
    private long _sentAtSwap;
    private readonly long _sloTicks;
    private readonly long _adviceTicks;
    private readonly long _cooldownTicks;
    private ActiveModel? _active;
    private DriftMonitor? _drift;
    private DecisionMode _mode = DecisionMode.Rule;
    private DecisionReason _reason = DecisionReason.ModelUnavailable;
    private DecisionReason _lastFallback = DecisionReason.ModelUnavailable;
    private int _healthyStreak;
    private EscalationState _state;
    private string _requestId = string.Empty;
    private long _stateUntil;
    private EscalationResponse? _advice;
    private long _requestSeq;
    private long _learnedTicks;
    private long _overruns;
    private long _sent;
    private long _answered;
    private long _timeouts;
    private long _swaps;
    private LearnedOutput _lastOutput;
    private float _confidence = float.NaN;
    private long _decisions;

    /// <summary>Wires the module; throws <see cref="ArgumentException"/> listing every invalid option.</summary>
    public RuntimeAssurancePolicy(
        RuntimeAssuranceOptions options,
        KinematicLimits limits,
        ModelManager models,
        IEscalationClient escalation,
        IRobotEventSink events,
        TimeProvider time,
        ILogger logger,
        string robotId)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(escalation);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid learned-policy options: " + string.Join("; ", errors), nameof(options));
        }

        _options = options;
        _limits = limits;
        _rule = new RulePolicy(limits);
        _models = models;
        _escalation = escalation;
        _events = events;
        _time = time;
        _logger = logger;
        _robotId = robotId;
        _sloTicks = ToTimestampTicks(options.EscalationSlo);
        _adviceTicks = ToTimestampTicks(options.AdviceValidFor);
        _cooldownTicks = ToTimestampTicks(options.EscalationCooldown);
        _healthyStreak = options.RecoveryTicks;
    }

    private enum EscalationState : byte
    {
        Idle,
        Pending,
        Answered,
        TimedOut,
    }

    /// <summary>Inferences kept for the latency percentiles of Telemetry.model_health (the last window).</summary>
    public const int LatencyWindow = 256;

    /// <inheritdoc />
    public DecisionMode Mode => _mode;

    /// <summary>Escalations sent since the current model went live.</summary>
    public long EscalationsSinceModel => Math.Max(0, Volatile.Read(ref _sent) - Volatile.Read(ref _sentAtSwap));

    /// <summary>
    /// Copies the latest inference latencies of the current model (microseconds, up to <see cref="LatencyWindow"/>,
    /// in no particular order) into <paramref name="destination"/> and returns how many. Any thread; values written
    /// meanwhile may be mixed in, which a monitoring percentile tolerates.
    /// </summary>
    public int CopyRecentLatencies(Span<float> destination)
    {
        var count = (int)Math.Min(Math.Min(Volatile.Read(ref _latencyCount), LatencyWindow), destination.Length);
        _latencyUs.AsSpan(0, count).CopyTo(destination);
        return count;
    }

    /// <inheritdoc />
    public DecisionReason Reason => _reason;

    /// <summary>Inference latency histogram (null: none); set before the loop starts.</summary>
    public EdgeMetrics? Metrics { get; set; }

    /// <inheritdoc />
    public float Confidence => _confidence;

    /// <summary>The latest inference output (default when no model ran).</summary>
    public LearnedOutput LastOutput => _lastOutput;

    /// <summary>The drift monitor of the current model (null without a model).</summary>
    public DriftMonitor? Drift => _drift;

    /// <inheritdoc />
    public string ModelVersion => _active?.Manifest.Version ?? string.Empty;

    /// <summary>The model in use at the latest tick.</summary>
    public ActiveModel? ActiveModel => _active;

    /// <summary>Counters; read from the control thread or accept slightly torn values.</summary>
    public DecisionCounters Counters => new(
        _learnedTicks, (long[])_fallbacks.Clone(), _overruns, _sent, _answered, _timeouts, _drift?.DriftEpisodes ?? 0, _swaps);

    /// <inheritdoc />
    public bool TryDecide(in PolicyInput input, out DriveCommand command)
    {
        _rule.TryDecide(input, out var rule);
        _confidence = float.NaN;
        var record = ++_decisions % _models.Rollout.RecordEveryTicks == 0;
        var active = _models.AcquireForTick();
        if (!ReferenceEquals(active, _active))
        {
            OnModelChanged(active);
        }

        if (active is null)
        {
            if (record)
            {
                // No model to run, but the next candidate is still self-tested on what the robot really sees.
                PolicyFeatures.Extract(input, _limits, _recordScratch);
                _models.RecordInput(_recordScratch);
            }

            return Fallback(rule, DecisionReason.ModelUnavailable, out command);
        }

        var model = active.Model;
        var features = model.Input;
        PolicyFeatures.Extract(input, _limits, features);
        if (record)
        {
            _models.RecordInput(features);
        }

        if (_drift!.Observe(features))
        {
            OnDriftChanged();
        }

        if (_drift.ObservePsi(features))
        {
            OnPsiChanged();
        }

        var output = model.Run();
        _lastOutput = output;
        _confidence = output.Confidence;
        Metrics?.RecordInference(output.Elapsed);
        _latencyUs[(int)(_latencyCount % LatencyWindow)] = (float)(output.Elapsed.Ticks / 10.0);
        Volatile.Write(ref _latencyCount, _latencyCount + 1);
        _models.ReportTick(output.Status);
        switch (output.Status)
        {
            case InferenceStatus.Late:
                _overruns++;
                return Fallback(rule, DecisionReason.ModelLate, out command);
            case InferenceStatus.Fault:
            case InferenceStatus.NonFinite:
                return Fallback(rule, DecisionReason.ModelFault, out command);
        }

        if (_drift.InDrift)
        {
            return Fallback(rule, DecisionReason.InputDrift, out command);
        }

        if (output.Confidence < _options.EscalateConfidence)
        {
            return Fallback(rule, DecisionReason.LowConfidence, out command);
        }

        if (output.Confidence < _options.AcceptConfidence)
        {
            return Uncertain(input, rule, output, out command);
        }

        EndEscalationEpisode();
        if (_healthyStreak < _options.RecoveryTicks)
        {
            // Recovering: the cause of the last fallback still names why the rule policy drives.
            _healthyStreak++;
            return Use(rule, DecisionMode.Rule, _lastFallback, out command);
        }

        _learnedTicks++;

        // The model proposes a setpoint; it reaches the motors through the same acceleration limit as the rule policy's.
        command = RulePolicy.Limit(input, new DriveCommand(output.LinearFraction * _limits.MaxLinearMps, output.AngularFraction * _limits.MaxAngularRadps), _limits);
        _mode = DecisionMode.Learned;
        _reason = DecisionReason.LearnedPolicy;
        return true;
    }

    private bool Uncertain(in PolicyInput input, in DriveCommand rule, in LearnedOutput output, out DriveCommand command)
    {
        var now = _time.GetTimestamp();
        if ((_state == EscalationState.Answered || _state == EscalationState.TimedOut) && now >= _stateUntil)
        {
            _state = EscalationState.Idle;
        }

        switch (_state)
        {
            case EscalationState.Idle:
                if (!Escalate(output, now))
                {
                    _timeouts++;
                    _state = EscalationState.TimedOut;
                    _stateUntil = now + _cooldownTicks;
                    return Fallback(rule, DecisionReason.EscalationTimeout, out command);
                }

                return Slow(input, rule, out command);

            case EscalationState.Pending:
                if (_escalation.TryTakeResponse(_requestId, out var response))
                {
                    _answered++;
                    _advice = response;
                    _state = EscalationState.Answered;
                    _stateUntil = now + _adviceTicks;
                    Event("escalation-answered", string.Create(CultureInfo.InvariantCulture, $"request {_requestId}: class {response.ObstacleClass} confidence {response.Confidence:F2} speed limit {response.SpeedLimitMps:F2} m/s from model {response.ModelVersion}"), response.TraceId);
                    return Advised(rule, out command);
                }

                if (now >= _stateUntil)
                {
                    _timeouts++;
                    _state = EscalationState.TimedOut;
                    _stateUntil = now + _cooldownTicks;
                    Event("escalation-timeout", $"request {_requestId}: no answer within {_options.EscalationSlo.TotalMilliseconds} ms; the rule policy decides", string.Empty);
                    return Fallback(rule, DecisionReason.EscalationTimeout, out command);
                }

                return Slow(input, rule, out command);

            case EscalationState.Answered:
                return Advised(rule, out command);

            default:
                return Fallback(rule, DecisionReason.EscalationTimeout, out command);
        }
    }

    private bool Escalate(in LearnedOutput output, long now)
    {
        if (!_escalation.IsAvailable)
        {
            return false;
        }

        _requestSeq++;
        _requestId = string.Create(CultureInfo.InvariantCulture, $"{_robotId}-esc-{_requestSeq}");
        var trace = NewTraceParent();
        var request = new EscalationRequest
        {
            RobotId = _robotId,
            RequestId = _requestId,
            ModelVersion = _active?.Manifest.Version ?? string.Empty,
            EdgeConfidence = output.Confidence,
            TraceId = trace,
            DeadlineUnixMs = (_time.GetUtcNow() + _options.EscalationSlo).ToUnixTimeMilliseconds(),
        };
        foreach (var f in _active!.Model.Input)
        {
            request.Features.Add(f);
        }

        if (!_escalation.TrySend(request))
        {
            Event("escalation-unsent", $"request {_requestId}: the escalation client refused it; the rule policy decides", trace);
            return false;
        }

        _sent++;
        _state = EscalationState.Pending;
        _stateUntil = now + _sloTicks;
        Event("escalation-sent", string.Create(CultureInfo.InvariantCulture, $"request {_requestId}: confidence {output.Confidence:F2} in [{_options.EscalateConfidence}, {_options.AcceptConfidence}); slowing to {_options.UncertainSpeedFactor:P0}"), trace);
        return true;
    }

    private bool Slow(in PolicyInput input, in DriveCommand rule, out DriveCommand command)
    {
        var target = rule.LinearMps * _options.UncertainSpeedFactor;
        var step = _limits.BrakeDecel * input.DtSeconds;
        var v = input.Previous.LinearMps + Math.Clamp(target - input.Previous.LinearMps, -step, step);
        return Use(new DriveCommand(v, rule.AngularRadps), DecisionMode.Rule, DecisionReason.Escalating, out command);
    }

    private bool Advised(in DriveCommand rule, out DriveCommand command)
    {
        var limit = Math.Max(0.0, _advice?.SpeedLimitMps ?? 0f);
        var v = Math.Clamp(rule.LinearMps, -limit, limit);
        return Use(new DriveCommand(v, rule.AngularRadps), DecisionMode.Rule, DecisionReason.CloudAdvice, out command);
    }

    private bool Fallback(in DriveCommand rule, DecisionReason reason, out DriveCommand command)
    {
        _healthyStreak = 0;
        _lastFallback = reason;
        if (reason is not (DecisionReason.EscalationTimeout or DecisionReason.Escalating or DecisionReason.CloudAdvice))
        {
            EndEscalationEpisode();
        }

        return Use(rule, DecisionMode.Rule, reason, out command);
    }

    private bool Use(in DriveCommand chosen, DecisionMode mode, DecisionReason reason, out DriveCommand command)
    {
        if ((int)reason < _fallbacks.Length)
        {
            _fallbacks[(int)reason]++;
        }

        _mode = mode;
        _reason = reason;
        command = chosen;
        return true;
    }

    private void EndEscalationEpisode()
    {
        if (_state != EscalationState.Idle && _state != EscalationState.TimedOut)
        {
            _state = EscalationState.Idle;
            _advice = null;
        }
    }

    private void OnModelChanged(ActiveModel? active)
    {
        var from = _active?.Manifest.Version ?? "none";
        _active = active;
        _drift = active is null ? null : new DriftMonitor(active.Manifest.FeatureStatistics, _options.DriftWindow, _options.DriftZThreshold, _options.PsiWindow, _options.PsiAlertThreshold);
        _swaps++;
        Volatile.Write(ref _latencyCount, 0);
        Volatile.Write(ref _sentAtSwap, _sent);
        _state = EscalationState.Idle;
        _advice = null;
        var to = active is null ? "none" : $"{active.Manifest.Version} on {active.Provider}";
        LogModelChanged(_logger, from, to);
        Event("model-swap", $"learned model {from} -> {to}", string.Empty);
    }

    private void OnDriftChanged()
    {
        var drift = _drift!;
        var detail = drift.Describe();
        if (drift.InDrift)
        {
            LogDrift(_logger, _active?.Manifest.Version ?? "none", detail);
        }
        else
        {
            LogDriftEnded(_logger, _active?.Manifest.Version ?? "none", detail);
        }

        Event(drift.InDrift ? "drift-detected" : "drift-ended", detail, string.Empty);
    }

    private void OnPsiChanged()
    {
        var drift = _drift!;
        var detail = drift.DescribePsi();
        LogPsi(_logger, _active?.Manifest.Version ?? "none", drift.PsiAlert ? "raised" : "cleared", detail);
        Event(drift.PsiAlert ? "psi-alert" : "psi-alert-ended", detail, string.Empty);
    }

    private void Event(string kind, string detail, string trace) => _events.Offer(new RobotEventRecord(kind, detail, _time.GetUtcNow(), trace));

    private long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private static string NewTraceParent()
    {
        Span<byte> ids = stackalloc byte[24];
        RandomNumberGenerator.Fill(ids);
        return $"00-{Convert.ToHexStringLower(ids[..16])}-{Convert.ToHexStringLower(ids[16..])}-01";
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Learned model {From} -> {To}")]
    private static partial void LogModelChanged(ILogger logger, string from, string to);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Input drift against model {Version}: {Detail}")]
    private static partial void LogDrift(ILogger logger, string version, string detail);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Information, Message = "Input drift against model {Version} ended: {Detail}")]
    private static partial void LogDriftEnded(ILogger logger, string version, string detail);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Information, Message = "PSI alert against model {Version} {Change}: {Detail}")]
    private static partial void LogPsi(ILogger logger, string version, string change, string detail);
}
