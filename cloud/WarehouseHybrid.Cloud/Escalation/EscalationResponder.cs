using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Escalation;

/// <summary>The advice the cloud gives for one inference (plain code; the responder's policy).</summary>
/// <param name="ObstacleClass">0 clear, 1 obstacle ahead.</param>
/// <param name="Confidence">The chosen class's mean probability less the members' spread on it (a cautious bound), 0..1.</param>
/// <param name="SpeedLimitMps">The model's proposed speed, capped at the obstacle speed when it sees one, 0 when unsure.</param>
public readonly record struct EscalationAdvice(uint ObstacleClass, float Confidence, float SpeedLimitMps)
{
    /// <summary>Turns an inference into advice under <paramref name="options"/>.</summary>
    public static EscalationAdvice From(in EscalationInference inference, EscalationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var obstacle = inference.Obstacle > inference.Clear;
        var p = obstacle ? inference.Obstacle : inference.Clear;
        var spread = obstacle ? inference.ObstacleStd : inference.ClearStd;
        var confidence = Math.Clamp(p - spread, 0f, 1f);
        var speed = Math.Clamp(inference.Linear, 0f, 1f) * options.MaxLinearMps;
        if (obstacle)
        {
            speed = Math.Min(speed, options.ObstacleSpeedMps);
        }

        if (confidence < options.MinConfidence)
        {
            speed = 0;
        }

        return new EscalationAdvice(obstacle ? 1u : 0u, confidence, (float)speed);
    }
}

/// <summary>
/// Answers the edge's escalations with <see cref="CloudEscalationModel"/>: checks the request (feature count, finite
/// values, deadline), runs the model, turns it into advice, and answers only within <see cref="EscalationOptions.Slo"/>.
/// Every request is counted by outcome (metric <c>wh.escalation.answers</c>, latency <c>wh.escalation.duration</c>) and
/// logged with the model version and trace id; each answer is a span continuing the request's trace.
/// </summary>
public sealed partial class OnnxEscalationResponder : IEscalationResponder, IDisposable
{
    private readonly EscalationOptions _options;
    private readonly CloudEscalationModel _model;
    private readonly CloudMetrics _metrics;
    private readonly FleetBoardFeed? _board;
    private readonly IGrainFactory? _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<OnnxEscalationResponder> _logger;

    /// <summary>Loads the configured model (a file that does not load stops the host at start, naming it).</summary>
    public OnnxEscalationResponder(IOptions<EscalationOptions> options, CloudMetrics metrics, TimeProvider time, ILogger<OnnxEscalationResponder> logger, FleetBoardFeed? board = null, IGrainFactory? grains = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _model = new CloudEscalationModel(_options.ResolvedModelPath, _options.IntraOpThreads);
        _metrics = metrics;
        _board = board;
        _grains = grains;
        _time = time;
        _logger = logger;
        LogLoaded(logger, _model.Version, _options.ResolvedModelPath, _model.Members, _options.Slo.TotalMilliseconds);
    }

    /// <summary>The model's version (every answer carries it).</summary>
    public string ModelVersion => _model.Version;

