using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Control;

namespace WarehouseHybrid.Edge.Decision;

/// <summary>
/// Builds <see cref="Telemetry.ModelHealth"/> (the cloud's canary comparison, docs/adr/0012) from what the control
/// loop and the decision module already count: learned and fallback ticks of the current model (carried in the
/// <see cref="ControlSample"/>), escalations since it went live, the median and 99th percentile of its last
/// <see cref="RuntimeAssurancePolicy.LatencyWindow"/> inferences and the drift monitor's verdict. Runs on the cloud
/// link's append thread when a record is built (one caller at a time: it reuses one scratch buffer), never on the
/// control thread, which only writes counters and one float per inference.
/// </summary>
public sealed class ModelHealthReporter(RuntimeAssurancePolicy policy)
{
    private readonly RuntimeAssurancePolicy _policy = policy ?? throw new ArgumentNullException(nameof(policy));
    private readonly float[] _scratch = new float[RuntimeAssurancePolicy.LatencyWindow];

    /// <summary>The model health for a record built from <paramref name="sample"/>; null when no learned model is installed.</summary>
    public ModelHealth? Build(ControlSample sample)
    {
        if (string.IsNullOrEmpty(sample.ModelVersion))
        {
            return null; // the proto: absent when the edge has none
        }

        var health = new ModelHealth
        {
            LearnedTicks = sample.ModelLearnedTicks,
            FallbackTicks = sample.ModelFallbackTicks,
            EscalationsSent = (ulong)_policy.EscalationsSinceModel,
        };

        var n = _policy.CopyRecentLatencies(_scratch);
        if (n > 0)
        {
            Array.Sort(_scratch, 0, n);
            health.InferenceP50Us = _scratch[NearestRank(n, 0.50)];
            health.InferenceP99Us = _scratch[NearestRank(n, 0.99)];
        }

        if (_policy.Drift is { } drift && drift.WorstFeature >= 0 && drift.WorstFeature < drift.FeatureNames.Count)
        {
            health.DriftMaxZ = Math.Abs(drift.WorstZ);
            health.DriftFeature = drift.FeatureNames[drift.WorstFeature];
            health.Drifting = drift.InDrift;
        }

        return health;
    }

    private static int NearestRank(int count, double quantile) => Math.Clamp((int)Math.Ceiling(quantile * count) - 1, 0, count - 1);
}
