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
}
