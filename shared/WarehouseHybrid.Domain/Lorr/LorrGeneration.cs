namespace WarehouseHybrid.Domain.Lorr;

/// <summary>Which League of Robot Runners format generation an instance config is written in.</summary>
public enum LorrGeneration
{
    /// <summary>
    /// 2023: no <c>version</c> key, usually <c>taskAssignmentStrategy</c> ("roundrobin"); one errand per
    /// task; the system assigns tasks.
    /// </summary>
    Lorr2023 = 2023,

    /// <summary>2024: <c>"version": "2024 LoRR"</c>; multi-errand tasks assigned by the entrant's scheduler.</summary>
    Lorr2024 = 2024,

    /// <summary>2026: <c>"version": "2026 LoRR"</c>; adds <c>agentCounter</c>, <c>agentSize</c> and <c>delayConfig</c>.</summary>
    Lorr2026 = 2026,
}

/// <summary>How the 2026 delay generator decides that a robot gets delayed.</summary>
public enum DelayEventModel
{
    /// <summary>Each available robot is delayed independently with probability <c>pDelay</c> per tick.</summary>
    Bernoulli = 0,

    /// <summary>Delay events arrive as a Poisson process of rate <c>teamSize * pDelay</c>.</summary>
    Poisson = 1,
}

/// <summary>How the 2026 delay generator draws a delay's length.</summary>
public enum DelayDurationModel
{
    /// <summary>Uniform in [minDelay, maxDelay].</summary>
    Uniform = 0,

    /// <summary>Gaussian placed in [minDelay, maxDelay] by <c>gaussMeanRatio</c> and <c>gaussStdRatio</c>.</summary>
    Gaussian = 1,
}

/// <summary>The 2026 <c>delayConfig</c> block: seeded random robot delays.</summary>
/// <param name="Seed">Seed of the delay generator.</param>
/// <param name="MinDelay">Shortest delay, in execution ticks.</param>
/// <param name="MaxDelay">Longest delay, in execution ticks.</param>
/// <param name="EventModel">How delay events occur.</param>
/// <param name="PDelay">Per-robot delay probability (Bernoulli) or rate factor (Poisson).</param>
/// <param name="DurationModel">How delay lengths are drawn.</param>
/// <param name="GaussMeanRatio">Relative mean inside [minDelay, maxDelay] for the Gaussian model.</param>
/// <param name="GaussStdRatio">Relative standard deviation inside [minDelay, maxDelay] for the Gaussian model.</param>
public sealed record LorrDelayConfig(
    long Seed,
    int MinDelay,
    int MaxDelay,
    DelayEventModel EventModel,
    double PDelay,
    DelayDurationModel DurationModel,
    double GaussMeanRatio,
    double GaussStdRatio);
