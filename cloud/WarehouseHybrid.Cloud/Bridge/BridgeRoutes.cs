using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Escalation;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Contracts.Tracing;

namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>The key under which the bridge puts the W3C traceparent into the Orleans request context of a grain call.</summary>
public static class BridgeTrace
{
    /// <summary>
    /// <c>RequestContext.Get(BridgeTrace.RequestContextKey)</c> inside a grain called by the bridge returns the
    /// record's traceparent, so the cloud's spans continue the edge's trace.
    /// </summary>
    public const string RequestContextKey = TraceParent.PropertyName;

    /// <summary>The message's trace: the payload's when valid, else the MQTT user property's, else empty.</summary>
    internal static string Pick(string? payloadTrace, string? propertyTrace) =>
        TraceParent.IsValid(payloadTrace) ? payloadTrace : propertyTrace ?? string.Empty;

    /// <summary>Makes a grain call with <paramref name="trace"/> in the Orleans request context.</summary>
    internal static async ValueTask<RouteOutcome> CallAsync(string trace, Func<Task> call)
    {
        RequestContext.Set(RequestContextKey, trace);
        try
        {
            await call().ConfigureAwait(false);
        }
        finally
        {
            RequestContext.Remove(RequestContextKey);
        }

        return RouteOutcome.Handled;
    }
}

/// <summary>Telemetry (<c>wh/v1/+/robots/+/telemetry</c>) to the robot's grain, with its trace in the request context.</summary>
public sealed class TelemetryRoute(IGrainFactory grains, IOptions<MqttBridgeOptions> options) : IBridgeRoute
{
    /// <inheritdoc />
    public string TopicFilter => FleetTopics.AllTelemetryFilter;

    /// <inheritdoc />
    public async ValueTask<RouteOutcome> HandleAsync(BridgeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var decoded = InboundMessage.Decode(message.Topic, new System.Buffers.ReadOnlySequence<byte>(message.Payload), options.Value.MaxPayloadBytes);
        if (decoded.Rejection is { } reason)
        {
            return RouteOutcome.Reject(reason, decoded.Detail);
        }

        var report = decoded.Telemetry! with { TraceId = BridgeTrace.Pick(decoded.Telemetry!.TraceId, message.TraceParent) };
        return await BridgeTrace.CallAsync(report.TraceId, () => grains.GetGrain<IRobotGrain>(report.RobotId).ReportTelemetryAsync(report)).ConfigureAwait(false);
    }
}

/// <summary>Events (<c>wh/v1/+/robots/+/events</c>) to the robot's grain.</summary>
public sealed class EventRoute(IGrainFactory grains, IOptions<MqttBridgeOptions> options) : IBridgeRoute
{
    /// <inheritdoc />
    public string TopicFilter => FleetTopics.AllEventsFilter;

    /// <inheritdoc />
    public async ValueTask<RouteOutcome> HandleAsync(BridgeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var decoded = InboundMessage.Decode(message.Topic, new System.Buffers.ReadOnlySequence<byte>(message.Payload), options.Value.MaxPayloadBytes);
        if (decoded.Rejection is { } reason)
        {
            return RouteOutcome.Reject(reason, decoded.Detail);
        }

        var report = decoded.Event! with { TraceId = BridgeTrace.Pick(decoded.Event!.TraceId, message.TraceParent) };
        return await BridgeTrace.CallAsync(report.TraceId, () => grains.GetGrain<IRobotGrain>(report.RobotId).ReportEventAsync(report)).ConfigureAwait(false);
    }
}

/// <summary>
/// Escalation requests (<c>wh/v1/+/robots/+/escalation/request</c>): checked (robot id, response topic = the robot's
/// own <c>cmd/escalation</c>, deadline), answered by the <see cref="IEscalationResponder"/> with a cancellation at
/// the request's deadline, and the answer published to the response topic with the request's correlation data,
/// within the deadline or not at all. Runs beside the ordered robot partitions (bounded concurrency) so a slow model
/// never delays telemetry.
/// </summary>
public sealed partial class EscalationRoute : IBridgeRoute, IDisposable
{
    private readonly IEscalationResponder _responder;
    private readonly Func<IBridgeReplies> _replies;
    private readonly MqttBridgeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EscalationRoute> _logger;
    private readonly SemaphoreSlim _slots;
    private long _answered;
    private long _noOpinion;
    private long _tooLate;

