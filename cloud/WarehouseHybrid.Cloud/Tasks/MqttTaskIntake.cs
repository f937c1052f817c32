using System.Buffers;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>A reply to publish: where, with which correlation data, what.</summary>
/// <param name="Topic">The submission's response topic.</param>
/// <param name="CorrelationData">The submission's correlation data (echoed).</param>
/// <param name="Reply">The answer.</param>
public sealed record TaskReplyMessage(string Topic, byte[]? CorrelationData, TaskSubmissionReply Reply);

/// <summary>
/// Task intake over MQTT (docs/mqtt-topics.md): a <see cref="TaskSubmission"/> on <c>wh/v1/{site}/tasks/submit</c> goes
/// to the site grain exactly like <c>POST /api/tasks</c> (same checks, same idempotency keys) and is answered with a
/// <see cref="TaskSubmissionReply"/> on the MQTT 5 response topic. The reply goes only to
/// <c>wh/v1/{site}/tasks/reply/{client}</c>: a submission naming any other response topic (a robot's command topic,
/// say) is refused unprocessed, so nobody can make the cloud publish where it should not. Without a response topic the
/// task is still submitted (the submitter can read it back by its idempotency key over HTTP).
/// </summary>
public sealed partial class MqttTaskIntake(IGrainFactory grains, ILogger<MqttTaskIntake> logger)
{
    private long _accepted;
    private long _refused;

    /// <summary>Submissions that created or replayed a task.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Submissions refused (invalid, conflicting, unreadable, or with a forbidden response topic).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Handles one message on a submit topic; returns the reply to publish, or null when there is none to send.</summary>
    public async Task<TaskReplyMessage?> HandleAsync(string site, ReadOnlySequence<byte> payload, string? responseTopic, byte[]? correlationData, int maxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(site);
        if (!string.IsNullOrEmpty(responseTopic) && !FleetTopics.IsTaskReplyTopic(site, responseTopic))
        {
            Interlocked.Increment(ref _refused);
            LogForbiddenReplyTopic(logger, site, responseTopic);
            return null;
        }

        var reply = await SubmitAsync(site, payload, maxPayloadBytes);
        Interlocked.Increment(ref reply.Accepted ? ref _accepted : ref _refused);
        return string.IsNullOrEmpty(responseTopic) ? null : new TaskReplyMessage(responseTopic, correlationData, reply);
    }

    private async Task<TaskSubmissionReply> SubmitAsync(string site, ReadOnlySequence<byte> payload, int maxPayloadBytes)
    {
        if (payload.Length > maxPayloadBytes)
        {
            return Refuse($"payload of {payload.Length} bytes exceeds the limit of {maxPayloadBytes}", "payload", string.Empty);
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
        var outcome = await grains.GetGrain<ISiteGrain>(site).SubmitOrderAsync(order);
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

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Task submission for site {SiteId} refused: response topic '{Topic}' is not under wh/v1/{SiteId}/tasks/reply/")]
    private static partial void LogForbiddenReplyTopic(ILogger logger, string siteId, string topic);
}
