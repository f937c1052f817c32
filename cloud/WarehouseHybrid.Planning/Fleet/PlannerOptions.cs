using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Guidance;
using WarehouseHybrid.Planning.Scheduling;

namespace WarehouseHybrid.Planning.Fleet;

/// <summary>Settings of <see cref="PibtFleetPlanner"/>. Checked once by <see cref="Validate"/> when the planner is built.</summary>
public sealed class PlannerOptions
{
    /// <summary>Seed of every random choice (tie-breaks); the same seed and inputs give the same actions.</summary>
    public int Seed { get; set; }

    /// <summary>Memory budget of the distance tables in bytes (default 1.5 GiB).</summary>
    public long DistanceCacheBytes { get; set; } = 1536L * 1024 * 1024;

    /// <summary>How distance tables are computed: all up front each step, or lazily in the background.</summary>
    public DistanceTableMode TableMode { get; set; } = DistanceTableMode.Auto;

    /// <summary>In <see cref="DistanceTableMode.Auto"/>, maps with more passable cells than this use lazy tables (default 20,000).</summary>
    public int LazyTablesAboveCells { get; set; } = 20_000;

    /// <summary>The table computed per goal in lazy mode (default per cell with a heading correction).</summary>
    public GoalTableKind LazyTableKind { get; set; } = GoalTableKind.PerCell;

    /// <summary>
    /// Whether PIBT breaks ties between equally good cells in favour of cells no robot occupies now.
    /// Null (default): on with up-front tables (measured +3% on random-32-32), off with lazy tables
    /// (measured -13% and many stalls on warehouse_large, where pushing along an aisle is the flow).
    /// </summary>
    public bool? PreferFreeCellsOnTies { get; set; }

    /// <summary>
    /// Share of each step's budget the planner aims to use (default 0.85); the rest is slack for
    /// the caller. Phases (scheduling, tables, routing) check the clock against it.
    /// </summary>
    public double BudgetUse { get; set; } = 0.85;

    /// <summary>Threads used to compute distance tables (PIBT itself is sequential). Default: all cores.</summary>
    public int MaxParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Background threads computing lazy distance tables between steps; null means
    /// <c>max(1, MaxParallelism - 1)</c>, 0 means only the planning step itself computes tables
    /// (deterministic, for tests and replays).
    /// </summary>
    public int? BackgroundTableWorkers { get; set; }

    /// <summary>How the scheduler measures robot-to-task and errand-to-errand distances.</summary>
    public SchedulingDistance SchedulingDistance { get; set; } = SchedulingDistance.Auto;

    /// <summary>Guidance graph of the distance tables (default one-way highways; see ADR 0007).</summary>
    public GuidanceMode Guidance { get; set; } = GuidanceMode.Highways;

    /// <summary>With <see cref="GuidanceMode.Highways"/>: cost of a move against a lane (a move along it costs 1).</summary>
    public int HighwayAgainstCost { get; set; } = 3;

    /// <summary>With <see cref="GuidanceMode.Highways"/>: how lane directions are chosen.</summary>
    public HighwayLayout HighwayLayout { get; set; } = HighwayLayout.Corridors;

    /// <summary>
    /// Assignment takes the nearest task (distance to its first errand) and uses the task's length
    /// only to break ties (default true). False weighs both: <see cref="AssignmentApproachWeight"/>
    /// x distance + length. Weighing the length picks short tasks out of the pool, leaves a residue
    /// of long map-crossing tasks and, on warehouseTest_10000, drew the fleet into a jam in the middle
    /// of the map that cut throughput from 37 to 5 tasks per step over 5000 steps (ADR 0007).
    /// </summary>
    public bool AssignmentNearestFirst { get; set; } = true;

    /// <summary>With <see cref="AssignmentNearestFirst"/> off: weight of the distance to a task's first errand against the task's length in assignment costs (default 5: near tasks first; measured +4% on random-32-32 over 4 seeds against 1).</summary>
    public int AssignmentApproachWeight { get; set; } = 5;

