using System.Globalization;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Edge.Decision;

/// <summary>
/// Compares the live model inputs with the training statistics shipped in the manifest: over a sliding window
/// of the latest ticks, the z-score of each feature's window mean against the training mean and standard
/// deviation. Drift starts when any |z| exceeds the threshold (after half a window of samples) and ends when
/// every |z| is back under 80 % of it (hysteresis). Allocation-free per tick.
/// </summary>
public sealed class DriftMonitor
{
    /// <summary>Standard deviations below this (constant features) are raised to it.</summary>
    public const double MinStdDev = 0.02;

    /// <summary>Non-finite inputs enter the window as this value (certain drift until they leave it).</summary>
    private const double NonFiniteSentinel = 1e6;

    private readonly int _features;
    private readonly int _window;
    private readonly double _threshold;
    private readonly double[] _mean;
    private readonly double[] _std;
    private readonly string[] _names;
    private readonly double[] _ring;
    private readonly double[] _sums;
    private int _next;
    private int _count;

    /// <summary>Creates a monitor for the manifest's statistics.</summary>
    public DriftMonitor(IReadOnlyList<FeatureStatistics> statistics, int window, double zThreshold)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(zThreshold);
        _features = statistics.Count;
        _window = window;
        _threshold = zThreshold;
        _mean = new double[_features];
        _std = new double[_features];
        _names = new string[_features];
        for (var i = 0; i < _features; i++)
        {
            _mean[i] = statistics[i].Mean;
            _std[i] = Math.Max(MinStdDev, statistics[i].StdDev);
            _names[i] = statistics[i].Name;
        }

        _ring = new double[_features * window];
        _sums = new double[_features];
        WorstFeature = -1;
    }

    /// <summary>Whether the inputs are out of distribution.</summary>
    public bool InDrift { get; private set; }

    /// <summary>The feature with the largest |z| at the latest observation (-1 before judging).</summary>
    public int WorstFeature { get; private set; }

    /// <summary>Its z-score.</summary>
    public double WorstZ { get; private set; }

    /// <summary>Samples in the window.</summary>
    public int Count => _count;

    /// <summary>Drift episodes started so far.</summary>
    public long DriftEpisodes { get; private set; }

    /// <summary>Adds one tick's features; true when <see cref="InDrift"/> changed.</summary>
    public bool Observe(ReadOnlySpan<float> features)
    {
        if (features.Length < _features)
        {
            throw new ArgumentException($"{features.Length} features observed, {_features} expected", nameof(features));
        }

        var slot = _next * _features;
        var full = _count == _window;
        for (var i = 0; i < _features; i++)
        {
            var x = float.IsFinite(features[i]) ? features[i] : NonFiniteSentinel;
            if (full)
            {
                _sums[i] -= _ring[slot + i];
            }

            _ring[slot + i] = x;
            _sums[i] += x;
        }

        _next = (_next + 1) % _window;
        if (!full)
        {
            _count++;
        }

        if (_count * 2 < _window)
        {
            return false;
        }

        var worst = 0;
        var worstZ = 0.0;
        for (var i = 0; i < _features; i++)
        {
            var z = ZScore(i);
            if (Math.Abs(z) > Math.Abs(worstZ))
            {
                worstZ = z;
                worst = i;
            }
        }

        WorstFeature = worst;
        WorstZ = worstZ;
        var drifting = InDrift ? Math.Abs(worstZ) > _threshold * 0.8 : Math.Abs(worstZ) > _threshold;
        if (drifting == InDrift)
        {
            return false;
        }

        InDrift = drifting;
        if (drifting)
        {
            DriftEpisodes++;
        }

        return true;
    }

    /// <summary>The z-score of feature <paramref name="feature"/>'s window mean.</summary>
    public double ZScore(int feature) => _count == 0 ? 0 : ((_sums[feature] / _count) - _mean[feature]) / _std[feature];

    /// <summary>A sentence naming the worst feature and its numbers (allocates: call on transitions only).</summary>
    public string Describe()
    {
        if (WorstFeature < 0)
        {
            return "not enough samples";
        }

        var i = WorstFeature;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"feature '{_names[i]}' window mean {_sums[i] / _count:G4} over {_count} ticks is z={WorstZ:F2} from training mean {_mean[i]:G4} (std {_std[i]:G4}), threshold {_threshold:G3}");
    }
}
