using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>
/// Task intake over MQTT (docs/mqtt-topics.md), a route of the MQTT bridge: a <see cref="TaskSubmission"/> on
/// <c>wh/v1/{site}/tasks/submit</c> goes to the site grain exactly like <c>POST /api/tasks</c> (same checks, same
/// idempotency keys) and is answered with a <see cref="TaskSubmissionReply"/> on the MQTT 5 response topic with the
/// submission's correlation data. The reply goes only to <c>wh/v1/{site}/tasks/reply/{client}</c>: a submission naming
/// any other response topic (a robot's command topic, say) is refused unprocessed (counted as
/// <see cref="RejectionReason.ResponseTopicInvalid"/>), so nobody can make the cloud publish where it should not.
/// Without a response topic the task is still submitted (the submitter can read it back by its idempotency key over
/// HTTP). The bridge acknowledges the submission once the site grain has it.
/// </summary>
public sealed partial class MqttTaskIntake : IBridgeRoute
{
    private readonly IGrainFactory _grains;
    private readonly Func<IBridgeReplies> _replies;
    private readonly MqttBridgeOptions _options;
    private readonly ILogger<MqttTaskIntake> _logger;
    private long _accepted;
    private long _refused;

    /// <summary>Creates the route.</summary>
    /// <param name="grains">The site grains.</param>
    /// <param name="replies">Resolves the bridge that publishes replies (late: the bridge itself depends on the routes).</param>
    /// <param name="options">Bridge settings (the payload limit).</param>
    /// <param name="logger">Logging.</param>
    public MqttTaskIntake(IGrainFactory grains, Func<IBridgeReplies> replies, IOptions<MqttBridgeOptions> options, ILogger<MqttTaskIntake> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _grains = grains;
        _replies = replies;
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    public string TopicFilter => FleetTopics.AllTaskSubmitFilter;

    /// <summary>Submissions that created or replayed a task.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Submissions refused (invalid, conflicting, unreadable, or with a forbidden response topic).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <inheritdoc />
    public async ValueTask<RouteOutcome> HandleAsync(BridgeMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!FleetTopics.TryParseTaskSubmitTopic(message.Topic, out var site))
        {
            return RouteOutcome.Reject(RejectionReason.TopicInvalid, $"topic '{message.Topic}' is not wh/v1/{{site}}/tasks/submit");
        }

        var responseTopic = message.ResponseTopic;
        if (!string.IsNullOrEmpty(responseTopic) && !FleetTopics.IsTaskReplyTopic(site, responseTopic))
        {
            Interlocked.Increment(ref _refused);
            LogForbiddenReplyTopic(_logger, site, responseTopic);
            return RouteOutcome.Reject(RejectionReason.ResponseTopicInvalid, $"task submission for site '{site}': response topic '{responseTopic}' is not under {FleetTopics.TaskReplyPrefix(site)}");
        }

        var reply = await SubmitAsync(site, message.Payload).ConfigureAwait(false);
        Interlocked.Increment(ref reply.Accepted ? ref _accepted : ref _refused);
        if (!string.IsNullOrEmpty(responseTopic) && !_replies().TryReply(responseTopic, reply, message.CorrelationData, reply.TraceId, expiresIn: null))
        {
            // The task exists all the same; the submitter's retry with the same idempotency key gets the reply.
            LogReplyDropped(_logger, site, responseTopic);
        }

        return RouteOutcome.Handled;
    }

    private async Task<TaskSubmissionReply> SubmitAsync(string site, byte[] payload)
    {
        if (payload.Length > _options.MaxPayloadBytes)
        {
            return Refuse($"payload of {payload.Length} bytes exceeds the limit of {_options.MaxPayloadBytes}", "payload", string.Empty);
        }

        TaskSubmission submission;
        try
        {
            submission = TaskSubmission.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Refuse($"payload is not a TaskSubmission ({ex.Message})", "payload", string.Empty);
        }

        var trace = submission.TraceId;
        if (submission.IdempotencyKey.Length > 0 && TaskSubmissionJson.CheckIdempotencyKey(submission.IdempotencyKey) is { } keyProblem)
        {
            return Refuse($"idempotency_key {keyProblem}", "idempotency_key", trace);
        }

        var errands = new List<ErrandRef>(submission.Errands.Count);
        for (var i = 0; i < submission.Errands.Count; i++)
        {
            var e = submission.Errands[i];
            switch (e.WhereCase)
            {
                case TaskErrand.WhereOneofCase.Cell:
                    errands.Add(ErrandRef.AtCell(e.Cell));
                    break;
                case TaskErrand.WhereOneofCase.Point:
                    errands.Add(ErrandRef.AtPoint(e.Point.X, e.Point.Y));
                    break;
                default:
                    return Refuse($"errands[{i}] has neither cell nor point", $"errands[{i}]", trace);
            }
        }

        var order = new TaskOrder
        {
            Errands = errands,
            Priority = submission.Priority,
            Reference = submission.Reference.Length == 0 ? null : submission.Reference,
            IdempotencyKey = submission.IdempotencyKey.Length == 0 ? null : submission.IdempotencyKey,
            SubmittedBy = "mqtt",
        };
        var outcome = await _grains.GetGrain<ISiteGrain>(site).SubmitOrderAsync(order).ConfigureAwait(false);
        var reply = new TaskSubmissionReply
        {
            Accepted = outcome.Status is SubmitStatus.Created or SubmitStatus.Replayed,
            Replayed = outcome.Status == SubmitStatus.Replayed,
            TaskId = outcome.Task?.Id ?? string.Empty,
            Status = outcome.Task?.Status ?? string.Empty,
            TraceId = trace,
        };
        foreach (var e in outcome.Errors)
        {
            reply.Errors.Add(new TaskFieldError { Field = e.Field == "Idempotency-Key" ? "idempotency_key" : e.Field, Message = e.Message });
        }

        if (!reply.Accepted)
        {
            reply.Error = string.Join("; ", outcome.Errors.Select(e => $"{e.Field}: {e.Message}"));
        }

        return reply;
    }

    private static TaskSubmissionReply Refuse(string error, string field, string trace)
    {
        var reply = new TaskSubmissionReply { Accepted = false, Error = error, TraceId = trace };
        reply.Errors.Add(new TaskFieldError { Field = field, Message = error });
        return reply;
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Task submission for site {SiteId} refused: response topic '{Topic}' is not under wh/v1/{SiteId}/tasks/reply/")]
    private static partial void LogForbiddenReplyTopic(ILogger logger, string siteId, string topic);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Task submission for site {SiteId} handled but its reply to '{Topic}' was dropped: the bridge's outbound queue is full")]
    private static partial void LogReplyDropped(ILogger logger, string siteId, string topic);
}
