using WarehouseHybrid.Planning.Scheduling;

namespace WarehouseHybrid.Planning.Fleet;

/// <summary>Settings of <see cref="PibtFleetPlanner"/>. Checked once by <see cref="Validate"/> when the planner is built.</summary>
public sealed class PlannerOptions
{
    /// <summary>Seed of every random choice (tie-breaks); the same seed and inputs give the same actions.</summary>
    public int Seed { get; set; }

    /// <summary>Memory budget of the distance-table cache in bytes (default 512 MiB).</summary>
    public long DistanceCacheBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Threads used to compute distance tables (PIBT itself is sequential). Default: all cores.</summary>
    public int MaxParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>How the scheduler measures robot-to-task and errand-to-errand distances.</summary>
    public SchedulingDistance SchedulingDistance { get; set; } = SchedulingDistance.Exact;

    /// <summary>Clock for budgets and elapsed times (inject a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (DistanceCacheBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DistanceCacheBytes), DistanceCacheBytes, "PlannerOptions.DistanceCacheBytes must be positive");
        }

        if (MaxParallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxParallelism), MaxParallelism, "PlannerOptions.MaxParallelism must be at least 1");
        }

        if (!Enum.IsDefined(SchedulingDistance))
        {
            throw new ArgumentOutOfRangeException(nameof(SchedulingDistance), SchedulingDistance, "PlannerOptions.SchedulingDistance is not a known mode");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, "PlannerOptions.TimeProvider");
    }
}

/// <summary>Running totals of one planner, for metrics and tests.</summary>
public sealed class PlannerCounters
{
    /// <summary>Calls to PlanStep.</summary>
    public long Steps { get; internal set; }

    /// <summary>Steps answered with the all-wait fallback (budget, cancellation or bad input).</summary>
    public long Fallbacks { get; internal set; }

    /// <summary>Steps whose pose array had the wrong length.</summary>
    public long BadInputs { get; internal set; }

    /// <summary>Robot-steps with an illegal pose (on an obstacle, off the map, sharing a cell): those robots waited.</summary>
    public long IllegalPoses { get; internal set; }

    /// <summary>Errands reached (including last errands).</summary>
    public long ErrandsReached { get; internal set; }

    /// <summary>Tasks finished.</summary>
    public long TasksFinished { get; internal set; }

    /// <summary>Task assignments made (including takeovers).</summary>
    public long Assignments { get; internal set; }
}
