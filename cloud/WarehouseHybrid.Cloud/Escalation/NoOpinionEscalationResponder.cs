using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Escalation;

/// <summary>
/// The responder when the cloud model is off (<c>Cloud:Escalation:Enabled=false</c>): no opinion, nothing is
/// published, so the edge's deterministic fallback decides at its deadline.
/// </summary>
public sealed class NoOpinionEscalationResponder : IEscalationResponder
{
    /// <inheritdoc />
    public ValueTask<EscalationResponse?> AnswerAsync(EscalationRequest request, CancellationToken cancellationToken) => ValueTask.FromResult<EscalationResponse?>(null);
}
