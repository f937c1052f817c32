using CsCheck;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Decision;

namespace WarehouseHybrid.Edge.Tests.Decision;

public sealed class DriftMonitorTests
{
    private const int Features = 6;

    private static DriftMonitor Monitor(int window = 40) =>
        new(Enumerable.Range(0, Features).Select(i => new FeatureStatistics { Name = $"f{i}", Mean = i * 0.1, StdDev = 0.2 }).ToList(), window, 3.0);

    [Fact]
    public void Inputs_drawn_around_the_training_means_never_drift()
    {
        Gen.Int[0, 1000].Sample(seed =>
        {
            var random = new Random(seed);
            var monitor = Monitor();
            var row = new float[Features];
            for (var t = 0; t < 200; t++)
            {
                for (var i = 0; i < Features; i++)
                {
                    row[i] = (float)((i * 0.1) + ((random.NextDouble() * 2 - 1) * 0.3)); // uniform, std 0.17 < 0.2
                }

                monitor.Observe(row);
                Assert.False(monitor.InDrift, monitor.Describe());
            }
        }, iter: 30);
    }

    [Fact]
    public void A_single_feature_shifted_past_the_threshold_is_flagged_by_name()
    {
        Gen.Select(Gen.Int[0, Features - 1], Gen.Double[0.7, 2.0], Gen.Bool).Sample((feature, shift, down) =>
        {
            var monitor = Monitor();
            var row = Enumerable.Range(0, Features).Select(i => (float)(i * 0.1)).ToArray();
            row[feature] += (float)(down ? -shift : shift); // >= 3.5 standard deviations
            var changes = 0;
            for (var t = 0; t < 40; t++)
            {
                changes += monitor.Observe(row) ? 1 : 0;
            }

            Assert.True(monitor.InDrift);
            Assert.Equal(1, changes);
            Assert.Equal(feature, monitor.WorstFeature);
            Assert.Contains($"feature 'f{feature}'", monitor.Describe(), StringComparison.Ordinal);
        }, iter: 100);
    }

    // Range features as the shipped driving policy's manifest states them: distance / 4 m, trained on 0.3-4 m.
    private static DriftMonitor RangeMonitor(int window = 200) =>
        new(Enumerable.Range(0, Features).Select(i => new FeatureStatistics { Name = $"range_{i}", Mean = 0.7, StdDev = 0.33, Min = 0.075, Max = 1.0 }).ToList(), window, 3.0);

