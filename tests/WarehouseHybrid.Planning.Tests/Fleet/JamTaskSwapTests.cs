using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Planning.Jams;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Planning.Tests.Fleet;

/// <summary>
/// Task exchanges inside a jam (PlannerOptions.JamTaskSwaps; ADR 0007, "Complete local fallback"):
/// on a one-wide corridor two robots can never pass, so crossing tasks finish only once the robots
/// exchange them; a started or pinned task never moves, nor does any task when takeovers are off
/// (the 2026 rollout), and every step stays valid.
/// </summary>
public sealed class JamTaskSwapTests
{
    private static readonly TimeSpan NoLimit = TimeSpan.FromDays(1);

    // A one-wide corridor of ten cells: every move is a bridge, nobody can pass.
    private static readonly GridMap Corridor = TestData.ParseMap("..........", "corridor-10");

    private const int Left = 0;   // robot starting at column 2
    private const int Right = 1;  // robot starting at column 7

    /// <summary>
    /// The left robot is given a task at the right end and then the right robot one at the left end
    /// (takeovers off while they are handed out, so the idle robot cannot simply take the other's
    /// task), then <paramref name="setup"/> may change the planner; runs <paramref name="steps"/>
    /// steps, checking each with the validator, and records each robot's task id per step.
    /// </summary>
    private static CrossingRun Crossing(IReadOnlyList<int> leftErrands, IReadOnlyList<int> rightErrands, bool pinRight = false, bool takeoversAfter = true, bool swaps = true, int steps = 200)
    {
        var planner = new PibtFleetPlanner(Corridor, 2, new PlannerOptions { Seed = 1, MaxParallelism = 1, JamTaskSwaps = swaps });
        var validator = new PlanValidator(Corridor);
        var poses = new[] { new RobotPose(Corridor.CellAt(0, 2), Heading.East), new RobotPose(Corridor.CellAt(0, 7), Heading.East) };
        var after = new RobotPose[2];
        var run = new CrossingRun(planner);
        planner.Takeovers = false;
        planner.SetHeld(Right, true);
        planner.SubmitTask(new PlanningTask(0, leftErrands));
        for (var step = 0; step < steps; step++)
        {
            if (step == 1)
            {
                planner.SetHeld(Right, false);
                planner.SubmitTask(new PlanningTask(1, rightErrands, pinRight ? Right : -1));
            }

            if (step == 2)
            {
                planner.Takeovers = takeoversAfter;
            }

            var result = planner.PlanStep(poses, NoLimit);
            run.Finished.AddRange(result.FinishedTaskIds);
            run.TaskOf.Add([result.Assignments[Left].TaskId, result.Assignments[Right].TaskId]);
            run.NextErrand.Add([result.Assignments[Left].NextErrandIndex, result.Assignments[Right].NextErrandIndex]);
            Assert.True(validator.ValidateStep(poses, result.Actions, after), $"step {step}");
            after.CopyTo(poses, 0);
        }

        return run;
    }

    private sealed class CrossingRun(PibtFleetPlanner planner)
    {
        public PibtFleetPlanner Planner { get; } = planner;

        public List<int> Finished { get; } = new();

        public List<int[]> TaskOf { get; } = new();

        public List<int[]> NextErrand { get; } = new();
    }

    private static int Cell(int column) => Corridor.CellAt(0, column);

    [Fact]
    public void Two_robots_holding_crossing_tasks_on_a_corridor_exchange_them_and_finish_both()
    {
        var run = Crossing([Cell(9)], [Cell(0)]);
        Assert.Contains(0, run.Finished);
        Assert.Contains(1, run.Finished);
        Assert.True(run.Planner.Counters.JamSwaps >= 1);

        // The task for the right end ended with the right robot, the one for the left end with the left robot.
        var last0 = run.TaskOf.FindLastIndex(t => t[Left] == 0 || t[Right] == 0);
        Assert.Equal(0, run.TaskOf[last0][Right]);
        var last1 = run.TaskOf.FindLastIndex(t => t[Left] == 1 || t[Right] == 1);
        Assert.Equal(1, run.TaskOf[last1][Left]);
    }

    [Fact]
    public void Without_exchanges_the_same_crossing_tasks_never_finish_which_is_what_the_test_above_would_catch()
    {
        var run = Crossing([Cell(9)], [Cell(0)], swaps: false);
        Assert.Empty(run.Finished);
        Assert.Equal(0, run.Planner.Counters.JamSwaps);
    }

