namespace WarehouseHybrid.Tests.Common;

/// <summary>
/// Waits for a condition with a deadline, polling every 10 ms and returning as soon as it holds: the one way the
/// tests wait for something (no fixed sleeps). A timeout fails the test naming what was awaited.
/// </summary>
internal static class Eventually
{
    /// <summary>The timeout when a test does not give one.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    /// <summary>Polls <paramref name="probe"/> until <paramref name="done"/> accepts its value; returns that value.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var last = await probe();
            if (done(last))
            {
                return last;
            }

            if (TimeProvider.System.GetElapsedTime(started) > limit)
            {
                throw new Xunit.Sdk.XunitException($"timed out after {limit} waiting for {what}; last value: {last}");
            }

            await Task.Delay(Poll);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds.</summary>
    public static Task WaitForAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        WaitForAsync(() => Task.FromResult(condition()), ok => ok, what, timeout);

    /// <summary>Polls <paramref name="condition"/> until it holds (timeout first, as the edge tests call it).</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) => WaitForAsync(condition, what, timeout);

    /// <summary>Blocks (spinning, then yielding) until <paramref name="condition"/> holds; for tests without async.</summary>
    public static void True(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        if (!SpinWait.SpinUntil(condition, timeoutMs))
        {
            throw new Xunit.Sdk.XunitException($"timed out after {timeoutMs} ms waiting for: {what}");
        }
    }
}
