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

    public void Reject(RejectionReason reason) => Interlocked.Increment(ref _rejected[(int)reason]);

    public void Connected() => Interlocked.Increment(ref _connects);

    public void TelemetryRouted() => Interlocked.Increment(ref _telemetry);

    public void EventRouted() => Interlocked.Increment(ref _events);

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
            rejected);
    }
}