    /// <summary>Creates the route.</summary>
    /// <param name="responder">The cloud model behind the escalations.</param>
    /// <param name="replies">Resolves the bridge that publishes answers (late: the bridge itself depends on the routes).</param>
    /// <param name="options">Bridge settings.</param>
    /// <param name="time">The clock deadlines are judged by.</param>
    /// <param name="logger">Logging.</param>
    public EscalationRoute(IEscalationResponder responder, Func<IBridgeReplies> replies, IOptions<MqttBridgeOptions> options, TimeProvider time, ILogger<EscalationRoute> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _responder = responder;
        _replies = replies;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxConcurrentEscalations, _options.MaxConcurrentEscalations);
    }

    /// <inheritdoc />
    public string TopicFilter => FleetTopics.AllEscalationsFilter;

    /// <summary>Answers published.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Requests the responder had no opinion on (nothing published: the edge falls back at its deadline).</summary>
    public long NoOpinion => Interlocked.Read(ref _noOpinion);

    /// <summary>Answers that came after the deadline and were not published.</summary>
    public long TooLate => Interlocked.Read(ref _tooLate);

    /// <inheritdoc />
    public ValueTask<RouteOutcome> HandleAsync(BridgeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!FleetTopics.TryParseRobotTopic(message.Topic, out var site, out var robot, out _))
        {
            return ValueTask.FromResult(RouteOutcome.Reject(RejectionReason.TopicInvalid, $"topic '{message.Topic}' is not a robot topic"));
        }

        if (message.Payload.Length > _options.MaxPayloadBytes)
        {
            return ValueTask.FromResult(RouteOutcome.Reject(RejectionReason.PayloadTooLarge, $"topic '{message.Topic}': {message.Payload.Length} bytes exceed {_options.MaxPayloadBytes}"));
        }

        EscalationRequest request;
        try
        {
            request = EscalationRequest.Parser.ParseFrom(message.Payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return ValueTask.FromResult(RouteOutcome.Reject(RejectionReason.PayloadMalformed, $"topic '{message.Topic}': not an EscalationRequest ({ex.Message})"));
        }

        if (request.RobotId != robot || request.RequestId.Length == 0)
        {
            return ValueTask.FromResult(RouteOutcome.Reject(RejectionReason.RobotIdMismatch, $"topic '{message.Topic}': robot_id '{request.RobotId}' / request_id '{request.RequestId}'"));
        }

        // A device may only ask for answers on its own command topic: the bridge must never publish where a request says.
        var expected = FleetTopics.EscalationResponse(site, robot);
        if (message.ResponseTopic != expected)
        {
            return ValueTask.FromResult(RouteOutcome.Reject(RejectionReason.ResponseTopicInvalid, $"topic '{message.Topic}': response topic '{message.ResponseTopic}' is not '{expected}'"));
        }

        var remaining = TimeSpan.FromMilliseconds(request.DeadlineUnixMs - _time.GetUtcNow().ToUnixTimeMilliseconds());
        if (remaining <= TimeSpan.Zero)
        {
            return ValueTask.FromResult(RouteOutcome.Reject(RejectionReason.DeadlinePassed, $"request {request.RequestId} of {robot} arrived after its deadline"));
        }

        if (!_slots.Wait(0))
        {
            return ValueTask.FromResult(RouteOutcome.Reject(RejectionReason.Overloaded, $"request {request.RequestId}: {_options.MaxConcurrentEscalations} escalations already being answered"));
        }

        var correlation = message.CorrelationData is { Length: > 0 } c ? c : System.Text.Encoding.UTF8.GetBytes(request.RequestId);
        var trace = BridgeTrace.Pick(request.TraceId, message.TraceParent);
        _ = Task.Run(() => AnswerAsync(request, expected, correlation, trace, remaining), CancellationToken.None);
        return ValueTask.FromResult(RouteOutcome.Handled);
    }

    /// <inheritdoc />
    public void Dispose() => _slots.Dispose();

    private async Task AnswerAsync(EscalationRequest request, string responseTopic, byte[] correlation, string trace, TimeSpan remaining)
    {
        try
        {
            using var deadline = new CancellationTokenSource(remaining, _time);
            EscalationResponse? answer;
            try
            {
                answer = await _responder.AnswerAsync(request, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                answer = null;
                Interlocked.Increment(ref _tooLate);
                return;
            }

            if (answer is null)
            {
                Interlocked.Increment(ref _noOpinion);
                return;
            }

            var left = TimeSpan.FromMilliseconds(request.DeadlineUnixMs - _time.GetUtcNow().ToUnixTimeMilliseconds());
            if (left <= TimeSpan.Zero)
            {
                Interlocked.Increment(ref _tooLate);
                LogTooLate(_logger, request.RequestId, request.RobotId);
                return;
            }

            answer = answer.Clone();
            answer.RobotId = request.RobotId;
            answer.RequestId = request.RequestId;
            if (!TraceParent.IsValid(answer.TraceId))
            {
                answer.TraceId = TraceParent.ChildOf(trace);
            }

            if (_replies().TryReply(responseTopic, answer, correlation, answer.TraceId, left))
            {
                Interlocked.Increment(ref _answered);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogResponderFailed(_logger, ex, request.RequestId, request.RobotId);
        }
        finally
        {
            _slots.Release();
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Escalation {RequestId} of {RobotId} answered after its deadline: not published")]
    private static partial void LogTooLate(ILogger logger, string requestId, string robotId);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "Escalation responder failed on {RequestId} of {RobotId}")]
    private static partial void LogResponderFailed(ILogger logger, Exception exception, string requestId, string robotId);
}
