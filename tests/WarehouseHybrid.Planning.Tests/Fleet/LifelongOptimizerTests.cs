using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Planning.Simulation;
using WarehouseHybrid.Planning.Tests.Support;
using Xunit.Abstractions;

namespace WarehouseHybrid.Planning.Tests.Fleet;

/// <summary>The default optimizer (highway guidance, EPIBT with local search) on small maps with known answers.</summary>
public sealed class LifelongOptimizerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan NoLimit = TimeSpan.FromDays(1);

    private static PibtFleetPlanner Planner(GridMap map, int robots, int seed = 1) =>
        new(map, robots, new PlannerOptions { Seed = seed, MaxParallelism = 1 });

    // Drives the planner from the poses, validating every step; returns the step at which each task finished.
    private static Dictionary<int, int> Drive(PibtFleetPlanner planner, RobotPose[] poses, int steps, Action<int>? beforeStep = null)
    {
        var validator = new PlanValidator(planner.Grid.Map);
        var after = new RobotPose[poses.Length];
        var finished = new Dictionary<int, int>();
        var conflicts = new List<Conflict>();
        for (var step = 0; step < steps; step++)
        {
            beforeStep?.Invoke(step);
            var res = planner.PlanStep(poses, NoLimit);
            foreach (var id in res.FinishedTaskIds)
            {
                finished[id] = step;
            }

            conflicts.Clear();
            Assert.True(validator.ValidateStep(poses, res.Actions, after, conflicts), $"step {step}: {string.Join("; ", conflicts)}");
            after.CopyTo(poses, 0);
        }

        return finished;
    }

    [Theory]
    [InlineData(Heading.East, 3)]  // straight on: three moves
    [InlineData(Heading.North, 4)] // one turn, then three moves
    [InlineData(Heading.West, 5)]  // about-turn in a one-wide corridor: two turns, then three moves
    public void A_lone_robot_takes_the_fewest_actions_including_turns(Heading start, int actions)
    {
        var map = TestData.ParseMap("""
            @@@@@@@@
            @......@
            @@@@@@@@
            """);
        var planner = Planner(map, 1);
        planner.SubmitTask(new PlanningTask(1, [map.CellAt(1, 6)]));
        var finished = Drive(planner, [new RobotPose(map.CellAt(1, 3), start)], actions + 1);

        // The task counts in the call after the move that reached the cell.
        Assert.Equal(actions, finished[1]);
    }

    [Fact]
    public void A_robot_standing_on_its_errand_finishes_it_without_moving()
    {
        var map = TestData.ParseMap("""
            .....
            """);
        var planner = Planner(map, 1);
        planner.SubmitTask(new PlanningTask(4, [2]));
        var poses = new[] { new RobotPose(2, Heading.North) };
        var first = planner.PlanStep(poses, NoLimit);
        Assert.Equal(4, first.Assignments[0].TaskId);
        Assert.Equal(RobotAction.Wait, first.Actions[0]);
        var second = planner.PlanStep(poses, NoLimit);
        Assert.Equal([4], second.FinishedTaskIds);
    }

    [Fact]
    public void Tasks_revealed_mid_run_are_picked_up_by_robots_that_waited_idle()
    {
        var map = TestData.ParseMap("""
            ......
            ......
            """);
        var planner = Planner(map, 2);
        var poses = new[] { new RobotPose(0, Heading.East), new RobotPose(11, Heading.West) };
        var finished = Drive(planner, poses, 30, step =>
        {
            if (step == 5)
            {
                planner.SubmitTask(new PlanningTask(1, [5, 6]));
                planner.SubmitTask(new PlanningTask(2, [7, 0]));
            }
        });

        Assert.Equal(2, finished.Count);
        Assert.All(finished.Values, s => Assert.True(s > 5));
    }

    [Fact]
    public void Idle_robots_with_nothing_to_do_stay_put()
    {
        var map = TestData.ParseMap("""
            ....
            ....
            """);
        var planner = Planner(map, 3);
        var poses = new[] { new RobotPose(0, Heading.East), new RobotPose(5, Heading.South), new RobotPose(7, Heading.West) };
        var start = poses.ToArray();
        Drive(planner, poses, 10);
        Assert.Equal(start, poses);
    }

    public static TheoryData<int, bool> SeedsAndModes(int lastSeed)
    {
        var data = new TheoryData<int, bool>();
        for (var seed = 1; seed <= lastSeed; seed++)
        {
            data.Add(seed, false);
            data.Add(seed, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SeedsAndModes), 8)]
    public void Robots_serving_dead_end_pockets_off_a_narrow_corridor_keep_finishing_tasks_without_freezing(int seed, bool nearestFirst)
    {
        var r = RunWithoutFreezing(CorridorScenarios.Pocket(4, taskSeed: 3), seed, nearestFirst, 400);
        // Frozen runs finished 2-23 tasks before the fix, free-flowing ones 69-84.
        Assert.True(r.TasksFinished >= 60, $"only {r.TasksFinished} tasks");
    }

    [Theory]
    [MemberData(nameof(SeedsAndModes), 4)]
    public void Six_robots_serving_dead_end_pockets_off_a_narrow_corridor_do_not_freeze(int seed, bool nearestFirst)
    {
        // The pocket corridor with half again as many robots as above: 6 robots on 23 cells. The wider
        // corridor-sweep bench (seeds 1-12 x both modes x task seeds 3, 5, 7, 11) froze 33 of 96 runs
        // before the jam fallback (PlannerOptions.JamAfterSteps; JamEscapeTests has more task lists).
        var r = RunWithoutFreezing(CorridorScenarios.Pocket(6, taskSeed: 5), seed, nearestFirst, 400);
        Assert.True(r.TasksFinished >= 20, $"only {r.TasksFinished} tasks");
    }

    [Theory]
    [MemberData(nameof(SeedsAndModes), 3)]
    public void Shuffling_stalled_robots_breaks_the_push_back_livelock_at_a_T_corridors_dead_end(int seed, bool nearestFirst)
    {
        // Two robots, every task into the far end of a dead end three deep and back out: with fixed
        // ranks the one coming out and the one going in push each other back for ever (0 tasks).
        var s = CorridorScenarios.TCorridor(2, taskSeed: 3);
        var planner = new PibtFleetPlanner(s.Map, 2, new PlannerOptions { Seed = seed, MaxParallelism = 1, AssignmentNearestFirst = nearestFirst, ShuffleStalledAfterSteps = 10 });
        var r = new LifelongRun(s.Map, s.Tasks, 1.5).Run(planner, s.Starts, 400, NoLimit);
        output.WriteLine($"seed {seed} nearest-first {nearestFirst}: {r.TasksFinished} tasks, longest stall {r.LongestStall}");
        Assert.Equal(0, r.InvalidSteps);
        Assert.Equal(r.TasksFinished, r.TasksFinishedObserved);
        Assert.True(r.TasksFinished >= 3, $"only {r.TasksFinished} tasks");
    }

    [Fact]
    public void An_idle_robot_parked_at_the_end_of_a_dead_end_makes_way_for_a_robot_whose_goal_it_is()
    {
        var map = TestData.ParseMap("""
            @@@@.@@@@
            @@@@.@@@@
            @@@@.@@@@
            .........
            """);
        var end = map.CellAt(0, 4);
        var planner = Planner(map, 2);
        planner.SubmitTask(new PlanningTask(1, [end]));

        // Robot 1 stands at the end facing into the wall with nothing to do; robot 0 comes for the cell.
        var poses = new[] { new RobotPose(map.CellAt(3, 0), Heading.East), new RobotPose(end, Heading.North) };
        var finished = Drive(planner, poses, 80);
        Assert.True(finished.ContainsKey(1), "the robot never reached the end of the dead end");
    }

    // Runs the optimizer and asserts what every such run must show: valid steps, the planner's own
    // count agreeing with the simulation's, and no robot holding a task on one cell beyond the limit.
    private LifelongRunReport RunWithoutFreezing(CorridorScenario s, int seed, bool nearestFirst, int steps)
    {
        var planner = new PibtFleetPlanner(s.Map, s.Starts.Length, new PlannerOptions { Seed = seed, MaxParallelism = 1, AssignmentNearestFirst = nearestFirst });
        var r = new LifelongRun(s.Map, s.Tasks, 1.5) { StallLimit = 40 }.Run(planner, s.Starts, steps, NoLimit);
        output.WriteLine($"seed {seed} nearest-first {nearestFirst}: {r.TasksFinished} tasks in {r.Steps} steps, longest stall {r.LongestStall}, stalled robots {r.StalledRobots}");
        Assert.Equal(0, r.InvalidSteps);
        Assert.Equal(r.TasksFinished, r.TasksFinishedObserved);
        Assert.Equal(0, r.StalledRobots);
        return r;
    }

    [Fact]
    public void Two_robots_meeting_head_on_in_a_corridor_with_one_passing_bay_both_get_through()
    {
        var map = TestData.ParseMap("""
            @@@@@.@@@@@
            ...........
            @@@@@@@@@@@
            """);
        var planner = Planner(map, 2);
        planner.SubmitTask(new PlanningTask(1, [map.CellAt(1, 10)]));
        planner.SubmitTask(new PlanningTask(2, [map.CellAt(1, 0)]));
        var poses = new[] { new RobotPose(map.CellAt(1, 0), Heading.East), new RobotPose(map.CellAt(1, 10), Heading.West) };
        var finished = Drive(planner, poses, 60);
        Assert.True(finished.ContainsKey(1) && finished.ContainsKey(2), $"finished: {string.Join(",", finished.Keys)}");
    }
}
