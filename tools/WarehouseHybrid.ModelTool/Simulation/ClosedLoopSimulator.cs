using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.ModelTool.Simulation;

/// <summary>One simulated drive: where the robot starts, its granted plan, the obstacles, the control rate.</summary>
/// <param name="StartCell">Start cell.</param>
/// <param name="StartHeading">Start heading.</param>
/// <param name="Steps">The granted plan steps.</param>
/// <param name="Obstacles">Shelves and things in the way.</param>
/// <param name="RateHz">Control rate (50 or 100, as the daemon runs).</param>
/// <param name="Ticks">Ticks simulated.</param>
public sealed record Episode(int StartCell, DomainHeading StartHeading, IReadOnlyList<PlanStep> Steps, IReadOnlyList<Box> Obstacles, int RateHz, int Ticks);

/// <summary>How one episode went.</summary>
/// <param name="StepsPlanned">Granted steps.</param>
/// <param name="StepsCompleted">Steps completed in time.</param>
/// <param name="Ticks">Ticks run.</param>
/// <param name="LearnedTicks">Ticks whose command came from the learned policy.</param>
/// <param name="ShieldTicks">Ticks the shield overrode (stop, brake, slow for an obstacle).</param>
/// <param name="MeanAbsLateral">Mean |lateral offset| from the lane during moves, metres (true pose).</param>
/// <param name="MaxAbsLateral">Largest |lateral offset|, metres.</param>
/// <param name="Collisions">Ticks the robot's centre was inside an obstacle.</param>
public readonly record struct EpisodeResult(int StepsPlanned, int StepsCompleted, int Ticks, int LearnedTicks, int ShieldTicks, double MeanAbsLateral, double MaxAbsLateral, int Collisions);

/// <summary>
/// Closed-loop simulation with the edge's real control stack: <see cref="ControlLoop"/>, <see cref="PlanExecutor"/>,
/// dead reckoning and <see cref="SafetyShield"/>, ticked on a manual clock against a <see cref="KinematicRobot"/>
/// in an aisle world. The policy under test drives; whatever it is, the shield has the last word, as on the robot.
/// Used for DAgger (the learned policy visits states, the rule policy labels them) and to evaluate a model.
/// </summary>
public static class ClosedLoopSimulator
{
    /// <summary>Map of the simulated floor: 12 x 12 cells of 1 m.</summary>
    public static readonly GridMap Map = new(12, 12, new CellKind[144], "dagger");

    /// <summary>A random episode: a granted plan of forward moves and quarter turns on the open floor, shelves along its aisles, sometimes something in the way.</summary>
    public static Episode RandomEpisode(Random random, int ticks)
    {
        ArgumentNullException.ThrowIfNull(random);
        var row = random.Next(2, 10);
        var col = random.Next(2, 10);
        var heading = (DomainHeading)random.Next(4);
        var start = Map.CellAt(row, col);
        var steps = new List<PlanStep>();
        var obstacles = new List<Box>();
        var (r, c, h) = (row, col, heading);
        for (uint n = 1; n <= 6; n++)
        {
            var (dr, dc) = h.Delta();
            var forward = random.NextDouble() < 0.7 && Map.InBounds(r + dr, c + dc) && r + dr is > 0 and < 11 && c + dc is > 0 and < 11;
            if (forward)
            {
                (r, c) = (r + dr, c + dc);
                steps.Add(new PlanStep { Step = n, Action = PlanAction.Forward, TargetCell = Map.CellAt(r, c), TargetHeading = (Contracts.Fleet.Heading)(int)h, Granted = true });
                if (random.NextDouble() < 0.6)
                {
                    obstacles.AddRange(Shelves(r, c, h));
                }
            }
            else
            {
                var cw = random.NextDouble() < 0.5;
                h = cw ? h.RotateClockwise() : h.RotateCounterClockwise();
                steps.Add(new PlanStep { Step = n, Action = cw ? PlanAction.RotateCw : PlanAction.RotateCcw, TargetCell = Map.CellAt(r, c), TargetHeading = (Contracts.Fleet.Heading)(int)h, Granted = true });
            }
        }

        // A shelf must not stand where the plan itself goes (a lane's shelves reach into the neighbouring cells).
        var visited = steps.Select(p => p.TargetCell).Append(start).Distinct().Select(cell => GridGeometry.Default.CellCentre(Map, cell)).ToList();
        obstacles.RemoveAll(b => visited.Exists(v => new Box(b.MinX - 0.45, b.MinY - 0.45, b.MaxX + 0.45, b.MaxY + 0.45).Contains(v.X, v.Y)));
        if (random.NextDouble() < 0.3)
        {
            // Something in the aisle ahead of the start (a pallet, a person standing): the robot must slow and stop.
            var (dr, dc) = heading.Delta();
            var d = 1.2 + (random.NextDouble() * 2.0);
            var (x, y) = (col + 0.5 + (dc * d), row + 0.5 + (dr * d));
            obstacles.Add(new Box(x - 0.2, y - 0.2, x + 0.2, y + 0.2));
        }

        return new Episode(start, heading, steps, obstacles, random.NextDouble() < 0.5 ? 50 : 100, ticks);
    }

