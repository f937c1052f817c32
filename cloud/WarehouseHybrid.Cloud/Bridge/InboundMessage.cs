using System.Buffers;
using Google.Protobuf;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>Why the bridge dropped an inbound message (docs/mqtt-topics.md, "Validation on the cloud side").</summary>
public enum RejectionReason
{
    /// <summary>The topic is not <c>wh/v1/{site}/robots/{robot}/...</c> with valid ids.</summary>
    TopicInvalid = 0,
    /// <summary>The topic parses but its leaf is not one the cloud consumes.</summary>
    UnknownLeaf = 1,
    /// <summary>The payload is larger than the configured limit.</summary>
    PayloadTooLarge = 2,
    /// <summary>The payload does not parse as the leaf's protobuf message.</summary>
    PayloadMalformed = 3,
    /// <summary>The robot id inside the payload differs from the topic's (or is missing).</summary>
    RobotIdMismatch = 4,
    /// <summary>The site id inside the payload is set and differs from the topic's.</summary>
    SiteIdMismatch = 5,
    /// <summary>The message was valid but handing it to its grain failed.</summary>
    RoutingFailed = 6,
    /// <summary>An escalation request asked for its answer on a topic other than its robot's <c>cmd/escalation</c>.</summary>
    ResponseTopicInvalid = 7,
    /// <summary>An escalation request arrived after its deadline (the edge has already fallen back).</summary>
    DeadlinePassed = 8,
    /// <summary>Too many escalations are being answered at once.</summary>
    Overloaded = 9,
}

/// <summary>What an inbound message is once checked: a telemetry report, an event, or a rejection.</summary>
public readonly record struct InboundMessage(TelemetryReport? Telemetry, RobotEventReport? Event, RejectionReason? Rejection, string Detail)
{
    /// <summary>Checks topic, size and payload, and decodes the message. Never throws on bad input.</summary>
    public static InboundMessage Decode(string topic, ReadOnlySequence<byte> payload, int maxPayloadBytes)
    {
        if (topic is null || !FleetTopics.TryParseRobotTopic(topic, out var site, out var robot, out var leaf))
        {
            return Reject(RejectionReason.TopicInvalid, $"topic '{topic}' is not wh/v1/{{site}}/robots/{{robot}}/...");
        }

        if (leaf is not ("telemetry" or "events"))
        {
            return Reject(RejectionReason.UnknownLeaf, $"topic '{topic}': leaf '{leaf}' is not consumed by the cloud");
        }

        if (payload.Length > maxPayloadBytes)
        {
            return Reject(RejectionReason.PayloadTooLarge, $"topic '{topic}': payload of {payload.Length} bytes exceeds the limit of {maxPayloadBytes}");
        }

        try
        {
            if (leaf == "telemetry")
            {
                var t = Contracts.Fleet.Telemetry.Parser.ParseFrom(payload);
                if (t.RobotId != robot)
                {
                    return Reject(RejectionReason.RobotIdMismatch, $"topic '{topic}': payload robot_id '{t.RobotId}' differs from the topic's '{robot}'");
                }

                if (t.SiteId.Length > 0 && t.SiteId != site)
                {
                    return Reject(RejectionReason.SiteIdMismatch, $"topic '{topic}': payload site_id '{t.SiteId}' differs from the topic's '{site}'");
                }

                return new InboundMessage(ToReport(t, site), null, null, string.Empty);
            }

            var e = RobotEvent.Parser.ParseFrom(payload);
            if (e.RobotId != robot)
            {
                return Reject(RejectionReason.RobotIdMismatch, $"topic '{topic}': payload robot_id '{e.RobotId}' differs from the topic's '{robot}'");
            }

            return new InboundMessage(null, new RobotEventReport(robot, site, e.Seq, e.TimestampUnixMs, e.Kind, e.Detail)
            {
                StreamId = e.StreamId,
                EventClass = e.EventClass,
                TraceId = e.TraceId,
            }, null, string.Empty);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Reject(RejectionReason.PayloadMalformed, $"topic '{topic}': payload is not a valid {leaf} message ({ex.Message})");
        }
    }

    /// <summary>Maps a protobuf telemetry record to the grain message.</summary>
    public static TelemetryReport ToReport(Telemetry t, string site)
    {
        ArgumentNullException.ThrowIfNull(t);
        var pose = t.Pose;
        return new TelemetryReport
        {
            RobotId = t.RobotId,
            SiteId = site,
            Seq = t.Seq,
            TimestampUnixMs = t.TimestampUnixMs,
            Cell = pose?.Cell ?? -1,
            Heading = (DomainHeading)((int)(pose?.Heading ?? 0) & 3),
            XMetres = pose?.XM ?? 0,
            YMetres = pose?.YM ?? 0,
            ThetaRadians = pose?.ThetaRad ?? 0,
            State = (int)t.State,
            BatteryFraction = t.BatteryFraction,
            LastCompletedStep = t.Progress?.LastCompletedStep ?? 0,
            PlanRevision = t.Progress?.PlanRevision ?? 0,
            ModelVersion = t.ModelVersion,
            DecisionMode = (int)t.DecisionMode,
            ErrandsReached = t.ErrandsReached,
            TraceId = t.TraceId,
            StreamId = t.StreamId,
            FallbackReason = t.FallbackReason,
            ModelHealth = t.ModelHealth is { } h ? new ModelHealthReport
            {
                LearnedTicks = h.LearnedTicks,
                FallbackTicks = h.FallbackTicks,
                EscalationsSent = h.EscalationsSent,
                InferenceP50Micros = h.InferenceP50Us,
                InferenceP99Micros = h.InferenceP99Us,
                DriftMaxZ = h.DriftMaxZ,
                DriftFeature = h.DriftFeature,
                Drifting = h.Drifting,
            } : null,
        };
    }

    private static InboundMessage Reject(RejectionReason reason, string detail) => new(null, null, reason, detail);
}
