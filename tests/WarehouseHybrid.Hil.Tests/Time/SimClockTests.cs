using WarehouseHybrid.Hil.Time;

namespace WarehouseHybrid.Hil.Tests.Time;

public sealed class SimClockTests
{
    [Fact]
    public void Time_moves_only_when_advanced_and_timers_fire_in_due_order_on_the_way()
    {
        var clock = new SimClock();
        var fired = new List<(string Name, TimeSpan At)>();
        using var periodic = clock.CreateTimer(_ => fired.Add(("p", clock.Elapsed)), null, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20));
        using var once = clock.CreateTimer(_ => fired.Add(("o", clock.Elapsed)), null, TimeSpan.FromMilliseconds(30), Timeout.InfiniteTimeSpan);
        Assert.Equal(TimeSpan.Zero, clock.Elapsed);

        clock.Advance(TimeSpan.FromMilliseconds(65));

        Assert.Equal(TimeSpan.FromMilliseconds(65), clock.Elapsed);
        Assert.Equal([("p", Ms(20)), ("o", Ms(30)), ("p", Ms(40)), ("p", Ms(60))], fired);
    }

    [Fact]
    public void A_changed_or_disposed_timer_does_not_fire_its_old_schedule()
    {
        var clock = new SimClock();
        var count = 0;
        var timer = clock.CreateTimer(_ => count++, null, TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
        timer.Change(TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan);
        clock.Advance(TimeSpan.FromMilliseconds(40));
        Assert.Equal(0, count);
        clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(1, count);
        timer.Change(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        timer.Dispose();
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, count);
    }

    [Fact]
    public void A_skewed_view_offsets_wall_time_but_not_the_monotonic_clock()
    {
        var clock = new SimClock();
        var skewed = new SkewedTimeProvider(clock, TimeSpan.FromSeconds(-2));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromSeconds(2), skewed.GetUtcNow());
        Assert.Equal(clock.GetTimestamp(), skewed.GetTimestamp());
        skewed.Offset = TimeSpan.FromSeconds(3);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(3), skewed.GetUtcNow());
    }

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_pinned_clock_keeps_the_instant_it_was_pinned_at_while_the_source_moves_on()
    {
        var clock = new SimClock();
        clock.Advance(TimeSpan.FromMilliseconds(40));
        var pinned = new PinnedClock(clock);
        var utc = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(TimeSpan.FromMilliseconds(40).Ticks, pinned.GetTimestamp());
        Assert.Equal(utc, pinned.GetUtcNow());
        Assert.Equal(clock.TimestampFrequency, pinned.TimestampFrequency);
        pinned.Pin();
        Assert.Equal(clock.GetTimestamp(), pinned.GetTimestamp());
        Assert.Equal(clock.GetUtcNow(), pinned.GetUtcNow());
        Assert.Throws<NotSupportedException>(() => pinned.CreateTimer(_ => { }, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }
}