    /// <summary>
    /// Runs <paramref name="episode"/> with <paramref name="policy"/> driving (through the shield) until the plan is done or
    /// the episode's ticks are used. The policy sees every tick's input (DAgger's driver records it with the expert's label).
    /// </summary>
    public static EpisodeResult Run(Episode episode, IDrivingPolicy policy, KinematicLimits limits) => Run(episode, _ => policy, limits);

    /// <summary>As <see cref="Run(Episode, IDrivingPolicy, KinematicLimits)"/>, the policy made on the episode's clock (policies that time things).</summary>
    public static EpisodeResult Run(Episode episode, Func<TimeProvider, IDrivingPolicy> makePolicy, KinematicLimits limits)
    {
        ArgumentNullException.ThrowIfNull(episode);
        ArgumentNullException.ThrowIfNull(makePolicy);
        var clock = new ManualClock();
        var policy = makePolicy(clock);
        var sensors = new SensorSnapshotStore();
        var motors = new LastCommand();
        var period = TimeSpan.FromSeconds(1.0 / episode.RateHz);
        var settings = new ControlLoopSettings(period, TimeSpan.FromMilliseconds(200), Map, GridGeometry.Default, limits, new Domain.Actions.RobotPose(episode.StartCell, episode.StartHeading));
        using var loop = new ControlLoop(settings, sensors, new PlanExecutor(Map, GridGeometry.Default, new CompletionTolerances(0.05, 0.05, 0.03, 0.08)),
            policy, new SafetyShield(limits, 200), motors, NullSinks.Instance, NullSinks.Instance, clock, NullLogger.Instance);
        var (x0, y0) = GridGeometry.Default.CellCentre(Map, episode.StartCell);
        var robot = new KinematicRobot(x0, y0, GridGeometry.Angle(episode.StartHeading));
        robot.Obstacles.AddRange(episode.Obstacles);
        var segment = new PlanSegment
        {
            RobotId = "sim", PlanId = "sim", Revision = 1, FirstStep = 1, StartCell = episode.StartCell,
            StartHeading = (Contracts.Fleet.Heading)(int)episode.StartHeading, TraceId = "sim",
        };
        segment.Steps.AddRange(episode.Steps);
        loop.Post(segment);

        int learned = 0, shield = 0, collisions = 0, moveTicks = 0;
        double lateralSum = 0, lateralMax = 0;
        for (var t = 0; t < episode.Ticks && loop.Latest.LastCompletedStep < episode.Steps.Count; t++)
        {
            sensors.Publish(robot.Frame(), clock.GetTimestamp());
            loop.Tick();
            var s = loop.Latest;
            learned += s.Mode == DecisionMode.Learned ? 1 : 0;
            shield += s.Mode == DecisionMode.ShieldStop ? 1 : 0;
            if (LaneOffset(s, robot) is { } lateral)
            {
                moveTicks++;
                lateralSum += Math.Abs(lateral);
                lateralMax = Math.Max(lateralMax, Math.Abs(lateral));
            }

            robot.Command(motors.Command);
            robot.Step(period.TotalSeconds);
            collisions += robot.InsideObstacle() ? 1 : 0;
            clock.Advance(period);
        }

        var ticks = (int)loop.Counters.Ticks;
        return new EpisodeResult(episode.Steps.Count, (int)loop.Latest.LastCompletedStep, ticks, learned, shield,
            moveTicks == 0 ? 0 : lateralSum / moveTicks, lateralMax, collisions);
    }

    /// <summary>Shelves along both sides of the lane through a cell (0.9 m from its centre line).</summary>
    private static IEnumerable<Box> Shelves(int row, int col, DomainHeading heading)
    {
        var (cx, cy) = (col + 0.5, row + 0.5);
        const double offset = 0.9, depth = 0.3, half = 0.5;
        return heading is DomainHeading.East or DomainHeading.West
            ? [new Box(cx - half, cy - offset - depth, cx + half, cy - offset), new Box(cx - half, cy + offset, cx + half, cy + offset + depth)]
            : [new Box(cx - offset - depth, cy - half, cx - offset, cy + half), new Box(cx + offset, cy - half, cx + offset + depth, cy + half)];
    }

    /// <summary>The true lateral offset from the current move step's line (null while not moving along a step).</summary>
    private static double? LaneOffset(in ControlSample sample, KinematicRobot robot)
    {
        if (sample.Activity != RobotActivity.Executing || !sample.HasDiscretePose)
        {
            return null;
        }

        // The lane runs through the last reached cell's centre along its heading.
        var (cx, cy) = GridGeometry.Default.CellCentre(Map, sample.DiscretePose.Cell);
        var (s, c) = Math.SinCos(GridGeometry.Angle(sample.DiscretePose.Heading));
        var lateral = (-(robot.X - cx) * s) + ((robot.Y - cy) * c);
        return Math.Abs(GridGeometry.AngleDifference(robot.Theta, GridGeometry.Angle(sample.DiscretePose.Heading))) < 0.5 ? lateral : null;
    }

    private sealed class LastCommand : IMotorCommandSink
    {
        public MotorCommand Command;

        public void Submit(in MotorCommand command) => Command = command;
    }
}

/// <summary>A clock that moves only when told (simulation faster than real time, deterministic).</summary>
public sealed class ManualClock : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _ticks;

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp() => _ticks;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => Epoch + TimeSpan.FromTicks(_ticks);

    /// <summary>Moves the clock on.</summary>
    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
