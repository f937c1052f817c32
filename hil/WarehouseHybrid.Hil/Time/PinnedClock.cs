namespace WarehouseHybrid.Hil.Time;

/// <summary>
/// A <see cref="TimeProvider"/> that reads one instant of a <see cref="SimClock"/>, set by <see cref="Pin"/>, until
/// pinned again: the lock-step fleet's site plans on another thread while the fleet's clock moves on, and must see
/// the time of the world step it plans from, as it did when it planned between steps. No timers.
/// </summary>
public sealed class PinnedClock(SimClock source) : TimeProvider
{
    private long _timestamp = source.GetTimestamp();
    private DateTimeOffset _utc = source.GetUtcNow();

    /// <summary>
    /// Reads the source clock's time now; <see cref="GetTimestamp"/> and <see cref="GetUtcNow"/> return it until the
    /// next pin. Call it while nothing reads this clock (the handover of the work that reads it publishes it).
    /// </summary>
    public void Pin()
    {
        _timestamp = source.GetTimestamp();
        _utc = source.GetUtcNow();
    }

    /// <inheritdoc />
    public override long TimestampFrequency => source.TimestampFrequency;

    /// <inheritdoc />
    public override long GetTimestamp() => _timestamp;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => _utc;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        throw new NotSupportedException("a pinned clock does not move: it has no timers");
}
