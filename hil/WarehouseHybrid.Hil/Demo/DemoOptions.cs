namespace WarehouseHybrid.Hil.Demo;

/// <summary>Settings of the one-command demo (all have embedded defaults).</summary>
public sealed record DemoOptions
{
    /// <summary>Number of simulated robots.</summary>
    public int Robots { get; init; } = 20;

    /// <summary>A .map file; null picks the kit's warehouse_small.map, or a generated warehouse if the kit is absent.</summary>
    public string? MapFile { get; init; }

    /// <summary>Stop after this long; null runs until Ctrl+C.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Stop as soon as this many tasks are finished (null: no such limit); <see cref="Duration"/> still bounds the run.</summary>
    public long? StopAfterTasks { get; init; }

    /// <summary>Seed for start cells and generated tasks.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Open tasks kept in the pool, as a multiple of the robot count (LoRR's numTasksReveal).</summary>
    public double TasksRevealed { get; init; } = 1.5;

    /// <summary>Errands per generated task.</summary>
    public int ErrandsPerTask { get; init; } = 2;

    /// <summary>Edge control loop rate.</summary>
    public int ControlRateHz { get; init; } = 50;

    /// <summary>How often progress is printed.</summary>
    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Planning budget per step.</summary>
    public TimeSpan PlanBudget { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Robot speed limit (m/s, 1 m cells): demo robots are nimble so tasks finish in seconds.</summary>
    public double MaxLinearMps { get; init; } = 3.0;

    /// <summary>How many of the robots run as real edge daemon processes over socat pseudo-terminals (the rest in-process).</summary>
    public int Daemons { get; init; }

    /// <summary>Faults to inject live, each "kind:robot@start[-end]" (see <see cref="DemoFaults.Parse"/>).</summary>
    public IReadOnlyList<string> Faults { get; init; } = [];

    /// <summary>Robot turn-rate limit (rad/s).</summary>
    public double MaxAngularRadps { get; init; } = 8.0;
}
