using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Tests.World;

public sealed class InvariantTests
{
    private static readonly TimeSpan Dt = TimeSpan.FromMilliseconds(10);

    private static MotorCommand Forward(double v) => new() { LinearMps = (float)v, TimeoutMs = 60_000 };

    private static void Run(SimWorld world, int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            world.Step(Dt);
        }
    }

    [Fact]
    public void Two_robots_driven_into_one_cell_are_reported_once_with_both_ids_and_the_cell()
    {
        var world = new SimWorld(TestMaps.Open(6, 3));
        var a = world.AddRobot("alpha", world.Map.CellAt(1, 1), Heading.East);
        world.AddRobot("beta", world.Map.CellAt(1, 3), Heading.East); // parked
        world.ApplyCommand(a, Forward(1.0));
        Run(world, 250); // alpha is at x = 3.5 m, inside beta's cell

        var v = Assert.Single(world.Violations, x => x.Kind == InvariantKind.SharedCell);
        Assert.Equal(["alpha", "beta"], v.RobotIds.Order());
        Assert.Equal([world.Map.CellAt(1, 3)], v.Cells);
        Assert.Contains("both in cell 9 (row 1, column 3)", v.Message, StringComparison.Ordinal);
        Assert.True(v.Time > TimeSpan.Zero && v.StepNumber > 0);
        Assert.Same(world.FirstViolation, world.Violations[0]);
    }

    [Fact]
    public void A_robot_driven_into_an_obstacle_is_reported_with_the_cell()
    {
        var world = new SimWorld(TestMaps.FromRows(
            ".....",
            "...@.",
            "....."));
        var r = world.AddRobot("r0", world.Map.CellAt(1, 1), Heading.East);
        world.ApplyCommand(r, Forward(1.0));
        Run(world, 250);

        // The body touches the wall first (a collision while moving), then the centre enters the obstacle cell.
        Assert.Equal(InvariantKind.Collision, world.FirstViolation?.Kind);
        Assert.Contains("touched a wall", world.FirstViolation!.Message, StringComparison.Ordinal);
        var v = Assert.Single(world.Violations, x => x.Kind == InvariantKind.InObstacle);
        Assert.Equal(["r0"], v.RobotIds);
        Assert.Equal([world.Map.CellAt(1, 3)], v.Cells);
        Assert.True(world.GetRobot(r).Bumper);
    }

    [Fact]
    public void A_robot_leaving_the_map_is_reported()
    {
        var world = new SimWorld(TestMaps.Open(3, 1));
        var r = world.AddRobot("r0", 2, Heading.East);
        world.ApplyCommand(r, Forward(1.0));
        Run(world, 150);
        var v = Assert.Single(world.Violations, x => x.Kind == InvariantKind.OffMap);
        Assert.Equal(["r0"], v.RobotIds);
    }

    [Fact]
    public void Two_robots_passing_through_each_other_in_one_step_are_reported_as_a_swap()
    {
        var world = new SimWorld(TestMaps.Open(6, 1), new SimWorldOptions { MaxLinearAccelerationMps2 = 1000 });
        var a = world.AddRobot("a", 2, Heading.East);
        var b = world.AddRobot("b", 3, Heading.West);
        world.ApplyCommand(a, Forward(1.0));
        world.ApplyCommand(b, Forward(1.0));
        world.Step(TimeSpan.FromSeconds(1));

        Assert.Equal(3, world.GetRobot(a).Cell);
        Assert.Equal(2, world.GetRobot(b).Cell);
        var v = Assert.Single(world.Violations);
        Assert.Equal(InvariantKind.Swap, v.Kind);
        Assert.Equal(["a", "b"], v.RobotIds);
        Assert.Equal([2, 3], v.Cells);
    }

    [Fact]
    public void Robots_in_separate_lanes_break_no_invariant()
    {
        var world = new SimWorld(TestMaps.Open(10, 3));
        var a = world.AddRobot("a", world.Map.CellAt(0, 0), Heading.East);
        var b = world.AddRobot("b", world.Map.CellAt(2, 9), Heading.West);
        world.ApplyCommand(a, Forward(1.0));
        world.ApplyCommand(b, Forward(1.0));
        Run(world, 700);
        Assert.Null(world.FirstViolation);
        Assert.Equal(0, world.ViolationCount);
    }

    [Fact]
    public void With_ThrowOnViolation_the_offending_step_throws_the_violation()
    {
        var world = new SimWorld(TestMaps.FromRows("..@"), new SimWorldOptions { ThrowOnViolation = true });
        var r = world.AddRobot("r0", 0, Heading.East);
        world.ApplyCommand(r, Forward(1.0));
        var ex = Assert.Throws<InvariantViolationException>(() => Run(world, 500));
        Assert.Equal(InvariantKind.Collision, ex.Violation.Kind); // the body reaches the wall before the centre does
        Assert.Same(world.FirstViolation, ex.Violation);
    }
}
