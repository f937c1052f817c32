using System.Globalization;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Edge.Decision;

/// <summary>
/// Compares the live model inputs with the training statistics shipped in the manifest: over a sliding window
/// of the latest ticks, the z-score of each feature's window mean against the training mean and standard
/// deviation, and the share of the window's samples that lie outside the feature's training range [min, max]
/// (widened by <see cref="RangeMargin"/> training standard deviations). Drift starts when any |z| exceeds the threshold or any
/// feature has more than <see cref="OutOfRangeShare"/> of its samples out of range (after half a window of samples),
/// and ends when every |z| is back under 80 % of the threshold and every share under 80 % of its limit (hysteresis);
/// it gates the learned policy. The range test is what sees a scaled sensor: range readings ten times too near move
/// a window mean by only about two training standard deviations (z about -1.9 on the shipped model), but put nearly
/// every reading below the nearest distance the model was trained on. When the manifest carries training
/// histograms, a second, longer window measures the population stability index (PSI) per feature against them, for
/// metrics and an alert with the same hysteresis (<see cref="ObservePsi"/>): PSI watches the distribution, not just
/// the mean, but over seconds of driving a robot sees a narrow slice of the training situations, so it informs the
/// cloud rather than gating. Allocation-free per tick.
/// </summary>
public sealed class DriftMonitor
{
    /// <summary>Bin shares below this are raised to it in the PSI sum (an empty bin would make it infinite).</summary>
    public const double PsiFloor = 1e-4;

    /// <summary>Standard deviations below this (constant features) are raised to it.</summary>
    public const double MinStdDev = 0.02;

    /// <summary>A feature drifts when more than this share of the window's samples lie outside its training range.</summary>
    public const double OutOfRangeShare = 0.5;

    /// <summary>
    /// The training range is widened by this many training standard deviations on each side before a sample counts as
    /// out of it: little, because a range feature's training minimum is the body's radius (nothing can be nearer), so a
    /// wide margin would hide exactly the readings that are impossible.
    /// </summary>
    public const double RangeMargin = 0.05;

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
    private readonly double[] _low; // the widened training range; NaN bounds where the manifest gives none
    private readonly double[] _high;
    private readonly bool[] _outRing;
    private readonly int[] _outCounts;
    private readonly double[][]? _edges;
    private readonly double[][]? _expected;
    private readonly int[][]? _binCounts;
    private readonly byte[]? _binRing;
    private readonly double[] _psi;
    private readonly int _psiWindow;
    private readonly double _psiThreshold;
    private int _psiNext;
    private int _psiCount;
    private int _psiSinceJudged;

    /// <summary>Creates a monitor for the manifest's statistics (z-scores only).</summary>
    public DriftMonitor(IReadOnlyList<FeatureStatistics> statistics, int window, double zThreshold)
        : this(statistics, window, zThreshold, 0, 0)
    {
    }

    /// <summary>Creates a monitor; with <paramref name="psiWindow"/> &gt; 0 and training histograms in the statistics it also measures PSI.</summary>
    public DriftMonitor(IReadOnlyList<FeatureStatistics> statistics, int window, double zThreshold, int psiWindow, double psiThreshold)
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
        _low = new double[_features];
        _high = new double[_features];
        for (var i = 0; i < _features; i++)
        {
            var (min, max) = (statistics[i].Min, statistics[i].Max);
            var margin = RangeMargin * _std[i];
            (_low[i], _high[i]) = max > min ? (min - margin, max + margin) : (double.NaN, double.NaN); // no range: not judged
        }