    /// <summary>The per-step routing algorithm (default EPIBT with its local search; see ADR 0007).</summary>
    public RoutingAlgorithm Routing { get; set; } = RoutingAlgorithm.Epibt;

    /// <summary>With <see cref="RoutingAlgorithm.Epibt"/>: actions per operation (2-5, default 3).</summary>
    public int OperationDepth { get; set; } = 3;

    /// <summary>With <see cref="RoutingAlgorithm.Epibt"/>: spend the rest of the routing budget on local search (default true).</summary>
    public bool RoutingLocalSearch { get; set; } = true;

    /// <summary>
    /// Plan only steps that an executor granting cells in plan order can carry out under delays:
    /// no rotation cycles (requires <see cref="RoutingAlgorithm.Epibt"/>; see <see cref="Routing.EpibtRouter.NoCycles"/>).
    /// </summary>
    public bool NoCycles { get; set; }

    /// <summary>
    /// With <see cref="RoutingAlgorithm.Epibt"/>: a robot holding a task that has stayed on one cell
    /// for this many steps (default 4) while another robot stands on its goal keeps the operation
    /// the priority passes gave it, with the robots that operation pushed, and the local search
    /// may not evict them (the lead robot always keeps its own); the robot standing on its goal
    /// ranks first until it reaches an errand of its own. Without this the local search can undo
    /// the pushes that would free a jam, and the same all-wait step repeats for ever (ADR 0007,
    /// "Deadlock in one-wide corridors").
    /// </summary>
    public int ProtectStuckAfterSteps { get; set; } = 4;

    /// <summary>
    /// A robot holding a task whose distance to its goal has not reached a new least value for this
    /// many steps (0, the default: off; 10 is the measured choice) counts as stalled: after the usual priority order is built,
    /// the stalled robots swap the positions they hold in it at random (drawn from the seed), afresh
    /// every step; every other robot keeps its position. PIBT's fixed ranks can hold a rank cycle or
    /// push robots back and forth in a tree-shaped corridor for ever; the random order breaks that
    /// symmetry (ADR 0007, "Deadlock in one-wide corridors"). Robots that keep approaching their goal
    /// are not affected. Off by default: on the dense 2023 small warehouse it cost 1-8% of the tasks
    /// depending on the threshold (8-12 steps; 6-robot corridor sweep: 1 frozen run of 96 with 10, 33 off).
    /// </summary>
    public int ShuffleStalledAfterSteps { get; set; }

    /// <summary>
    /// The complete local fallback for jams (<see cref="Jams.JamResolver"/>; ADR 0007, "Deadlock in
    /// one-wide corridors"): a robot holding a task whose distance to its goal has not reached a new
    /// least value for this many steps (default 10; 0: off), with the robots nearest it none of
    /// which has gained for half as long, one of them or its goal at a bridge of the map (a move on
    /// no cycle: dead ends, one-wide tree corridors; <see cref="Jams.TreeCells"/>), is solved jointly with them (<see cref="JamGroupSize"/>
    /// robots, <see cref="JamNodeCap"/> states, within <see cref="JamWindowRadius"/> moves), every
    /// other robot static; a plan found is followed to its end, then normal planning resumes.
    /// </summary>
    public int JamAfterSteps { get; set; } = 10;

    /// <summary>With <see cref="JamAfterSteps"/>: most robots solved together (1-6, default 6).</summary>
    public int JamGroupSize { get; set; } = 6;

    /// <summary>With <see cref="JamAfterSteps"/>: moves around the group its joint search may use (1-32, default 6).</summary>
    public int JamWindowRadius { get; set; } = 6;

    /// <summary>With <see cref="JamAfterSteps"/>: joint states one search may generate (1,000-5,000,000, default 40,000).</summary>
    public int JamNodeCap { get; set; } = 40_000;

