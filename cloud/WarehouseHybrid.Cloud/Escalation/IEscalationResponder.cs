using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Escalation;

/// <summary>
/// The cloud side of the edge's cascade: answers an uncertain edge decision with the heavier cloud model.
/// The MQTT bridge receives <see cref="EscalationRequest"/>s (topic <c>.../escalation/request</c>) and publishes
/// the answer to the robot's <c>.../cmd/escalation</c> topic with the request's correlation data; the responder
/// knows nothing of MQTT. Implementations must answer within the SLO or not at all (the edge's deterministic
/// fallback decides when no answer arrives in time), and log every answer with model version and trace id.
/// </summary>
public interface IEscalationResponder
{
    /// <summary>Answers <paramref name="request"/>; null when the responder has no model and gives no opinion.</summary>
    ValueTask<EscalationResponse?> AnswerAsync(EscalationRequest request, CancellationToken cancellationToken);
}
