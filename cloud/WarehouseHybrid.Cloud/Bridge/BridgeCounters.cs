namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>A snapshot of the bridge's counters.</summary>
/// <param name="Connected">Whether the client is connected now.</param>
/// <param name="Connects">Successful connections (the first and every reconnect).</param>
/// <param name="TelemetryRouted">Telemetry records handed to robot grains.</param>
/// <param name="EventsRouted">Events handed to robot grains.</param>
/// <param name="Published">Commands published (and acknowledged at QoS 1).</param>
/// <param name="PublishFailures">Publish attempts that failed (the message is retried).</param>
/// <param name="Rejected">Dropped inbound messages by reason.</param>
public sealed record BridgeStats(
    bool Connected,
    long Connects,
    long TelemetryRouted,
    long EventsRouted,
    long Published,
    long PublishFailures,
    IReadOnlyDictionary<RejectionReason, long> Rejected)
{
    /// <summary>Escalation requests handed to the escalation route.</summary>
    public long EscalationsRouted { get; init; }

    /// <summary>Messages of other routes (registered by other features) handled.</summary>
    public long OtherRouted { get; init; }

    /// <summary>Messages waiting in the ingress partitions now.</summary>
    public long IngressQueued { get; init; }

    /// <summary>The most messages that ever waited at once (never above <see cref="IngressCapacity"/>).</summary>
    public long IngressHighWater { get; init; }

    /// <summary>Ingress capacity: partitions times capacity per partition.</summary>
    public long IngressCapacity { get; init; }

    /// <summary>Times the receive path waited for room (backpressure applied to the broker).</summary>
    public long BackpressureWaits { get; init; }

    /// <summary>Handled messages whose PUBACK could not be sent (the connection went first; the broker delivers them again).</summary>
    public long AcknowledgeFailures { get; init; }

    /// <summary>Connections on which the broker still had this bridge's session (what it queued meanwhile is delivered).</summary>
    public long SessionsResumed { get; init; }

    /// <summary>Reconnections on which the broker had no session for the bridge any more (expired, or lost by a broker crash): what it held for the bridge is gone.</summary>
    public long SessionsLost { get; init; }

    /// <summary>Rejections of one reason (0 when none).</summary>
    public long RejectedFor(RejectionReason reason) => Rejected.TryGetValue(reason, out var n) ? n : 0;
}

/// <summary>Thread-safe counters behind <see cref="BridgeStats"/>.</summary>
internal sealed class BridgeCounters
{
    private readonly long[] _rejected = new long[Enum.GetValues<RejectionReason>().Length];
    private long _connects;
    private long _telemetry;
    private long _events;
    private long _published;
    private long _publishFailures;
    private long _escalations;
    private long _other;
    private long _backpressure;
    private long _acknowledgeFailures;
    private long _sessionsResumed;
    private long _sessionsLost;

    public void Reject(RejectionReason reason) => Interlocked.Increment(ref _rejected[(int)reason]);

    public void Connected() => Interlocked.Increment(ref _connects);

    public void SessionResumed() => Interlocked.Increment(ref _sessionsResumed);

    public void SessionLost() => Interlocked.Increment(ref _sessionsLost);

    public void Routed(IBridgeRoute route)
    {
        switch (route)
        {
            case TelemetryRoute:
                Interlocked.Increment(ref _telemetry);
                break;
            case EventRoute:
                Interlocked.Increment(ref _events);
                break;
            case EscalationRoute:
                Interlocked.Increment(ref _escalations);
                break;
            default:
                Interlocked.Increment(ref _other);
                break;
        }
    }

    public void BackpressureWait() => Interlocked.Increment(ref _backpressure);

    public void AcknowledgeFailed() => Interlocked.Increment(ref _acknowledgeFailures);

    public void Published() => Interlocked.Increment(ref _published);

    public void PublishFailed() => Interlocked.Increment(ref _publishFailures);

    public BridgeStats Snapshot(bool connected)
    {
        var rejected = new Dictionary<RejectionReason, long>();
        foreach (var reason in Enum.GetValues<RejectionReason>())
        {
            var n = Interlocked.Read(ref _rejected[(int)reason]);
            if (n > 0)
            {
                rejected[reason] = n;
            }
        }

        return new BridgeStats(
            connected,
            Interlocked.Read(ref _connects),
            Interlocked.Read(ref _telemetry),
            Interlocked.Read(ref _events),
            Interlocked.Read(ref _published),
            Interlocked.Read(ref _publishFailures),
            rejected)
        {
            EscalationsRouted = Interlocked.Read(ref _escalations),
            OtherRouted = Interlocked.Read(ref _other),
            BackpressureWaits = Interlocked.Read(ref _backpressure),
            AcknowledgeFailures = Interlocked.Read(ref _acknowledgeFailures),
            SessionsResumed = Interlocked.Read(ref _sessionsResumed),
            SessionsLost = Interlocked.Read(ref _sessionsLost),
        };
    }
}
