namespace WarehouseHybrid.Edge.Control;

/// <summary>Summary of one timing series, microseconds.</summary>
/// <param name="Count">Samples.</param>
/// <param name="MinUs">Smallest.</param>
/// <param name="MaxUs">Largest.</param>
/// <param name="MeanUs">Mean.</param>
/// <param name="P99Us">99th percentile (histogram resolution 10 us up to 100 ms).</param>
public readonly record struct TimingSummary(long Count, double MinUs, double MaxUs, double MeanUs, double P99Us);

/// <summary>
/// A fixed-size latency histogram: min, max, mean and p99 without allocating per sample.
/// Written by one thread; readers get a consistent-enough summary for monitoring.
/// </summary>
public sealed class LatencyHistogram
{
    private const double BucketUs = 10;
    private readonly long[] _buckets = new long[10_000];
    private long _count;
    private double _sumUs;
    private double _minUs = double.PositiveInfinity;
    private double _maxUs;

    /// <summary>Adds one sample.</summary>
    public void Record(TimeSpan value)
    {
        var us = Math.Max(0, value.Ticks / 10.0);
        var index = (int)Math.Min(_buckets.Length - 1, us / BucketUs);
        _buckets[index]++;
        _count++;
        _sumUs += us;
        _minUs = Math.Min(_minUs, us);
        _maxUs = Math.Max(_maxUs, us);
    }

    /// <summary>Summarises the samples so far.</summary>
    public TimingSummary Summary()
    {
        var count = _count;
        if (count == 0)
        {
            return default;
        }

        var rank = (long)Math.Ceiling(count * 0.99);
        long seen = 0;
        var p99 = _maxUs;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
            {
                p99 = Math.Min(_maxUs, (i + 1) * BucketUs);
                break;
            }
        }

        return new TimingSummary(count, _minUs, _maxUs, _sumUs / count, p99);
    }
}
