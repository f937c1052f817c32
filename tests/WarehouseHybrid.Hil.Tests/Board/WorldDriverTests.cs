using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Hil.Board;
using WarehouseHybrid.Hil.Tests.World;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Hil.World;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Board;

public sealed class WorldDriverTests
{
    private static (SimWorld World, VirtualBoard Board, InMemorySerialPair Pair) OneRobot(SimWorldOptions? options = null)
    {
        var world = new SimWorld(TestMaps.FromRows("....@"), options);
        world.AddRobot("r0", 0, Heading.East);
        var pair = InMemorySerialPair.Create();
        return (world, new VirtualBoard(pair.BoardEnd, world, 0), pair);
    }

    [Fact]
    public async Task Real_time_driver_steps_once_per_period_of_the_time_provider()
    {
        var (world, board, pair) = OneRobot();
        using var _ = pair;
        var time = new FakeTimeProvider();
        await using var driver = new WorldDriver(world, [board], new WorldDriverOptions { StepPeriod = TimeSpan.FromMilliseconds(10) }, time);
        driver.Start();

        for (var k = 1; k <= 10; k++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            var expected = k;
            Eventually.True(() => driver.Stats.Steps == expected, $"step {expected}");
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), world.Now);
        Assert.Equal(0, driver.Stats.SkippedSteps);
        Assert.Equal(5, board.Stats.SensorFramesSent); // 50 Hz over 100 ms
        await driver.StopAsync();
        Assert.False(driver.IsRunning);
    }

    [Fact]
    public async Task A_stall_is_caught_up_only_up_to_the_limit_and_the_rest_is_skipped_and_counted()
    {
        var (world, board, pair) = OneRobot();
        using var _ = pair;
        var time = new FakeTimeProvider();
        await using var driver = new WorldDriver(world, [board], new WorldDriverOptions { MaxCatchUpSteps = 5 }, time);
        driver.Start();

        time.Advance(TimeSpan.FromSeconds(1)); // 100 periods at once
        Eventually.True(() => driver.Stats.Steps == 5 && driver.Stats.SkippedSteps == 95, "5 steps run and 95 skipped");
        Assert.True(driver.Stats.LateWakeUps >= 1);
        Assert.True(driver.Stats.MaxLateness >= TimeSpan.FromMilliseconds(940));

        time.Advance(TimeSpan.FromMilliseconds(10));
        Eventually.True(() => driver.Stats.Steps == 6, "back on schedule");
        Assert.Equal(TimeSpan.FromMilliseconds(60), world.Now);
    }

    [Fact]
    public async Task A_throwing_invariant_stops_the_driver_and_keeps_the_violation()
    {
        var (world, board, pair) = OneRobot(new SimWorldOptions { ThrowOnViolation = true, MaxLinearAccelerationMps2 = 100 });
        using var _ = pair;
        world.ApplyCommand(0, new MotorCommand { LinearMps = 1.5f, TimeoutMs = 60_000 });
        var time = new FakeTimeProvider();
        await using var driver = new WorldDriver(world, [board], timeProvider: time);
        driver.Start();

        while (!driver.Stopped.IsCompleted && time.GetUtcNow() < time.Start.AddSeconds(10))
        {
            var before = driver.Stats.Steps;
            time.Advance(TimeSpan.FromMilliseconds(10));
            Eventually.True(() => driver.Stats.Steps > before || driver.Stopped.IsCompleted, "a step or the stop");
        }

        await driver.Stopped.WaitAsync(TimeSpan.FromSeconds(5));
        var ex = Assert.IsType<InvariantViolationException>(driver.Fault);
        Assert.Equal(InvariantKind.Collision, ex.Violation.Kind); // the body reaches the wall first
        Assert.Equal(world.FirstViolation, ex.Violation);
    }

    [Fact]
    public void Driver_on_the_callers_thread_runs_a_fleet_faster_than_real_time()
    {
        var world = new SimWorld(TestMaps.Open(20, 20));
        var boards = new List<VirtualBoard>();
        var pairs = new List<InMemorySerialPair>();
        for (var i = 0; i < 10; i++)
        {
            var r = world.AddRobot($"r{i}", world.Map.CellAt(i * 2, 0), Heading.East);
            var pair = InMemorySerialPair.Create();
            pairs.Add(pair);
            boards.Add(new VirtualBoard(pair.BoardEnd, world, r));
            world.ApplyCommand(r, new MotorCommand { LinearMps = 1, TimeoutMs = 60_000 });
        }

        using var driver = new WorldDriver(world, boards);
        driver.RunSteps(1000); // 10 s of world time

        Assert.Equal(TimeSpan.FromSeconds(10), world.Now);
        Assert.All(boards, b => Assert.Equal(500, b.Stats.SensorFramesSent));
        Assert.Null(world.FirstViolation);
        Assert.All(world.GetRobots(), s => Assert.Equal(0.5 + 9.5, s.X, 6)); // column 0, 0.5 m ramp + 9 m cruise
        pairs.ForEach(p => p.Dispose());
    }
}
