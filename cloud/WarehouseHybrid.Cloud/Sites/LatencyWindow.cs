namespace WarehouseHybrid.Cloud.Sites;

/// <summary>
/// The most recent <c>capacity</c> durations with percentiles over them, and the maximum over
/// all samples. Not thread-safe (one owner: the site grain).
/// </summary>
public sealed class LatencyWindow
{
    private readonly double[] _samples;
    private readonly double[] _scratch;
    private int _count;
    private int _next;

    /// <summary>Creates a window of <paramref name="capacity"/> samples.</summary>
    public LatencyWindow(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _samples = new double[capacity];
        _scratch = new double[capacity];
    }

    /// <summary>The last sample in milliseconds (0 before any).</summary>
    public double LastMs { get; private set; }

    /// <summary>The largest sample ever added, in milliseconds.</summary>
    public double MaxMs { get; private set; }

    /// <summary>Samples added in total.</summary>
    public long Total { get; private set; }

    /// <summary>Adds one duration.</summary>
    public void Add(TimeSpan duration)
    {
        var ms = duration.TotalMilliseconds;
        _samples[_next] = ms;
        _next = (_next + 1) % _samples.Length;
        _count = Math.Min(_count + 1, _samples.Length);
        LastMs = ms;
        MaxMs = Math.Max(MaxMs, ms);
        Total++;
    }

    /// <summary>The nearest-rank percentile (0-100) of the window in milliseconds; 0 when empty.</summary>
    public double PercentileMs(double percentile)
    {
        if (_count == 0)
        {
            return 0;
        }

        Array.Copy(_samples, _scratch, _count);
        Array.Sort(_scratch, 0, _count);
        var rank = (int)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * _count);
        return _scratch[Math.Clamp(rank - 1, 0, _count - 1)];
    }
}
