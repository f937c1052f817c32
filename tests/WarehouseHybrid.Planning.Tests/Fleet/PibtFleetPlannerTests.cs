using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Planning.Simulation;
using WarehouseHybrid.Planning.Tests.Support;
using WarehouseHybrid.Tests.Common;
using Xunit.Abstractions;

namespace WarehouseHybrid.Planning.Tests.Fleet;

public sealed class PibtFleetPlannerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan NoLimit = TimeSpan.FromDays(1);

    private static PibtFleetPlanner Planner(GridMap map, int robots, int seed = 1) =>
        new(map, robots, new PlannerOptions { Seed = seed, MaxParallelism = 2 });

    private void Report(string name, LifelongRunReport r) =>
        output.WriteLine($"{name}: {r.TasksFinished} tasks in {r.Steps} steps ({r.Throughput:F2}/step), invalid {r.InvalidSteps}, fallbacks {r.FallbackSteps}, longest stall {r.LongestStall}, stalled robots {r.StalledRobots}, p50 {r.PlanTimePercentile(0.5).TotalMilliseconds:F2} ms, p99 {r.PlanTimePercentile(0.99).TotalMilliseconds:F2} ms");

    [Fact]
    public void Single_robot_in_a_corridor_walks_to_each_errand_and_finishes_the_task()
    {
        var map = TestData.ParseMap("""
            @@@@@@@@
            @......@
            @@@@@@@@
            """);
        var run = new LifelongRun(map, [new[] { map.CellAt(1, 6), map.CellAt(1, 1) }], numTasksReveal: 1);
        var r = run.Run(Planner(map, 1), [map.CellAt(1, 1)], steps: 20, NoLimit);
        Report("corridor", r);
        Assert.Equal(0, r.InvalidSteps);
        // 5 forward, 2 turns, 5 forward = 12 steps per task: exactly one task in 20 steps.
        Assert.Equal(1, r.TasksFinished);
        Assert.Equal(r.TasksFinished, r.TasksFinishedObserved);
    }

    [Fact]
    public void Robots_crossing_a_two_wide_aisle_in_both_directions_never_conflict_and_deliver()
    {
        var map = TestData.ParseMap("""
            @@@@@@@@@@@@@@@@
            @..............@
            @..............@
            @@@@@@@@@@@@@@@@
            """);
        var west = new[] { map.CellAt(1, 1), map.CellAt(2, 1) };
        var east = new[] { map.CellAt(1, 14), map.CellAt(2, 14) };
        var tasks = new List<IReadOnlyList<int>>();
        for (var k = 0; k < 20; k++)
        {
            tasks.Add(new[] { west[k % 2], east[(k + 1) % 2] });
            tasks.Add(new[] { east[k % 2], west[(k + 1) % 2] });
        }

        var starts = new[] { map.CellAt(1, 2), map.CellAt(2, 3), map.CellAt(1, 13), map.CellAt(2, 12) };
        var r = new LifelongRun(map, tasks, 1).Run(Planner(map, 4), starts, 300, NoLimit);
        Report("aisle", r);
        Assert.Equal(0, r.InvalidSteps);
        Assert.True(r.TasksFinished >= 6, $"only {r.TasksFinished} tasks finished");
        Assert.Equal(r.TasksFinished, r.TasksFinishedObserved);
    }

    [Fact]
    public void A_robot_idle_in_a_dead_end_is_pushed_out_so_another_can_reach_the_end()
    {
        var map = TestData.ParseMap("""
            @@@@@@@@
            @......@
            @@@@.@@@
            @@@@.@@@
            @@@@@@@@
            """);
        var deadEnd = map.CellAt(3, 4);
        var planner = Planner(map, 2);
        // Robot 0 holds the task; robot 1 sits idle in the dead end's mouth.
        planner.SubmitTask(new PlanningTask(7, [deadEnd]));
        var poses = new[] { new RobotPose(map.CellAt(1, 1), Heading.East), new RobotPose(map.CellAt(2, 4), Heading.South) };
        var validator = new PlanValidator(map);
        var after = new RobotPose[2];
        var finished = false;
        for (var step = 0; step < 40 && !finished; step++)
        {
            var res = planner.PlanStep(poses, NoLimit);
            finished = res.FinishedTaskIds.Contains(7);
            Assert.True(validator.ValidateStep(poses, res.Actions, after), $"step {step} invalid");
            after.CopyTo(poses, 0);
        }

        Assert.True(finished, "the task in the dead end was never finished");
    }

    [Fact]
    public void A_step_that_throws_inside_the_planner_becomes_an_all_wait_step_and_the_next_steps_plan_again()
    {
        var map = TestData.ParseMap("""
            @@@@@@@@
            @......@
            @@@@@@@@
            """);
        var clock = new FaultingClock();
        var planner = new PibtFleetPlanner(map, 1, new PlannerOptions { Seed = 1, MaxParallelism = 1, TimeProvider = clock });
        planner.SubmitTask(new PlanningTask(3, [map.CellAt(1, 6)]));
        var poses = new[] { new RobotPose(map.CellAt(1, 1), Heading.East) };
        var validator = new PlanValidator(map);
        var after = new RobotPose[1];

        var first = planner.PlanStep(poses, NoLimit);
        Assert.Equal(RobotAction.Forward, first.Actions[0]);

        // The step's second reading of the clock throws: a defect deep inside the step.
        clock.ThrowAtCall = clock.Calls + 2;
        var faulted = planner.PlanStep(poses, NoLimit);
        Assert.True(faulted.UsedFallback);
        Assert.Equal(RobotAction.Wait, faulted.Actions[0]);
        Assert.Equal(1, planner.Counters.Faults);
        Assert.IsType<InjectedFault>(planner.LastFault);

        var finished = false;
        for (var step = 0; step < 20 && !finished; step++)
        {
            var res = planner.PlanStep(poses, NoLimit);
            Assert.True(validator.ValidateStep(poses, res.Actions, after), $"step {step} after the fault invalid");
            after.CopyTo(poses, 0);
            finished = res.FinishedTaskIds.Contains(3);
        }

        Assert.True(finished, "the planner did not recover after the faulted step");
        Assert.Equal(1, planner.Counters.Faults);
    }

    private sealed class InjectedFault() : Exception("injected planner fault");

    /// <summary>A clock that throws once, at a chosen call, to stand in for a defect inside a step.</summary>
    private sealed class FaultingClock : TimeProvider
    {
        public long Calls { get; private set; }

        public long ThrowAtCall { get; set; } = -1;

        public override long GetTimestamp()
        {
            if (++Calls == ThrowAtCall)
            {
                throw new InjectedFault();
            }

            return System.GetTimestamp();
        }
    }

    public static TheoryData<string, string, int, int, int> RealMaps => new()
    {
        // name, map path, robots, steps, floor of finished tasks (measured 145 and 152, see test output)
        { "random-32-32-20", "movingai/mapf-map/random-32-32-20.map", 30, 300, 90 },
        { "warehouse_small", "lorr/2023-example/warehouse.domain/maps/warehouse_small.map", 20, 500, 90 },
    };

    [Theory]
    [MemberData(nameof(RealMaps))]
    public void Lifelong_run_on_a_real_map_is_valid_every_step_and_keeps_finishing_tasks(string name, string mapPath, int robots, int steps, int floor)
    {
        var map = TestData.LoadMap(RepoPaths.Data(mapPath));
        var starts = TestData.RandomCells(map, robots, seed: 11);
        var tasks = TestData.RandomTasks(map, 2000, seed: 12);
        var r = new LifelongRun(map, tasks, 1.5) { StallLimit = 40 }.Run(Planner(map, robots), starts, steps, NoLimit);
        Report(name, r);
        Assert.Empty(r.Conflicts);
        Assert.Equal(0, r.InvalidSteps);
        Assert.Equal(0, r.FallbackSteps);
        Assert.True(r.TasksFinished >= floor, $"{r.TasksFinished} tasks finished, floor {floor}");
        Assert.Equal(r.TasksFinished, r.TasksFinishedObserved);
        Assert.True(r.StalledRobots <= robots / 4, $"{r.StalledRobots} robots stalled more than 40 steps with a task");
    }

    [Fact]
    public void Lorr_random_32_32_20_with_100_robots_does_not_gridlock_and_beats_the_floor()
    {
        // Measured 1,178 tasks in 500 steps with EPIBT and highways (PIBT alone 912; Start-Kit default
        // planner 898; best known 1,186). A planner that lets a jam grow (the livelock around an
        // occupied dead-end goal) got 594 with 87 stalled robots.
        var (map, starts, tasks, reveal) = TestData.LoadInstance(RepoPaths.Data("lorr/2024-example/random.domain/random_32_32_20_100.json"));
        var r = new LifelongRun(map, tasks, reveal) { StallLimit = 50 }.Run(Planner(map, starts.Count), starts, 500, NoLimit);
        Report("random_32_32_20_100 (500 steps)", r);
        Assert.Equal(0, r.InvalidSteps);
        Assert.True(r.TasksFinished >= 1050, $"{r.TasksFinished} tasks");
        Assert.True(r.StalledRobots <= 2, $"{r.StalledRobots} robots stalled more than 50 steps with a task");
        Assert.Equal(r.TasksFinished, r.TasksFinishedObserved);
    }

    [Fact]
    public void Same_seed_gives_the_same_actions_every_step()
    {
        var map = TestData.LoadMap(RepoPaths.Data("movingai/mapf-map/random-32-32-20.map"));
        var starts = TestData.RandomCells(map, 25, seed: 5);
        var tasks = TestData.RandomTasks(map, 500, seed: 6);
        var run = new LifelongRun(map, tasks, 1.5) { RecordActions = true };
        var a = run.Run(Planner(map, 25, seed: 9), starts, 100, NoLimit);
        var b = run.Run(Planner(map, 25, seed: 9), starts, 100, NoLimit);
        Assert.Equal(a.ActionLog!.Count, b.ActionLog!.Count);
        for (var s = 0; s < a.ActionLog.Count; s++)
        {
            Assert.True(a.ActionLog[s].AsSpan().SequenceEqual(b.ActionLog[s]), $"step {s} differs");
        }
    }

    [Fact]
    public void Zero_budget_returns_the_all_wait_fallback_but_still_records_progress()
    {
        var map = TestData.ParseMap("""
            .....
            """);
        var planner = Planner(map, 1);
        planner.SubmitTask(new PlanningTask(1, [2, 4]));
        var first = planner.PlanStep([new RobotPose(0, Heading.East)], NoLimit);
        Assert.Equal(RobotAction.Forward, first.Actions[0]);
        Assert.Equal(1, first.Assignments[0].TaskId);

        var res = planner.PlanStep([new RobotPose(2, Heading.East)], TimeSpan.Zero);
        Assert.True(res.UsedFallback);
        Assert.All(res.Actions, a => Assert.Equal(RobotAction.Wait, a));
        Assert.Contains((0, 1, 0), res.ErrandsReached);
        Assert.Equal(new RobotAssignment(1, 1, 4), res.Assignments[0]);
    }

    [Fact]
    public void Budget_running_out_mid_step_returns_the_fallback()
    {
        var map = TestData.LoadMap(RepoPaths.Data("movingai/mapf-map/random-32-32-20.map"));
        var clock = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromMilliseconds(5) };
        var planner = new PibtFleetPlanner(map, 10, new PlannerOptions { TimeProvider = clock, MaxParallelism = 1 });
        foreach (var t in TestData.RandomTasks(map, 15, seed: 2).Select((e, i) => new PlanningTask(i, e)))
        {
            planner.SubmitTask(t);
        }

        var poses = TestData.RandomCells(map, 10, 4).Select(c => new RobotPose(c, Heading.East)).ToArray();
        var res = planner.PlanStep(poses, TimeSpan.FromMilliseconds(12));
        Assert.True(res.UsedFallback);
        Assert.All(res.Actions, a => Assert.Equal(RobotAction.Wait, a));
        Assert.Equal(1, planner.Counters.Fallbacks);
    }

    [Fact]
    public void Odd_poses_never_throw_robots_on_obstacles_wait_and_are_counted()
    {
        var map = TestData.ParseMap("""
            ..@..
            .....
            """);
        var planner = Planner(map, 3);
        planner.SubmitTask(new PlanningTask(1, [map.CellAt(1, 4)]));
        var poses = new[]
        {
            new RobotPose(map.CellAt(0, 2), Heading.East),  // on the obstacle
            new RobotPose(map.CellAt(1, 0), Heading.East),
            new RobotPose(99, Heading.North),               // off the map
        };
        var res = planner.PlanStep(poses, NoLimit);
        Assert.False(res.UsedFallback);
        Assert.Equal(RobotAction.Wait, res.Actions[0]);
        Assert.Equal(RobotAction.Wait, res.Actions[2]);
        Assert.Equal(2, planner.Counters.IllegalPoses);

        var wrongLength = planner.PlanStep(poses.AsSpan(0, 2), NoLimit);
        Assert.True(wrongLength.UsedFallback);
        Assert.Equal(3, wrongLength.Actions.Length);
        Assert.Equal(1, planner.Counters.BadInputs);
    }

    [Fact]
    public void Submitting_a_task_with_an_errand_on_an_obstacle_names_the_task_and_errand()
    {
        var map = TestData.ParseMap("""
            ..@..
            """);
        var planner = Planner(map, 1);
        var ex = Assert.Throws<ArgumentException>(() => planner.SubmitTask(new PlanningTask(42, [0, 2])));
        Assert.Contains("task 42: errand 1 (cell 2", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => planner.SubmitTask(new PlanningTask(43, [])));
        Assert.Throws<ArgumentException>(() => planner.SubmitTask(new PlanningTask(44, [17])));
        Assert.Equal(0, planner.OpenTaskCount);
    }

    [Fact]
    public void An_idle_robot_closer_to_an_unstarted_task_takes_it_over()
    {
        var map = TestData.ParseMap("""
            ..........
            """);
        var planner = Planner(map, 2);
        planner.SubmitTask(new PlanningTask(1, [9]));
        // Robot 1 (2 turns + 6 forward = 8) beats robot 0 (9 forward) to the task.
        var res = planner.PlanStep([new RobotPose(0, Heading.East), new RobotPose(3, Heading.West)], NoLimit);
        Assert.Equal(1, res.Assignments[1].TaskId);
        Assert.Equal(-1, res.Assignments[0].TaskId);

        // Robot 0 (idle) turns up next to the errand before robot 1 reached it: it takes the task over.
        var poses2 = new[] { new RobotPose(8, Heading.East), new RobotPose(3, Heading.West) };
        var res2 = planner.PlanStep(poses2, NoLimit);
        Assert.Equal(1, res2.Assignments[0].TaskId);
        Assert.Equal(-1, res2.Assignments[1].TaskId);
    }

    [Fact]
    public void A_task_the_site_reports_done_is_dropped_and_its_robot_takes_the_next_one()
    {
        var map = TestData.ParseMap("""
            ..........
            """);
        var planner = Planner(map, 1);
        planner.SubmitTask(new PlanningTask(1, [9]));
        planner.SubmitTask(new PlanningTask(2, [5]));
        var poses = new[] { new RobotPose(7, Heading.East) };
        Assert.Equal(1, planner.PlanStep(poses, NoLimit).Assignments[0].TaskId); // cell 9 is nearer than 5

        // The site saw the robot cross cell 9 on a route planned earlier: the planner drops task 1.
        Assert.True(planner.CompleteTask(1));
        Assert.False(planner.IsOpen(1));
        Assert.False(planner.CompleteTask(1));   // already gone
        Assert.False(planner.CompleteTask(42));  // never submitted
        Assert.Equal(1, planner.Counters.TasksCompletedBySite);
        var next = planner.PlanStep(poses, NoLimit);
        Assert.Equal(2, next.Assignments[0].TaskId);
        Assert.Empty(next.FinishedTaskIds); // the site's finish is not counted again as the planner's own
    }

    [Fact]
    public void Pinned_tasks_go_to_their_robot_in_submission_order_even_when_another_robot_is_nearer()
    {
        var map = TestData.ParseMap("""
            ..........
            """);
        var planner = Planner(map, 2);
        planner.SubmitTask(new PlanningTask(1, [8], PinnedRobot: 0));
        planner.SubmitTask(new PlanningTask(2, [1], PinnedRobot: 0));
        planner.SubmitTask(new PlanningTask(3, [5]));
        var poses = new[] { new RobotPose(0, Heading.East), new RobotPose(7, Heading.West) };
        var validator = new PlanValidator(map);
        var after = new RobotPose[2];
        var finished = new List<int>();
        for (var step = 0; step < 40 && finished.Count < 3; step++)
        {
            var res = planner.PlanStep(poses, NoLimit);
            finished.AddRange(res.FinishedTaskIds);
            if (step == 0)
            {
                Assert.Equal(1, res.Assignments[0].TaskId); // robot 1 is nearer to cell 8, but task 1 is robot 0's
                Assert.Equal(3, res.Assignments[1].TaskId);
            }

            Assert.True(validator.ValidateStep(poses, res.Actions, after), $"step {step}");
            after.CopyTo(poses, 0);
        }

        Assert.Equal(3, finished.Count);
        Assert.True(finished.IndexOf(1) < finished.IndexOf(2), "robot 0 did its pinned tasks out of order");
        var ex = Assert.Throws<ArgumentException>(() => planner.SubmitTask(new PlanningTask(9, [2], PinnedRobot: 2)));
        Assert.Contains("pinned to robot 2", ex.Message, StringComparison.Ordinal);
    }
}
