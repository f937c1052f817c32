using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Fleet;

/// <summary>How a lock-step in-process fleet is built and paced.</summary>
public sealed record FleetOptions
{
    /// <summary>Number of robots.</summary>
    public int Robots { get; init; } = 20;

    /// <summary>Seed for start cells, tasks, sensor and serial noise.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>World step (also the board pump period); the control and sensor periods must be multiples of it.</summary>
    public TimeSpan WorldStep { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Edge control loop rate (50-100 Hz).</summary>
    public int ControlRateHz { get; init; } = 50;

    /// <summary>Board sensor frame period.</summary>
    public TimeSpan SensorPeriod { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How often the local site reads progress and plans (virtual time).</summary>
    public TimeSpan SitePollPeriod { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Open tasks kept in the pool, as a multiple of the robot count.</summary>
    public double TasksRevealed { get; init; } = 1.5;

    /// <summary>Errands per generated task.</summary>
    public int ErrandsPerTask { get; init; } = 2;

    /// <summary>The site's confirm timeout (virtual time).</summary>
    public TimeSpan ConfirmTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Robot top speed the edge plans with (m/s); the world's motors allow 25 % more.</summary>
    public double MaxLinearMps { get; init; } = 2.0;

    /// <summary>Robot top turn rate the edge plans with (rad/s).</summary>
    public double MaxAngularRadps { get; init; } = 4.0;

    /// <summary>Worker threads for the per-robot phases (boards, edges); 1 runs everything on the caller's thread.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Whether a local site (cycle + optimizer) drives the fleet; false leaves plans to the caller.</summary>
    public bool WithSite { get; init; } = true;

    /// <summary>Changes applied to each robot's edge options after the defaults (scenario overrides).</summary>
    public Action<int, EdgeOptions>? ConfigureEdge { get; init; }

    /// <summary>Changes applied to the world options after the defaults.</summary>
    public Func<SimWorldOptions, SimWorldOptions>? ConfigureWorld { get; init; }

    /// <summary>Explicit start cells (one per robot); null picks seeded random free cells.</summary>
    public IReadOnlyList<int>? StartCells { get; init; }

    /// <summary>Start heading of every robot.</summary>
    public Heading StartHeading { get; init; } = Heading.East;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (Robots < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Robots), Robots, "FleetOptions.Robots must be at least 1");
        }

        if (WorldStep <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(WorldStep), WorldStep, "FleetOptions.WorldStep must be positive");
        }

        var control = TimeSpan.FromSeconds(1.0 / ControlRateHz);
        if (ControlRateHz is < 50 or > 100 || control.Ticks % WorldStep.Ticks != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ControlRateHz), ControlRateHz, $"FleetOptions.ControlRateHz must be 50-100 Hz with a period that is a multiple of the world step ({WorldStep.TotalMilliseconds} ms)");
        }

        if (SensorPeriod <= TimeSpan.Zero || SensorPeriod.Ticks % WorldStep.Ticks != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SensorPeriod), SensorPeriod, $"FleetOptions.SensorPeriod must be a positive multiple of the world step ({WorldStep.TotalMilliseconds} ms)");
        }

        if (Parallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "FleetOptions.Parallelism must be at least 1");
        }

        if (StartCells is { } cells && cells.Count != Robots)
        {
            throw new ArgumentOutOfRangeException(nameof(StartCells), cells.Count, $"FleetOptions.StartCells lists {cells.Count} cells for {Robots} robots");
        }
    }
}