    [Fact]
    public void A_started_task_is_never_exchanged_even_when_its_next_errand_is_out_of_reach()
    {
        // The left robot reaches column 3 (its task's first errand) in the first steps; its second
        // errand is beyond the other robot, for good. LoRR 2024 forbids moving a started task.
        var run = Crossing([Cell(3), Cell(9)], [Cell(0)]);
        Assert.Equal(0, run.Planner.Counters.JamSwaps);
        var started = run.NextErrand.FindIndex(e => e[Left] == 1);
        Assert.True(started >= 0, "the left robot never reached its first errand");
        Assert.All(run.TaskOf.Skip(started), t => Assert.Equal(0, t[Left]));
        Assert.DoesNotContain(0, run.Finished);
    }

    [Fact]
    public void A_pinned_task_is_never_exchanged()
    {
        var run = Crossing([Cell(9)], [Cell(0)], pinRight: true);
        Assert.Equal(0, run.Planner.Counters.JamSwaps);
        Assert.All(run.TaskOf.Skip(1), t => Assert.Equal(1, t[Right]));
        Assert.DoesNotContain(1, run.Finished);
    }

    [Fact]
    public void With_takeovers_off_as_in_the_2026_rollout_no_task_is_exchanged()
    {
        var run = Crossing([Cell(9)], [Cell(0)], takeoversAfter: false);
        Assert.Equal(0, run.Planner.Counters.JamSwaps);
        Assert.All(run.TaskOf.Skip(1), t => Assert.Equal(new[] { 0, 1 }, t));
    }

    [Fact]
    public void An_idle_robot_of_the_jam_may_take_the_task_its_holder_cannot_reach()
    {
        // The resolver alone: the left robot holds the right end's task, the right robot is idle.
        var tables = new GoalDistanceTable?[] { Table(Cell(9)), null };
        var resolver = new JamResolver(Corridor, 2);
        // It stands next to the idle one at the corridor's end: no joint plan brings it nearer.
        RobotPose[] poses = [new(Cell(8), Heading.East), new(Cell(9), Heading.East)];
        resolver.Resolve(poses, tables, [20, 20], [1, 0], [false, false], () => false, _ => true);
        Assert.Equal(1, resolver.Searches);
        Assert.Equal(0, resolver.ActiveCount); // the idle robot stands on the goal: the exchange alone does it
        Assert.Equal((0, 1), Assert.Single(resolver.Exchanges));
        Assert.Null(tables[0]);
        Assert.Equal(Cell(9), tables[1]!.GoalCell);
    }

    [Fact]
    public void The_resolver_exchanges_nothing_for_a_robot_the_caller_refuses()
    {
        var tables = new GoalDistanceTable?[] { Table(Cell(9)), Table(Cell(0)) };
        var resolver = new JamResolver(Corridor, 2);
        RobotPose[] poses = [new(Cell(7), Heading.East), new(Cell(8), Heading.West)];
        resolver.Resolve(poses, tables, [20, 20], [2, 8], [false, false], () => false, robot => robot != 0);
        Assert.Empty(resolver.Exchanges);
        Assert.Equal(Cell(9), tables[0]!.GoalCell);
        Assert.Equal(Cell(0), tables[1]!.GoalCell);
        Assert.Equal(0, resolver.Swaps);
    }

    [Fact]
    public void Spans_shorter_than_the_fleet_and_robots_off_the_map_are_ignored_not_thrown_on()
    {
        var resolver = new JamResolver(Corridor, 3);
        var tables = new GoalDistanceTable?[] { Table(Cell(9)), Table(Cell(0)) };
        RobotPose[] poses = [new(Cell(7), Heading.East), new(Cell(8), Heading.West), new(-5, Heading.East)];
        resolver.Resolve(poses, tables, [20, 20, 20], [2, 8], [false], () => false, _ => true);
        resolver.Resolve(poses, [], [], [], [], () => false, _ => true);
        var actions = new RobotAction[3];
        resolver.Apply(actions);
        Assert.True(new PlanValidator(Corridor).ValidateStep(poses[..2], actions[..2], new RobotPose[2]));
    }

    private static GoalDistanceTable Table(int goal) => new DistanceTableCache(new CompactGrid(Corridor), 1 << 20).Get(goal);
}
