using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

public sealed class ModelHealthTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static TelemetryReport Report(string version, DecisionMode mode, string reason, uint errands, ModelHealth? health = null)
    {
        var t = new Telemetry { RobotId = "r1", ModelVersion = version, DecisionMode = mode, FallbackReason = reason, ErrandsReached = errands, ModelHealth = health };
        return InboundMessage.ToReport(t, "site");
    }

    [Fact]
    public void Telemetry_model_health_and_fallback_reason_reach_the_grain_report()
    {
        var report = Report("1.1.0", DecisionMode.Rule, "input-drift", 0, new ModelHealth { LearnedTicks = 7, FallbackTicks = 3, InferenceP50Us = 12.5f, DriftMaxZ = 3.4, DriftFeature = "lateral_offset", Drifting = true });
        Assert.Equal("input-drift", report.FallbackReason);
        Assert.Equal((7ul, 3ul, 12.5f, 3.4, "lateral_offset", true), (report.ModelHealth!.LearnedTicks, report.ModelHealth.FallbackTicks, report.ModelHealth.InferenceP50Micros, report.ModelHealth.DriftMaxZ, report.ModelHealth.DriftFeature, report.ModelHealth.Drifting));
        Assert.Null(Report("1.1.0", DecisionMode.Learned, string.Empty, 0).ModelHealth);
    }

    [Fact]
    public void Counters_are_kept_per_model_version_and_survive_a_switch_back()
    {
        var tracker = new ModelHealthTracker();
        tracker.Observe(Report("1.0.0", DecisionMode.Learned, string.Empty, 5), T0);
        tracker.Observe(Report("1.0.0", DecisionMode.Rule, "low-confidence", 6), T0.AddSeconds(1));
        tracker.Observe(Report("1.1.0", DecisionMode.Rule, "input-drift", 8), T0.AddSeconds(2));
        tracker.Observe(Report("1.1.0", DecisionMode.Escalated, string.Empty, 2), T0.AddSeconds(3)); // edge restarted: counter went down
        var health = tracker.Snapshot("r1");
        Assert.Equal("1.1.0", health.CurrentVersion);
        var old = health.For("1.0.0")!;
        Assert.Equal((2L, 1L, 1L, 0L, 1L), (old.Samples, old.LearnedSamples, old.FallbackSamples, old.DriftSamples, old.ErrandsReached));
        var next = health.For("1.1.0")!;
        Assert.Equal((2L, 1L, 1L, 1L, 4L), (next.Samples, next.FallbackSamples, next.DriftSamples, next.EscalatedSamples, next.ErrandsReached));
        Assert.Equal(T0.AddSeconds(2), next.FirstSeen);

        tracker.Observe(Report("1.0.0", DecisionMode.Learned, string.Empty, 2), T0.AddSeconds(4));
        Assert.Equal(3, tracker.Snapshot("r1").For("1.0.0")!.Samples);
        Assert.Equal("1.0.0", tracker.Snapshot("r1").CurrentVersion);
    }

    [Fact]
    public void Only_the_last_few_versions_are_kept()
    {
        var tracker = new ModelHealthTracker();
        for (var v = 0; v < ModelHealthTracker.VersionsKept + 2; v++)
        {
            tracker.Observe(Report($"1.{v}.0", DecisionMode.Learned, string.Empty, 0), T0.AddSeconds(v));
        }

        var health = tracker.Snapshot("r1");
        Assert.Equal(ModelHealthTracker.VersionsKept, health.Versions.Count);
        Assert.Null(health.For("1.0.0"));
        Assert.NotNull(health.For($"1.{ModelHealthTracker.VersionsKept + 1}.0"));
    }
}