    /// <summary>
    /// With <see cref="JamAfterSteps"/>: when no joint plan brings a jam's lead nearer its goal, two
    /// robots of the jam may exchange tasks whose first errand is not reached yet (neither pinned;
    /// only while <see cref="PibtFleetPlanner.Takeovers"/> is on), if that lowers their summed
    /// distance and a joint plan then exists (default true; ADR 0007, "Complete local fallback").
    /// </summary>
    public bool JamTaskSwaps { get; set; } = true;

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

        if (BackgroundTableWorkers is < 0 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(BackgroundTableWorkers), BackgroundTableWorkers, "PlannerOptions.BackgroundTableWorkers must be 0-256 (or null for the default)");
        }

        if (!Enum.IsDefined(TableMode))
        {
            throw new ArgumentOutOfRangeException(nameof(TableMode), TableMode, "PlannerOptions.TableMode is not a known mode");
        }

        if (!Enum.IsDefined(LazyTableKind))
        {
            throw new ArgumentOutOfRangeException(nameof(LazyTableKind), LazyTableKind, "PlannerOptions.LazyTableKind is not a known kind");
        }

        if (LazyTablesAboveCells < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(LazyTablesAboveCells), LazyTablesAboveCells, "PlannerOptions.LazyTablesAboveCells must not be negative");
        }

        if (!(BudgetUse > 0 && BudgetUse <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(BudgetUse), BudgetUse, "PlannerOptions.BudgetUse must be in (0, 1]");
        }

        if (!Enum.IsDefined(SchedulingDistance))
        {
            throw new ArgumentOutOfRangeException(nameof(SchedulingDistance), SchedulingDistance, "PlannerOptions.SchedulingDistance is not a known mode");
        }

        if (!Enum.IsDefined(Guidance))
        {
            throw new ArgumentOutOfRangeException(nameof(Guidance), Guidance, "PlannerOptions.Guidance is not a known mode");
        }

        if (HighwayAgainstCost is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(HighwayAgainstCost), HighwayAgainstCost, "PlannerOptions.HighwayAgainstCost must be 1-64");
        }

        if (!Enum.IsDefined(HighwayLayout))
        {
            throw new ArgumentOutOfRangeException(nameof(HighwayLayout), HighwayLayout, "PlannerOptions.HighwayLayout is not a known layout");
        }

        if (AssignmentApproachWeight is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(AssignmentApproachWeight), AssignmentApproachWeight, "PlannerOptions.AssignmentApproachWeight must be 1-100");
        }

        if (!Enum.IsDefined(Routing))
        {
            throw new ArgumentOutOfRangeException(nameof(Routing), Routing, "PlannerOptions.Routing is not a known algorithm");
        }

        if (OperationDepth is < 2 or > 5)
        {
            throw new ArgumentOutOfRangeException(nameof(OperationDepth), OperationDepth, "PlannerOptions.OperationDepth must be 2-5");
        }

        if (ProtectStuckAfterSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ProtectStuckAfterSteps), ProtectStuckAfterSteps, "PlannerOptions.ProtectStuckAfterSteps must be at least 1");
        }

        if (ShuffleStalledAfterSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ShuffleStalledAfterSteps), ShuffleStalledAfterSteps, "PlannerOptions.ShuffleStalledAfterSteps must be 0 (off) or more");
        }

        if (JamAfterSteps is < 0 or 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(JamAfterSteps), JamAfterSteps, "PlannerOptions.JamAfterSteps must be 0 (off) or 2-1000");
        }

        if (JamGroupSize is < 1 or > Jams.JointSearch.MaxRobots)
        {
            throw new ArgumentOutOfRangeException(nameof(JamGroupSize), JamGroupSize, $"PlannerOptions.JamGroupSize must be 1-{Jams.JointSearch.MaxRobots}");
        }

        if (JamWindowRadius is < 1 or > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(JamWindowRadius), JamWindowRadius, "PlannerOptions.JamWindowRadius must be 1-32");
        }

        if (JamNodeCap is < 1_000 or > 5_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(JamNodeCap), JamNodeCap, "PlannerOptions.JamNodeCap must be 1,000-5,000,000");
        }

        if (NoCycles && Routing != RoutingAlgorithm.Epibt)
        {
            throw new ArgumentOutOfRangeException(nameof(NoCycles), NoCycles, "PlannerOptions.NoCycles needs Routing = Epibt");
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

    /// <summary>
    /// Steps in which the planner threw (a defect, never expected) and answered with the all-wait fallback
    /// instead; <see cref="PibtFleetPlanner.LastFault"/> holds the last exception.
    /// </summary>
    public long Faults { get; internal set; }

    /// <summary>Steps whose routing ran out of time part-way: the robots placed moved, the others waited.</summary>
    public long PartialSteps { get; internal set; }

    /// <summary>Steps whose pose array had the wrong length.</summary>
    public long BadInputs { get; internal set; }

    /// <summary>Robot-steps with an illegal pose (on an obstacle, off the map, sharing a cell): those robots waited.</summary>
    public long IllegalPoses { get; internal set; }

    /// <summary>Errands reached (including last errands).</summary>
    public long ErrandsReached { get; internal set; }

    /// <summary>Tasks finished.</summary>
    public long TasksFinished { get; internal set; }

    /// <summary>Tasks the site reported done before this planner saw them finished (<see cref="PibtFleetPlanner.CompleteTask"/>).</summary>
    public long TasksCompletedBySite { get; internal set; }

    /// <summary>Task assignments made (including takeovers).</summary>
    public long Assignments { get; internal set; }

    /// <summary>Robot-steps routed on the Manhattan fallback because the goal's table was not ready (lazy mode).</summary>
    public long FallbackEstimates { get; internal set; }

    /// <summary>Tables the planning thread computed itself within its budget (lazy mode).</summary>
    public long TablesComputedInline { get; internal set; }

    /// <summary>Joint searches run for jams (<see cref="PlannerOptions.JamAfterSteps"/>).</summary>
    public long JamSearches { get; internal set; }

    /// <summary>Joint plans committed to for jams.</summary>
    public long JamPlans { get; internal set; }

    /// <summary>Robot-steps moved by a committed joint plan.</summary>
    public long JamPlanSteps { get; internal set; }

    /// <summary>Task exchanges between two robots of a jam (<see cref="PlannerOptions.JamTaskSwaps"/>).</summary>
    public long JamSwaps { get; internal set; }
}

