using System.Diagnostics.CodeAnalysis;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Edge.Decision;

/// <summary>
/// The cascade's seam to the cloud's heavier model: the control thread hands over a request and later polls for
/// the answer; neither call may block or wait on the network. The MQTT implementation comes with the link.
/// </summary>
public interface IEscalationClient
{
    /// <summary>Whether requests can be sent now (link up).</summary>
    bool IsAvailable { get; }

    /// <summary>Queues a request for sending; false when it cannot be sent (then the deterministic fallback decides at once).</summary>
    bool TrySend(EscalationRequest request);

    /// <summary>Takes the response to <paramref name="requestId"/> when it has arrived.</summary>
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
