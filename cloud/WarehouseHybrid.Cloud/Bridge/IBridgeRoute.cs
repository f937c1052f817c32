using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>An inbound MQTT message as a route sees it (the payload is a copy: it outlives the MQTT callback).</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Payload">The payload bytes.</param>
/// <param name="TraceParent">The W3C traceparent user property when present and valid, else null.</param>
/// <param name="ResponseTopic">The MQTT 5 response topic, if any.</param>
/// <param name="CorrelationData">The MQTT 5 correlation data, if any.</param>
public sealed record BridgeMessage(string Topic, byte[] Payload, string? TraceParent, string? ResponseTopic, byte[]? CorrelationData);

/// <summary>What a route did with a message: null reason when handled, else why it was dropped.</summary>
/// <param name="Rejection">The counted reason, or null.</param>
/// <param name="Detail">Readable detail of a rejection.</param>
public readonly record struct RouteOutcome(RejectionReason? Rejection, string Detail)
{
    /// <summary>Handled.</summary>
    public static RouteOutcome Handled => new(null, string.Empty);

    /// <summary>Dropped with a counted reason.</summary>
    public static RouteOutcome Reject(RejectionReason reason, string detail) => new(reason, detail);
}

/// <summary>
/// One entry of the bridge's routing table: a topic filter the bridge subscribes to (as an MQTT 5 shared
/// subscription) and the handler for its messages. Messages of one robot (or, off the robot tree, of one response
/// topic, else of one topic) are handed to routes one at a time in arrival order; different robots run in parallel. The
/// broker gets its PUBACK when <see cref="HandleAsync"/> returns. Register more with
/// <c>services.AddSingleton&lt;IBridgeRoute, MyRoute&gt;()</c> (e.g. task intake on <c>wh/v1/{site}/tasks/submit</c>).
/// </summary>
public interface IBridgeRoute
{
    /// <summary>The MQTT topic filter (without <c>$share/...</c>; the bridge adds it).</summary>
    string TopicFilter { get; }

    /// <summary>Handles one message; must not throw for bad input (return a rejection instead).</summary>
    ValueTask<RouteOutcome> HandleAsync(BridgeMessage message, CancellationToken cancellationToken);
}

/// <summary>How a route answers a request on its MQTT 5 response topic (implemented by the bridge, queued, never blocking).</summary>
public interface IBridgeReplies
{
    /// <summary>
    /// Queues <paramref name="message"/> on <paramref name="topic"/> with the request's correlation data, expiring after
    /// <paramref name="expiresIn"/> (null: never); false when the queue refuses it.
    /// </summary>
    bool TryReply(string topic, Google.Protobuf.IMessage message, byte[]? correlationData, string? traceParent, TimeSpan? expiresIn);
}
