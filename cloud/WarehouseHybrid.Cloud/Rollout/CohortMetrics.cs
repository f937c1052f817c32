namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>One cohort's numbers over a rollout's window (canary: on the new version; baseline: on its own version).</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.CohortMetrics")]
public sealed record CohortMetrics
{
    /// <summary>Robots in the cohort.</summary>
    [Id(0)] public int Robots { get; init; }

    /// <summary>Robots that reported in the window (canary: running the new version).</summary>
    [Id(1)] public int Reporting { get; init; }

    /// <summary>Telemetry records in the window.</summary>
    [Id(2)] public long Samples { get; init; }

    /// <summary>Records decided by the rule policy or the shield.</summary>
    [Id(3)] public long FallbackSamples { get; init; }

    /// <summary>Records flagged as drifting.</summary>
    [Id(4)] public long DriftSamples { get; init; }

    /// <summary>Records with an inference latency.</summary>
    [Id(5)] public long LatencyReports { get; init; }

    /// <summary>Sum of the reported inference medians (microseconds).</summary>
    [Id(6)] public double LatencySumMicros { get; init; }

    /// <summary>Errands reached.</summary>
    [Id(7)] public long Errands { get; init; }

    /// <summary>Robot-seconds observed (sum over robots of the time between their first and last record in the window).</summary>
    [Id(8)] public double RobotSeconds { get; init; }

    /// <summary>Learned-policy ticks (from model_health, when the edge reports it).</summary>
    [Id(9)] public long LearnedTicks { get; init; }

    /// <summary>Fallback ticks (from model_health).</summary>
    [Id(10)] public long FallbackTicks { get; init; }

    /// <summary>Share of telemetry records whose decision fell back.</summary>
    public double FallbackRate => Samples == 0 ? 0 : (double)FallbackSamples / Samples;

    /// <summary>Share of control ticks that fell back (the edge's model_health counters), NaN when none were reported.</summary>
    public double TickFallbackRate => LearnedTicks + FallbackTicks > 0 ? (double)FallbackTicks / (LearnedTicks + FallbackTicks) : double.NaN;

    /// <summary>Share of records flagged as drifting.</summary>
    public double DriftRate => Samples == 0 ? 0 : (double)DriftSamples / Samples;

    /// <summary>Mean inference median, microseconds (NaN without reports).</summary>
    public double InferenceMicros => LatencyReports == 0 ? double.NaN : LatencySumMicros / LatencyReports;

    /// <summary>Errands per robot-hour (NaN without observed time).</summary>
    public double ErrandsPerRobotHour => RobotSeconds <= 0 ? double.NaN : Errands * 3600.0 / RobotSeconds;
}

/// <summary>
/// Accumulates a cohort's increments between polls of its robots' <see cref="RobotModelHealth"/> (in memory: after a
/// reactivation the window restarts from the next poll, which only makes the minimum sample sizes take longer).
/// </summary>
public sealed class CohortAccumulator
{
    private readonly Dictionary<string, ModelVersionHealth> _last = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reporting = new(StringComparer.Ordinal);
    private CohortMetrics _total = new();

    /// <summary>Creates an accumulator for a cohort of <paramref name="robots"/> robots.</summary>
    public CohortAccumulator(int robots) => _total = new CohortMetrics { Robots = robots };

    /// <summary>The totals so far.</summary>
    public CohortMetrics Total => _total with { Reporting = _reporting.Count };

    /// <summary>
    /// Adds the increments of one robot's counters for the version it is measured on. When
    /// <paramref name="countFromZero"/> (a canary's new version, whose counters began at install) the first observation
    /// counts whole; otherwise (a baseline robot's long-running version) it only sets the starting point.
    /// </summary>
    public void Observe(string robotId, ModelVersionHealth? current, bool countFromZero)
    {
        if (current is null)
        {
            return;
        }

        var had = _last.TryGetValue(robotId, out var previous);
        _last[robotId] = current;
        if (!had && !countFromZero)
        {
            return;
        }

        // A counter that went down (robot restarted, or the version's entry was recreated) counts from zero.
        var from = previous is not null && previous.Version == current.Version && previous.Samples <= current.Samples ? previous : null;
        long D(long now, long? before) => before is { } b && b <= now ? now - b : now;
        var samples = D(current.Samples, from?.Samples);
        if (samples == 0)
        {
            return;
        }

        _reporting.Add(robotId);
        var seconds = from is null ? (current.LastSeen - current.FirstSeen).TotalSeconds : (current.LastSeen - from.LastSeen).TotalSeconds;
        var ticksFrom = from is not null && from.LearnedTicks <= current.LearnedTicks && from.FallbackTicks <= current.FallbackTicks ? from : null;
        _total = _total with
        {
            Samples = _total.Samples + samples,
            FallbackSamples = _total.FallbackSamples + D(current.FallbackSamples, from?.FallbackSamples),
            DriftSamples = _total.DriftSamples + D(current.DriftSamples, from?.DriftSamples),
            LatencyReports = _total.LatencyReports + D(current.InferenceReports, from?.InferenceReports),
            LatencySumMicros = _total.LatencySumMicros + Math.Max(0, current.InferenceP50SumMicros - (from?.InferenceP50SumMicros ?? 0)),
            Errands = _total.Errands + D(current.ErrandsReached, from?.ErrandsReached),
            RobotSeconds = _total.RobotSeconds + Math.Max(0, seconds),
            LearnedTicks = _total.LearnedTicks + (long)(current.LearnedTicks - (ticksFrom?.LearnedTicks ?? 0)),
            FallbackTicks = _total.FallbackTicks + (long)(current.FallbackTicks - (ticksFrom?.FallbackTicks ?? 0)),
        };
    }
}