/// <summary>The per-step routing algorithm.</summary>
public enum RoutingAlgorithm
{
    /// <summary>PIBT with rotations over single moves (<see cref="Routing.PibtRouter"/>).</summary>
    Pibt = 0,

    /// <summary>EPIBT over multi-action operations, then local search (<see cref="Routing.EpibtRouter"/>).</summary>
    Epibt = 1,
}

/// <summary>Which guidance graph the planner's distance tables use.</summary>
public enum GuidanceMode
{
    /// <summary>Every move costs one step.</summary>
    None = 0,

    /// <summary>One-way lanes on rows and columns (<see cref="GuidanceCosts.Highways"/>).</summary>
    Highways = 1,
}

/// <summary>How <see cref="PibtFleetPlanner"/> gets its distance tables.</summary>
public enum DistanceTableMode
{
    /// <summary>Up front on small maps, lazily above <see cref="PlannerOptions.LazyTablesAboveCells"/> passable cells.</summary>
    Auto = 0,

    /// <summary>Every needed exact (cell, heading) table is computed (in parallel) before routing; deterministic; for small maps.</summary>
    UpFront = 1,

    /// <summary>
    /// Tables computed by background workers and by the step within its budget; robots whose
    /// goal table is not ready route on an admissible Manhattan estimate; never blocks on tables.
    /// </summary>
    Lazy = 2,
}