    /// <inheritdoc />
    public ValueTask<EscalationResponse?> AnswerAsync(EscalationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var parent = CloudTracing.Incoming(request.TraceId);
        using var span = CloudTracing.Source.StartActivity(CloudTracing.EscalationAnswer, ActivityKind.Server, parent);
        span?.SetTag("wh.robot", request.RobotId);
        span?.SetTag("wh.escalation.request", request.RequestId);
        span?.SetTag("wh.model.version", _model.Version);
        var trace = CloudTracing.Outgoing(span, parent);

        if (request.Features.Count != _model.FeatureCount || request.Features.Any(f => !float.IsFinite(f)))
        {
            return Refuse(request, "bad-request", $"{request.Features.Count} features (the model takes {_model.FeatureCount} finite values)", started, trace, span);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Refuse(request, "cancelled", "the bridge gave up on the request", started, trace, span);
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (request.DeadlineUnixMs > 0 && now > request.DeadlineUnixMs)
        {
            return Refuse(request, "expired", $"deadline passed {now - request.DeadlineUnixMs} ms before the model ran", started, trace, span);
        }

        EscalationInference inference;
        try
        {
            inference = _model.Infer(request.Features.ToArray());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogInferenceFailed(_logger, ex, request.RequestId, request.RobotId, _model.Version);
            return Refuse(request, "error", ex.Message, started, trace, span);
        }

        var advice = EscalationAdvice.From(inference, _options);
        var elapsed = _time.GetElapsedTime(started);
        if (elapsed > _options.Slo)
        {
            return Refuse(request, "late", string.Create(CultureInfo.InvariantCulture, $"answer took {elapsed.TotalMilliseconds:F1} ms, over the SLO of {_options.Slo.TotalMilliseconds:F0} ms"), started, trace, span);
        }

        var response = new EscalationResponse
        {
            RobotId = request.RobotId,
            RequestId = request.RequestId,
            ModelVersion = _model.Version,
            ObstacleClass = advice.ObstacleClass,
            Confidence = advice.Confidence,
            SpeedLimitMps = advice.SpeedLimitMps,
            TraceId = trace,
        };
        span?.SetTag("wh.escalation.class", advice.ObstacleClass);
        span?.SetTag("wh.escalation.confidence", advice.Confidence);
        _metrics.EscalationAnswered(_model.Version, "answered", elapsed);
        LogAnswered(_logger, request.RequestId, request.RobotId, advice.ObstacleClass, advice.Confidence, advice.SpeedLimitMps, request.EdgeConfidence, request.ModelVersion, _model.Version, elapsed.TotalMilliseconds, trace);
        CountOnBoard(request.RobotId);
        return ValueTask.FromResult<EscalationResponse?>(response);
    }

    /// <inheritdoc />
    public void Dispose() => _model.Dispose();

    private ValueTask<EscalationResponse?> Refuse(EscalationRequest request, string outcome, string why, long started, string trace, Activity? span)
    {
        var elapsed = _time.GetElapsedTime(started);
        span?.SetStatus(ActivityStatusCode.Error, outcome);
        _metrics.EscalationAnswered(_model.Version, outcome, elapsed);
        LogNotAnswered(_logger, request.RequestId, request.RobotId, outcome, why, _model.Version, trace);
        return ValueTask.FromResult<EscalationResponse?>(null);
    }

    // The dashboard's escalation rate is per site; the request names only the robot, whose grain knows its site.
    private void CountOnBoard(string robotId)
    {
        if (_board is null || _grains is null || robotId.Length == 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                if (await _grains.GetGrain<IRobotGrain>(robotId).GetStatusAsync().ConfigureAwait(false) is { SiteId.Length: > 0 } status)
                {
                    _board.CountEscalation(status.SiteId);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogBoardCountFailed(_logger, robotId, ex.Message);
            }
        });
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Escalation model {ModelVersion} loaded from {Path} ({Members} members), SLO {SloMs} ms")]
    private static partial void LogLoaded(ILogger logger, string modelVersion, string path, int members, double sloMs);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Escalation {RequestId} from {RobotId}: class {ObstacleClass} confidence {Confidence:F3} speed limit {SpeedLimitMps:F2} m/s (edge confidence {EdgeConfidence:F3}, edge model {EdgeModel}) by {ModelVersion} in {ElapsedMs:F2} ms, trace {TraceParent}")]
    private static partial void LogAnswered(ILogger logger, string requestId, string robotId, uint obstacleClass, float confidence, float speedLimitMps, float edgeConfidence, string edgeModel, string modelVersion, double elapsedMs, string traceParent);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Escalation {RequestId} from {RobotId} not answered ({Outcome}): {Why}; model {ModelVersion}, trace {TraceParent}")]
    private static partial void LogNotAnswered(ILogger logger, string requestId, string robotId, string outcome, string why, string modelVersion, string traceParent);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Error, Message = "Escalation {RequestId} from {RobotId}: model {ModelVersion} failed")]
    private static partial void LogInferenceFailed(ILogger logger, Exception exception, string requestId, string robotId, string modelVersion);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Debug, Message = "Escalation from {RobotId} not counted on the dashboard: {Error}")]
    private static partial void LogBoardCountFailed(ILogger logger, string robotId, string error);
}

/// <summary>Loads the escalation model when the host starts, so a bad model file fails the start, not the first request.</summary>
internal sealed class EscalationModelWarmup(IEscalationResponder responder) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(responder);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
