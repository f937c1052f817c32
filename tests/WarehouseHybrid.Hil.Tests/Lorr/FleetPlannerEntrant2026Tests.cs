using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Hil.Lorr;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Tests.Lorr;

/// <summary>
/// The 2026 entrant's schedule against the system's view (ADR 0007, item 7): a robot about to land
/// on its single-errand task gets its next task already; a task the system did not credit in time
/// comes back to the planner; a task taken over and finished within one rollout is proposed once.
/// </summary>
public sealed class FleetPlannerEntrant2026Tests
{
    private static readonly GridMap Corridor = new(8, 1, Enumerable.Repeat(CellKind.Free, 8).ToArray(), "corridor");

    private static (FleetPlannerEntrant Entrant, PibtFleetPlanner Planner) Create(int robots, bool anticipate = true)
    {
        var planner = new PibtFleetPlanner(Corridor, robots, new PlannerOptions { Seed = 1, MaxParallelism = 1, NoCycles = true });
        return (new FleetPlannerEntrant(planner) { Anticipate = anticipate }, planner);
    }

    // One robot heading east on cell 1, its staged move onto cell 2 under way (tick 5 of 10).
    private static LorrObservation Landing(int systemTask, int[] open, int[]? finished = null) =>
        new(0, [new RobotPose(1, Heading.East)], null)
        {
            Execution = new LorrExecutionState([new RobotPose(2, Heading.East)], [1], [systemTask], Window: 2)
            {
                ActionProgress = [5],
                TicksPerAction = 10,
                TicksUntilApplied = 10,
                OpenTasks = open,
                FinishedSinceLastCall = finished ?? [],
            },
        };

    private static int Propose(FleetPlannerEntrant entrant, LorrObservation observation) =>
        entrant.Compute(observation, TimeSpan.FromSeconds(5), CancellationToken.None).Schedule![0];

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public void A_robot_landing_on_its_single_errand_task_before_the_schedule_applies_is_proposed_its_next_task(bool anticipate, int expected)
    {
        var (entrant, _) = Create(1, anticipate);
        entrant.Reveal(0, [2]);
        entrant.Reveal(1, [6]);

        // First call: the system has given the robot nothing yet; the rollout takes task 0 (the robot
        // is about to stand on it) and finishes it, so the robot is held for the system to confirm.
        Assert.Equal(0, Propose(entrant, Landing(-1, [0, 1])));

        // Second call: the system holds task 0 for the robot, which lands on cell 2 in 5 ticks, before
        // this schedule applies in 10: anticipated, it is proposed task 1 (no stale "task already
        // finished" entry, no period without a task); without anticipation it keeps proposing task 0.
        Assert.Equal(expected, Propose(entrant, Landing(0, [0, 1])));
    }

    [Fact]
    public void A_task_a_delay_kept_the_robot_from_before_the_switch_is_handed_back_to_the_planner()
    {
        var (entrant, planner) = Create(1);
        entrant.Reveal(0, [2]);
        entrant.Reveal(1, [6]);
        Propose(entrant, Landing(-1, [0, 1]));
        Assert.Equal(1, Propose(entrant, Landing(0, [0, 1])));
        Assert.False(planner.IsOpen(0));

        // A delay held the robot: the system moved it to task 1 with task 0 still open and nobody's.
        Propose(entrant, Landing(1, [0, 1]));
        Assert.Equal(1, entrant.TasksHandedBack);
        Assert.True(planner.IsOpen(0));
    }

    [Fact]
    public void A_task_the_system_finished_first_is_dropped_from_the_planner()
    {
        var (entrant, planner) = Create(1);
        entrant.Reveal(0, [7]);
        entrant.Reveal(1, [5]);
        var far = new LorrObservation(0, [new RobotPose(0, Heading.East)], null)
        {
            Execution = new LorrExecutionState([new RobotPose(0, Heading.East)], [0], [-1], Window: 2) { OpenTasks = [0, 1] },
        };
        Assert.Equal(1, Propose(entrant, far)); // cell 5 is nearer

        // The system credited task 1 (the robot crossed cell 5 on a route staged earlier): the planner
        // drops it and the robot, idle in the system, is proposed the remaining task.
        var after = far with
        {
            Execution = new LorrExecutionState([new RobotPose(0, Heading.East)], [0], [-1], Window: 2) { OpenTasks = [0], FinishedSinceLastCall = [1] },
        };
        Assert.Equal(0, Propose(entrant, after));
        Assert.False(planner.IsOpen(1));
        Assert.Equal(0, entrant.TasksHandedBack);
    }

    [Fact]
    public void A_task_taken_over_and_finished_within_one_rollout_is_proposed_only_by_its_new_robot()
    {
        // Robot 0 holds task 0 (cell 4) from three cells away; then it turns up facing away while robot 1, idle,
        // stands just before the cell: robot 1 takes the task over in the rollout's first step and
        // finishes it within the rollout. Robot 0 must not go on proposing task 0 as if it had finished
        // it (two robots proposing one task is a schedule error).
        var (entrant, _) = Create(2);
        entrant.Reveal(0, [4]);
        var first = new LorrObservation(0, [new RobotPose(1, Heading.East), new RobotPose(7, Heading.East)], null)
        {
            Execution = new LorrExecutionState([new RobotPose(1, Heading.East), new RobotPose(7, Heading.East)], [0, 0], [-1, -1], Window: 2) { OpenTasks = [0] },
        };
        var schedule = entrant.Compute(first, TimeSpan.FromSeconds(5), CancellationToken.None).Schedule!;
        Assert.Equal([0, -1], schedule);

        var poses = new[] { new RobotPose(1, Heading.West), new RobotPose(3, Heading.East) };
        var second = new LorrObservation(10, poses, null)
        {
            Execution = new LorrExecutionState(poses, [0, 0], [0, -1], Window: 2) { OpenTasks = [0] },
        };
        schedule = entrant.Compute(second, TimeSpan.FromSeconds(5), CancellationToken.None).Schedule!;
        Assert.Equal([-1, 0], schedule);
    }
}
