namespace WarehouseHybrid.Hil.Demo;

/// <summary>What a demo run achieved and whether everything shut down.</summary>
public sealed record DemoResult
{
    /// <summary>0 on success, 2 when a safety invariant was violated, 1 on a start-up failure.</summary>
    public int ExitCode { get; init; }

    /// <summary>Robots simulated.</summary>
    public int Robots { get; init; }

    /// <summary>Wall time the fleet ran.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Site steps completed.</summary>
    public uint Steps { get; init; }

    /// <summary>Tasks finished (last errand reached).</summary>
    public long TasksFinished { get; init; }

    /// <summary>Tasks finished per site step.</summary>
    public double ThroughputPerStep { get; init; }

    /// <summary>Plan time p50 in ms.</summary>
    public double PlanP50Ms { get; init; }

    /// <summary>Plan time p99 in ms.</summary>
    public double PlanP99Ms { get; init; }

    /// <summary>Invariant violations seen by the world (collisions, obstacle entries...).</summary>
    public long Violations { get; init; }

    /// <summary>The first violation, if any.</summary>
    public string? FirstViolation { get; init; }

    /// <summary>Telemetry messages the cloud accepted.</summary>
    public long TelemetryAccepted { get; init; }

    /// <summary>Plan segments the robots received.</summary>
    public long SegmentsReceived { get; init; }

    /// <summary>Every edge runtime stopped within its timeout.</summary>
    public bool EdgesStopped { get; init; }

    /// <summary>The world driver stopped.</summary>
    public bool WorldStopped { get; init; }

    /// <summary>The silo host stopped.</summary>
    public bool CloudStopped { get; init; }

    /// <summary>The broker stopped.</summary>
    public bool BrokerStopped { get; init; }

    /// <summary>Every component shut down cleanly.</summary>
    public bool CleanShutdown => EdgesStopped && WorldStopped && CloudStopped && BrokerStopped;
}
