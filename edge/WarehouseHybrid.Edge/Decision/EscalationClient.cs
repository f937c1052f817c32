using System.Diagnostics.CodeAnalysis;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Edge.Decision;

/// <summary>
/// The cascade's seam to the cloud's heavier model: the control thread hands over a request and later polls for
/// the answer; neither call may block or wait on the network. The MQTT implementation comes with the link.
/// </summary>
/// <remarks>
/// Contract for implementations (RuntimeAssurancePolicy relies on it; ADR 0004 "Cascade"):
/// <list type="bullet">
/// <item>All three members are called on the control thread, at most once per tick each: return at once, allocate as
/// little as possible, never throw (a failure is <c>false</c>).</item>
/// <item><see cref="EscalationRequest.RequestId"/> is unique per robot (<c>{robot}-esc-{n}</c>) and
/// <see cref="EscalationRequest.TraceId"/> a fresh W3C traceparent; the features are the 25 policy features the edge
/// model saw (their SHA-256 as little-endian float32 is the audit record's <c>input</c> digest, so the cloud can match
/// the two). <see cref="EscalationRequest.DeadlineUnixMs"/> is when the edge stops waiting.</item>
/// <item>A response arriving after the deadline may still be offered; the policy has already fallen back and ignores
/// it (it only asks for the request it is waiting on). Responses for unknown or old ids may be dropped.</item>
/// <item>Every send, answer and timeout is an event and an audit record, written by the policy, not the client.</item>
/// </list>
/// </remarks>
public interface IEscalationClient
{
    /// <summary>Whether requests can be sent now (link up). Read before every send.</summary>
    bool IsAvailable { get; }

    /// <summary>Queues a request for sending; false when it cannot be sent (then the deterministic fallback decides at once).</summary>
    bool TrySend(EscalationRequest request);

    /// <summary>Takes the response to <paramref name="requestId"/> when it has arrived (at most once).</summary>
    bool TryTakeResponse(string requestId, [NotNullWhen(true)] out EscalationResponse? response);
}

/// <summary>No cloud to ask: every uncertain case goes straight to the deterministic fallback.</summary>
public sealed class NullEscalationClient : IEscalationClient
{
    /// <summary>The shared instance.</summary>
    public static NullEscalationClient Instance { get; } = new();

    /// <inheritdoc />
    public bool IsAvailable => false;

    /// <inheritdoc />
    public bool TrySend(EscalationRequest request) => false;

    /// <inheritdoc />
    public bool TryTakeResponse(string requestId, [NotNullWhen(true)] out EscalationResponse? response)
    {
        response = null;
        return false;
    }
}
