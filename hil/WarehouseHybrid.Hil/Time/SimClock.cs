namespace WarehouseHybrid.Hil.Time;

/// <summary>
/// Virtual time for in-process fleets: a <see cref="TimeProvider"/> whose clock moves only when the rig calls
/// <see cref="Advance"/>, so hundreds of edge runtimes, the world and the local site share one deterministic
/// timeline and run as fast as the CPU allows. Timers created on it fire synchronously inside
/// <see cref="Advance"/>, in due-time order (ties in creation order), on the caller's thread.
/// Timestamps are ticks of 100 ns (<see cref="TimestampFrequency"/> = 10^7).
/// </summary>
public sealed class SimClock : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly DateTimeOffset _epoch;
    private readonly PriorityQueue<(SimTimer Timer, long Generation), (long Due, long Order)> _queue = new();
    private long _now;
    private long _order;

    /// <summary>Creates a clock whose wall time starts at <paramref name="epoch"/> (default 2030-01-01 UTC).</summary>
    public SimClock(DateTimeOffset? epoch = null)
    {
        _epoch = epoch ?? new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>Simulated time elapsed since the clock was created.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Volatile.Read(ref _now));

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp() => Volatile.Read(ref _now);

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => _epoch + Elapsed;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Moves the clock forward by <paramref name="delta"/>, firing every timer that falls due on the way.</summary>
    public void Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "virtual time never goes backwards");
        }

        var target = Volatile.Read(ref _now) + delta.Ticks;
        while (true)
        {
            (SimTimer Timer, long Generation) entry;
            lock (_gate)
            {
                if (!_queue.TryPeek(out entry, out var key) || key.Due > target)
                {
                    Volatile.Write(ref _now, target);
                    return;
                }

                _queue.Dequeue();
                Volatile.Write(ref _now, Math.Max(Volatile.Read(ref _now), key.Due));
            }

            entry.Timer.Fire(entry.Generation);
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new SimTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Schedule(SimTimer timer, long generation, long due)
    {
        lock (_gate)
        {
            _queue.Enqueue((timer, generation), (due, _order++));
        }
    }

    private sealed class SimTimer(SimClock clock, TimerCallback callback, object? state) : ITimer
    {
        private long _generation;
        private long _period;
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            long generation;
            lock (this)
            {
                if (_disposed)
                {
                    return false;
                }

                generation = ++_generation;
                _period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : period.Ticks;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }
            }

            clock.Schedule(this, generation, clock.GetTimestamp() + Math.Max(0, dueTime.Ticks));
            return true;
        }

        public void Fire(long generation)
        {
            long period;
            lock (this)
            {
                // A timer changed or disposed after it was queued leaves a stale entry: skip it.
                if (_disposed || generation != _generation)
                {
                    return;
                }

                period = _period;
            }

            if (period > 0)
            {
                clock.Schedule(this, generation, clock.GetTimestamp() + period);
            }

            callback(state);
        }

        public void Dispose()
        {
            lock (this)
            {
                _disposed = true;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// A view of another clock whose wall time is offset (clock skew between a robot and the cloud); its
/// monotonic timestamps and timers are those of the underlying clock, as a skewed real-time clock's would be.
/// </summary>
/// <param name="inner">The true clock.</param>
/// <param name="offset">Added to <see cref="GetUtcNow"/>.</param>
public sealed class SkewedTimeProvider(TimeProvider inner, TimeSpan offset) : TimeProvider
{
    private long _offsetTicks = offset.Ticks;

    /// <summary>The skew (changeable while running: a clock that jumps).</summary>
    public TimeSpan Offset
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
        set => Interlocked.Exchange(ref _offsetTicks, value.Ticks);
    }

    /// <inheritdoc />
    public override long TimestampFrequency => inner.TimestampFrequency;

    /// <inheritdoc />
    public override long GetTimestamp() => inner.GetTimestamp();

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