        _outRing = new bool[_features * window];
        _outCounts = new int[_features];
        WorstFeature = -1;
        _psi = new double[_features];
        _psiThreshold = psiThreshold;
        WorstPsiFeature = -1;
        if (psiWindow >= 2 && statistics.All(HasHistogram))
        {
            _psiWindow = psiWindow;
            _edges = new double[_features][];
            _expected = new double[_features][];
            _binCounts = new int[_features][];
            _binRing = new byte[_features * psiWindow];
            for (var i = 0; i < _features; i++)
            {
                _edges[i] = [.. statistics[i].HistogramUpperEdges];
                _expected[i] = [.. statistics[i].HistogramFractions];
                _binCounts[i] = new int[_expected[i].Length];
            }
        }
    }

    /// <summary>Whether PSI is measured (the manifest has training histograms and a PSI window is configured).</summary>
    public bool HasPsi => _binCounts is not null;

    /// <summary>Whether the PSI alert is on (some feature's PSI above the threshold).</summary>
    public bool PsiAlert { get; private set; }

    /// <summary>The feature with the largest PSI at the latest judgement (-1 before one).</summary>
    public int WorstPsiFeature { get; private set; }

    /// <summary>Feature names in vector order.</summary>
    public IReadOnlyList<string> FeatureNames => _names;

    /// <summary>
    /// The PSI of feature <paramref name="feature"/> over the PSI window at the latest judgement (NaN when PSI is not
    /// measured or not judged yet). Readable from another thread (metrics).
    /// </summary>
    public double Psi(int feature) => HasPsi && WorstPsiFeature >= 0 ? Volatile.Read(ref _psi[feature]) : double.NaN;

    /// <summary>Whether a statistic carries a usable histogram (one more fraction than edges).</summary>
    public static bool HasHistogram(FeatureStatistics statistic) =>
        statistic is not null && statistic.HistogramFractions.Count > 0 && statistic.HistogramFractions.Count == statistic.HistogramUpperEdges.Count + 1 && statistic.HistogramFractions.Count <= 255;

    /// <summary>Whether the inputs are out of distribution.</summary>
    public bool InDrift { get; private set; }

    /// <summary>The feature with the largest |z| at the latest observation (-1 before judging).</summary>
    public int WorstFeature { get; private set; }

    /// <summary>Its z-score.</summary>
    public double WorstZ { get; private set; }

    /// <summary>The feature with the largest share of samples outside its training range at the latest observation (-1 before judging).</summary>
    public int WorstOutOfRangeFeature { get; private set; } = -1;

    /// <summary>That share of the window (0 to 1).</summary>
    public double WorstOutOfRangeShare { get; private set; }

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
                _outCounts[i] -= _outRing[slot + i] ? 1 : 0;
            }

            _ring[slot + i] = x;
            _sums[i] += x;
            var outside = x < _low[i] || x > _high[i]; // false for NaN bounds
            _outRing[slot + i] = outside;
            _outCounts[i] += outside ? 1 : 0;
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

        var worstOut = 0;
        for (var i = 1; i < _features; i++)
        {
            if (_outCounts[i] > _outCounts[worstOut])
            {
                worstOut = i;
            }
        }

        var share = _outCounts[worstOut] / (double)_count;
        WorstFeature = worst;
        WorstZ = worstZ;
        WorstOutOfRangeFeature = worstOut;
        WorstOutOfRangeShare = share;
        var drifting = InDrift
            ? Math.Abs(worstZ) > _threshold * 0.8 || share > OutOfRangeShare * 0.8
            : Math.Abs(worstZ) > _threshold || share > OutOfRangeShare;
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

    /// <summary>
    /// Adds one tick's features to the PSI window and, every quarter window once it is full, recomputes each feature's
    /// PSI; true when <see cref="PsiAlert"/> changed (then <see cref="DescribePsi"/> says why). No-op without PSI.
    /// </summary>
    public bool ObservePsi(ReadOnlySpan<float> features)
    {
        if (_binCounts is null)
        {
            return false;
        }

        var slot = _psiNext * _features;
        var full = _psiCount == _psiWindow;
        for (var i = 0; i < _features; i++)
        {
            var bin = Bin(_edges![i], features[i]);
            if (full)
            {
                _binCounts[i][_binRing![slot + i]]--;
            }

            _binRing![slot + i] = (byte)bin;
            _binCounts[i][bin]++;
        }

        _psiNext = (_psiNext + 1) % _psiWindow;
        if (!full)
        {
            _psiCount++;
        }

        if (_psiCount < _psiWindow || ++_psiSinceJudged < Math.Max(1, _psiWindow / 4))
        {
            return false;
        }

        _psiSinceJudged = 0;
        var worst = 0;
        var worstPsi = 0.0;
        for (var i = 0; i < _features; i++)
        {
            var psi = 0.0;
            var counts = _binCounts[i];
            var expected = _expected![i];
            for (var b = 0; b < counts.Length; b++)
            {
                var a = Math.Max(PsiFloor, counts[b] / (double)_psiCount);
                var e = Math.Max(PsiFloor, expected[b]);
                psi += (a - e) * Math.Log(a / e);
            }

            Volatile.Write(ref _psi[i], psi);
            if (psi > worstPsi)
            {
                worstPsi = psi;
                worst = i;
            }
        }

        WorstPsiFeature = worst;
        var alert = PsiAlert ? worstPsi > _psiThreshold * 0.8 : worstPsi > _psiThreshold;
        if (alert == PsiAlert || _psiThreshold <= 0)
        {
            return false;
        }

        PsiAlert = alert;
        return true;
    }

    /// <summary>A sentence naming the feature with the largest PSI (allocates: call on transitions only).</summary>
    public string DescribePsi()
    {
        if (WorstPsiFeature < 0)
        {
            return "PSI not judged yet";
        }

        var i = WorstPsiFeature;
        return string.Create(CultureInfo.InvariantCulture, $"feature '{_names[i]}' PSI {_psi[i]:F3} over {_psiCount} ticks against the training histogram, threshold {_psiThreshold:G3}");
    }

    /// <summary>The z-score of feature <paramref name="feature"/>'s window mean.</summary>
    public double ZScore(int feature) => _count == 0 ? 0 : ((_sums[feature] / _count) - _mean[feature]) / _std[feature];

    private static int Bin(double[] upperEdges, float value)
    {
        if (!float.IsFinite(value))
        {
            return upperEdges.Length; // the last bin: non-finite inputs are as far out as it gets
        }

        var lo = 0;
        var hi = upperEdges.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (value <= upperEdges[mid])
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo;
    }

    /// <summary>A sentence naming the worst feature and its numbers (allocates: call on transitions only).</summary>
    public string Describe()
    {
        if (WorstFeature < 0)
        {
            return "not enough samples";
        }

        var i = WorstFeature;
        var o = WorstOutOfRangeFeature;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"feature '{_names[i]}' window mean {_sums[i] / _count:G4} over {_count} ticks is z={WorstZ:F2} from training mean {_mean[i]:G4} (std {_std[i]:G4}), threshold {_threshold:G3}; " +
            $"feature '{_names[o]}' has {WorstOutOfRangeShare:P0} of its samples outside the training range [{_low[o]:G4}, {_high[o]:G4}] (margin included), limit {OutOfRangeShare:P0}");
    }
}