    private static void FillRanges(Random random, float[] row, double scale)
    {
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = (float)(Math.Min(4.0, (0.3 + (random.NextDouble() * 3.7)) * scale) / 4.0);
        }
    }

    [Fact]
    public void Range_readings_scaled_by_a_tenth_are_flagged_within_a_window_though_their_z_score_stays_under_the_threshold()
    {
        Gen.Int[0, 1000].Sample(seed =>
        {
            var random = new Random(seed);
            var monitor = RangeMonitor();
            var row = new float[Features];
            for (var t = 0; t < 400; t++)
            {
                FillRanges(random, row, 1.0);
                monitor.Observe(row);
                Assert.False(monitor.InDrift, monitor.Describe());
            }

            var flaggedAfter = -1;
            for (var t = 0; t < 200 && flaggedAfter < 0; t++)
            {
                FillRanges(random, row, 0.1);
                if (monitor.Observe(row) && monitor.InDrift)
                {
                    flaggedAfter = t + 1;
                }
            }

            // Distances spread evenly over 0.3-4 m put about 55 % of the scaled readings below the training minimum
            // (0.3 m) less the margin: more than half of the 200-tick window is out of range within one window (4 s at
            // 50 Hz); a real aisle, with shelves close to the sides, has more.
            Assert.InRange(flaggedAfter, 1, 200);
            Assert.InRange(Math.Abs(monitor.WorstZ), 0, 3.0); // the mean test alone is blind to this
            Assert.Contains("outside the training range", monitor.Describe(), StringComparison.Ordinal);
            Assert.StartsWith("range_", monitor.FeatureNames[monitor.WorstOutOfRangeFeature], StringComparison.Ordinal);

            for (var t = 0; t < 200; t++)
            {
                FillRanges(random, row, 1.0);
                monitor.Observe(row);
            }

            Assert.False(monitor.InDrift, monitor.Describe()); // the sensor recovered: the window is in range again
        }, iter: 20);
    }

    [Fact]
    public void Inputs_spread_over_the_whole_training_range_never_drift_by_range()
    {
        Gen.Int[0, 1000].Sample(seed =>
        {
            var random = new Random(seed);
            var monitor = RangeMonitor(window: 50);
            var row = new float[Features];
            for (var t = 0; t < 300; t++)
            {
                for (var i = 0; i < Features; i++)
                {
                    row[i] = (float)(0.075 + (random.NextDouble() * 0.925));
                }

                monitor.Observe(row);
                Assert.False(monitor.InDrift, monitor.Describe());
                Assert.Equal(0, monitor.WorstOutOfRangeShare);
            }
        }, iter: 20);
    }

    [Fact]
    public void Non_finite_inputs_count_as_drift_until_they_leave_the_window()
    {
        var monitor = Monitor(window: 10);
        var row = Enumerable.Range(0, Features).Select(i => (float)(i * 0.1)).ToArray();
        for (var t = 0; t < 10; t++)
        {
            monitor.Observe(row);
        }

        row[2] = float.NaN;
        monitor.Observe(row);
        Assert.True(monitor.InDrift);
        row[2] = 0.2f;
        for (var t = 0; t < 10; t++)
        {
            monitor.Observe(row);
        }

        Assert.False(monitor.InDrift);
    }

    /// <summary>Training statistics with a decile-like histogram of a uniform distribution on [0, 1): 10 equal bins.</summary>
    private static DriftMonitor PsiMonitor(int psiWindow = 400, double threshold = 0.25)
    {
        var stats = Enumerable.Range(0, Features).Select(i =>
        {
            var s = new FeatureStatistics { Name = $"f{i}", Mean = 0.5, StdDev = 0.29 };
            s.HistogramUpperEdges.AddRange(Enumerable.Range(1, 9).Select(b => b / 10.0));
            s.HistogramFractions.AddRange(Enumerable.Repeat(0.1, 10));
            return s;
        }).ToList();
        return new DriftMonitor(stats, 40, 3.0, psiWindow, threshold);
    }

    [Fact]
    public void Inputs_drawn_from_the_training_histogram_keep_every_psi_small()
    {
        Gen.Int[0, 1000].Sample(seed =>
        {
            var random = new Random(seed);
            var monitor = PsiMonitor();
            var row = new float[Features];
            for (var t = 0; t < 800; t++)
            {
                for (var i = 0; i < Features; i++)
                {
                    row[i] = (float)random.NextDouble();
                }

                Assert.False(monitor.ObservePsi(row));
            }

            Assert.True(monitor.HasPsi);
            Assert.All(Enumerable.Range(0, Features), i => Assert.InRange(monitor.Psi(i), 0, 0.1));
        }, iter: 20);
    }

    [Fact]
    public void A_feature_whose_distribution_shifts_raises_the_psi_alert_by_name_and_it_clears_when_the_distribution_returns()
    {
        var random = new Random(3);
        var monitor = PsiMonitor();
        var row = new float[Features];
        var changes = new List<bool>();
        for (var t = 0; t < 2400; t++)
        {
            for (var i = 0; i < Features; i++)
            {
                row[i] = (float)random.NextDouble();
            }

            if (t is >= 400 and < 1200)
            {
                row[4] = (float)(0.8 + (random.NextDouble() * 0.2)); // all mass in the two top bins
            }

            if (monitor.ObservePsi(row))
            {
                changes.Add(monitor.PsiAlert);
                if (monitor.PsiAlert)
                {
                    Assert.Equal(4, monitor.WorstPsiFeature);
                    Assert.Contains("feature 'f4' PSI", monitor.DescribePsi(), StringComparison.Ordinal);
                }
            }
        }

        Assert.Equal([true, false], changes);
        Assert.InRange(monitor.Psi(4), 0, 0.1);
    }

    [Fact]
    public void Without_training_histograms_psi_is_not_measured()
    {
        var monitor = new DriftMonitor(Enumerable.Range(0, Features).Select(i => new FeatureStatistics { Name = $"f{i}", Mean = 0, StdDev = 1 }).ToList(), 40, 3.0, 400, 0.25);
        Assert.False(monitor.HasPsi);
        Assert.False(monitor.ObservePsi(new float[Features]));
        Assert.True(double.IsNaN(monitor.Psi(0)));
    }

    [Fact]
    public void Psi_bookkeeping_allocates_nothing_per_tick()
    {
        var monitor = PsiMonitor(psiWindow: 100);
        var row = Enumerable.Repeat(0.5f, Features).ToArray();
        for (var t = 0; t < 150; t++)
        {
            monitor.ObservePsi(row);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var t = 0; t < 1000; t++)
        {
            row[t % Features] = (t % 10) / 10f;
            monitor.Observe(row);
            if (monitor.ObservePsi(row))
            {
                break;
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
