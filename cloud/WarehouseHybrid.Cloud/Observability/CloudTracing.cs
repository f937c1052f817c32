using System.Diagnostics;

namespace WarehouseHybrid.Cloud.Observability;

/// <summary>
/// The cloud's spans (activity source <see cref="SourceName"/>) and W3C traceparent handling. A trace starts at the
/// edge (the telemetry record's traceparent, carried in the payload and in MQTT 5 user properties), continues in the
/// robot grain's ingest span, is remembered by the site per robot with the step confirmation, parents that robot's
/// plan publish span, and leaves on the plan segment's <c>trace_id</c>, which the edge's executor and motor command
/// continue. The optimizer step has one parent (the confirmation that completed the round) and links to the others.
/// When nothing listens (no tracer provider), spans are not created but the trace id still flows: outgoing
/// traceparents are children of the incoming context, so an edge-side trace stays whole.
/// </summary>
public static class CloudTracing
{
    /// <summary>Name of the activity source.</summary>
    public const string SourceName = "WarehouseHybrid.Cloud";

    /// <summary>Span: a robot grain takes a telemetry record.</summary>
    public const string TelemetryIngest = "wh.robot.telemetry";

    /// <summary>Span: the site's optimizer plans one step.</summary>
    public const string PlanStep = "wh.site.plan_step";

    /// <summary>Span: one robot's plan segment is handed to the publisher.</summary>
    public const string PlanPublish = "wh.site.plan_publish";

    /// <summary>Span: the cloud model answers an escalation.</summary>
    public const string EscalationAnswer = "wh.escalation.answer";

    /// <summary>Span: a rollout sends a model package to robots.</summary>
    public const string ModelDeploy = "wh.rollout.deploy";

    /// <summary>Most links the optimizer span keeps to the confirmations of its round (bounded for large fleets).</summary>
    public const int MaxRoundLinks = 32;

    /// <summary>The activity source (shared; OpenTelemetry subscribes by name).</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Parses a W3C traceparent; default when it is empty or malformed (the span then starts a new trace).</summary>
    public static ActivityContext Parse(string? traceParent) =>
        !string.IsNullOrEmpty(traceParent) && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;

    /// <summary>
    /// The parent of a span that handles an incoming record: the record's own traceparent when valid, else the one
    /// the bridge put into the Orleans request context (<see cref="Bridge.BridgeTrace.RequestContextKey"/>), else none
    /// (a new trace).
    /// </summary>
    public static ActivityContext Incoming(string? payloadTraceParent)
    {
        var fromPayload = Parse(payloadTraceParent);
        return fromPayload != default ? fromPayload : Parse(RequestContext.Get(Bridge.BridgeTrace.RequestContextKey) as string);
    }

    /// <summary>The W3C traceparent of <paramref name="context"/>.</summary>
    public static string Format(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    /// <summary>
    /// The traceparent to put on an outgoing message: the span's own when one is recorded, otherwise a new span id in
    /// <paramref name="parent"/>'s trace, otherwise a fresh trace.
    /// </summary>
    public static string Outgoing(Activity? span, ActivityContext parent)
    {
        if (span is not null)
        {
            return Format(span.Context);
        }

        var trace = parent.TraceId == default ? ActivityTraceId.CreateRandom() : parent.TraceId;
        return Format(new ActivityContext(trace, ActivitySpanId.CreateRandom(), parent.TraceId == default ? ActivityTraceFlags.Recorded : parent.TraceFlags));
    }

    /// <summary>The traceparent of the current span, or empty.</summary>
    public static string CurrentTraceParent() => Activity.Current is { } a ? Format(a.Context) : string.Empty;
}
