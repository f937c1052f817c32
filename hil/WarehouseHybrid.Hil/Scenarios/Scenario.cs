namespace WarehouseHybrid.Hil.Scenarios;

/// <summary>How a scenario's robots run.</summary>
public enum ScenarioMode
{
    /// <summary>In-process lock-step fleet on virtual time (fast, deterministic).</summary>
    InProcess = 0,
    /// <summary>Unmodified edge daemon processes over socat pseudo-terminals, a real Mosquitto and a silo, real time.</summary>
    Daemons = 1,
}

/// <summary>A fault on the scenario's timeline (docs/hil-scenarios.md lists every kind and its fields).</summary>
/// <param name="Id">Name (for expectations and the report).</param>
/// <param name="Kind">e.g. "serial.bitflip", "world.person".</param>
/// <param name="At">When it starts.</param>
/// <param name="Until">When it ends (null: until the end, or instantaneous).</param>
/// <param name="Robots">Robot indices it applies to (empty: not robot-specific).</param>
/// <param name="Line">Line of the fault in the file.</param>
public sealed record FaultSpec(string Id, string Kind, TimeSpan At, TimeSpan? Until, IReadOnlyList<int> Robots, int Line)
{
    /// <summary>Per-byte probability (serial.bitflip/drop/duplicate).</summary>
    public double Rate { get; init; }

    /// <summary>"toDaemon", "toBoard" or "both" (serial noise).</summary>
    public string Direction { get; init; } = "both";

    /// <summary>Board fault code (board.fault).</summary>
    public ushort Code { get; init; }

    /// <summary>Board fault severity (board.fault).</summary>
    public byte Severity { get; init; }

    /// <summary>Cells (world.block, world.drop).</summary>
    public IReadOnlyList<int> Cells { get; init; } = [];

    /// <summary>A person's walk: cell and dwell per waypoint (world.person).</summary>
    public IReadOnlyList<(int Cell, TimeSpan Dwell)> Path { get; init; } = [];

    /// <summary>Walking speed (world.person) or speed factor (world.delay).</summary>
    public double Speed { get; init; } = 1.2;

    /// <summary>Added latency and its jitter (network.latency).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Jitter (network.latency): each message gets latency + uniform [0, jitter].</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>Clock offset (clock.skew).</summary>
    public TimeSpan Offset { get; init; }

    /// <summary>IMU heading bias, radians (model.drift).</summary>
    public double HeadingBias { get; init; }

    /// <summary>Range scale (model.drift).</summary>
    public double RangeScale { get; init; } = 1;
}

/// <summary>"The robot entered this mode within this long after that fault began."</summary>
/// <param name="After">Id of the fault.</param>
/// <param name="Robot">Robot index.</param>
/// <param name="Within">Deadline after the fault's start.</param>
/// <param name="Mode">Expected decision mode name (e.g. "ShieldStop"), or null for any non-learned, non-rule mode change.</param>
/// <param name="Reason">Expected reason text (e.g. "sensor-stale"), or null.</param>
/// <param name="Line">Line in the file.</param>
public sealed record FallbackExpectation(string After, int Robot, TimeSpan Within, string? Mode, string? Reason, int Line);

/// <summary>What must hold for the scenario to pass.</summary>
public sealed record Expectations
{
    /// <summary>No invariant may break (default).</summary>
    public bool InvariantsHold { get; init; } = true;

    /// <summary>The run passes only if the first violation is of this kind (a scenario proving a check catches a fault).</summary>
    public string? ExpectViolation { get; init; }

    /// <summary>At least this many tasks finished.</summary>
    public long? TasksFinishedAtLeast { get; init; }

    /// <summary>At least this many site steps dispatched (the fleet kept making progress).</summary>
    public long? SiteStepsAtLeast { get; init; }

    /// <summary>Fallbacks that must be entered in time.</summary>
    public IReadOnlyList<FallbackExpectation> Fallbacks { get; init; } = [];

    /// <summary>Every telemetry message a robot published reached the broker (daemon mode).</summary>
    public bool NoTelemetryLoss { get; init; }

    /// <summary>Robot index and refusal name of a model package that must be refused.</summary>
    public (int Robot, string Refusal)? ModelRefused { get; init; }
}

/// <summary>A parsed, validated scenario (docs/hil-scenarios.md).</summary>
public sealed record Scenario
{
    /// <summary>Name.</summary>
    public required string Name { get; init; }

    /// <summary>What it shows.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>The file it came from.</summary>
    public required string SourceFile { get; init; }

    /// <summary>How the robots run.</summary>
    public ScenarioMode Mode { get; init; }

    /// <summary>The map file (resolved).</summary>
    public required string MapFile { get; init; }

    /// <summary>Odometry noise fraction.</summary>
    public double OdometryNoise { get; init; }

    /// <summary>Range noise, metres.</summary>
    public double RangeNoise { get; init; }

    /// <summary>Heading noise, radians.</summary>
    public double HeadingNoise { get; init; }

    /// <summary>World brake deceleration override (m/s^2), to prove the envelope check.</summary>
    public double? WorldBrakeDeceleration { get; init; }

    /// <summary>Robots.</summary>
    public int Robots { get; init; } = 6;

    /// <summary>Seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Explicit start cells.</summary>
    public IReadOnlyList<int>? StartCells { get; init; }

    /// <summary>Start heading name.</summary>
    public Domain.Grid.Heading StartHeading { get; init; } = Domain.Grid.Heading.East;

    /// <summary>Model package directory given to every robot (resolved), or null.</summary>
    public string? ModelPackage { get; init; }

    /// <summary>Trusted model key file (resolved), or null.</summary>
    public string? ModelKey { get; init; }

    /// <summary>Whether the local site plans (in-process) / tasks are fed (daemons).</summary>
    public bool Tasks { get; init; } = true;

    /// <summary>Length of the run.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Length of the short form (CI), or null to use <see cref="Duration"/>.</summary>
    public TimeSpan? ShortDuration { get; init; }

    /// <summary>The timeline.</summary>
    public IReadOnlyList<FaultSpec> Faults { get; init; } = [];

    /// <summary>The expected outcome.</summary>
    public Expectations Expect { get; init; } = new();
}
