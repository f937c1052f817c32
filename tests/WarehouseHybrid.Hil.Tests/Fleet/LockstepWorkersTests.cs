using WarehouseHybrid.Hil.Demo;
using WarehouseHybrid.Hil.Fleet;

namespace WarehouseHybrid.Hil.Tests.Fleet;

/// <summary>The lock-step fleet's worker threads: every robot exactly once per phase, and no dependence on the threads.</summary>
public sealed class LockstepWorkersTests
{
    [Theory]
    [InlineData(1, 7)]
    [InlineData(2, 500)]
    [InlineData(4, 3)]
    [InlineData(3, 1000)]
    public void Every_item_runs_exactly_once_per_phase_whichever_thread_claims_it(int participants, int items)
    {
        var counts = new int[items];
        using var workers = new LockstepWorkers(participants, items, (from, to) =>
        {
            for (var i = from; i < to; i++)
            {
                Interlocked.Increment(ref counts[i]);
            }
        });

        for (var phase = 1; phase <= 300; phase++)
        {
            var bound = workers.Run();

            // Run returns only after the whole phase: every item has been counted exactly once more.
            Assert.All(counts, c => Assert.Equal(phase, c));
            Assert.True(bound >= 0);
        }
    }

    [Fact]
    public void A_side_job_runs_once_while_phases_still_run_every_item_once()
    {
        const int items = 200;
        var counts = new int[items];
        using var workers = new LockstepWorkers(2, items, (from, to) =>
        {
            for (var i = from; i < to; i++)
            {
                counts[i]++;
            }
        });

        for (var round = 1; round <= 50; round++)
        {
            var sideRuns = 0;
            using var release = new ManualResetEventSlim(false);
            workers.StartSide(() =>
            {
                // Held until the caller has run phases alone: they must not wait for the busy thread.
                Assert.True(release.Wait(TimeSpan.FromSeconds(30)), "the side job was never released");
                sideRuns++;
            });
            for (var phase = 0; phase < 3; phase++)
            {
                workers.Run();
            }

            release.Set();
            workers.JoinSide();
            workers.Run(); // the thread joins phases again after its job
            Assert.Equal(1, sideRuns);
            Assert.All(counts, c => Assert.Equal(round * 4, c));
        }
    }

    [Fact]
    public void A_side_job_that_throws_rethrows_at_the_join_and_leaves_the_workers_usable()
    {
        using var workers = new LockstepWorkers(2, 10, (_, _) => { });
        workers.StartSide(() => throw new InvalidOperationException("planner failed"));
        var thrown = Assert.Throws<InvalidOperationException>(() => workers.JoinSide());
        Assert.Equal("planner failed", thrown.Message);
        var ran = false;
        workers.StartSide(() => ran = true);
        workers.JoinSide();
        Assert.True(ran);
        Assert.Throws<InvalidOperationException>(() => new LockstepWorkers(1, 10, (_, _) => { }).StartSide(() => { }));
    }

    [Fact]
    public async Task A_site_that_plans_beside_the_world_step_sends_the_same_messages_on_one_and_two_threads()
    {
        var map = DemoMap.GenerateWarehouse(57, 33);
        async Task<string> RunAsync(int threads)
        {
            await using var fleet = new LockstepFleet(map, new FleetOptions { Robots = 24, Seed = 5, Parallelism = threads });
            fleet.Link.Latency = TimeSpan.FromMilliseconds(30); // the link draws jitter from one generator: its order matters
            fleet.Link.Jitter = TimeSpan.FromMilliseconds(25);
            var delivered = new List<string>();
            fleet.Link.OnDelivered = (robot, message) => delivered.Add($"{fleet.Now.Ticks} {robot} {message}");
            fleet.Start();
            fleet.RunFor(TimeSpan.FromSeconds(3));
            fleet.Link.SetPartitioned(3, true); // a fault between steps, while the site's step is pending
            fleet.RunFor(TimeSpan.FromSeconds(1));
            fleet.Link.SetPartitioned(3, false);
            fleet.RunFor(TimeSpan.FromSeconds(1));
            var stats = fleet.Site!.Stats;
            Assert.True(stats.SegmentsSent > 0 && delivered.Count > 0, "the site planned and its messages arrived");
            return $"{stats with { PlanWallTime = TimeSpan.Zero }}\n{string.Join('\n', delivered)}\n"
                + string.Join('\n', fleet.World.GetRobots().Select(r => r.ToString()));
        }

        Assert.Equal(await RunAsync(1), await RunAsync(2));
    }

    [Fact]
    public async Task A_fleet_on_two_threads_ends_exactly_where_the_same_fleet_on_one_thread_does()
    {
        var map = DemoMap.GenerateWarehouse(57, 33);
        async Task<string> RunAsync(int threads)
        {
            await using var fleet = new LockstepFleet(map, new FleetOptions { Robots = 24, Seed = 3, Parallelism = threads });
            fleet.Start();
            var start = fleet.World.GetRobots();
            fleet.RunFor(TimeSpan.FromSeconds(4));
            Assert.Contains(fleet.World.GetRobots(), r => r.X != start[r.Index].X || r.Y != start[r.Index].Y); // the plans moved robots
            Assert.Equal(0, fleet.World.ViolationCount);
            Assert.True(fleet.CriticalPathCpu > TimeSpan.Zero || !OperatingSystem.IsLinux());
            return string.Join('\n', fleet.World.GetRobots().Select(r => r.ToString()));
        }

        var one = await RunAsync(1);
        var two = await RunAsync(2);
        Assert.Equal(one, two);
        Assert.Contains("robot-023", one, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Violations_and_noisy_odometry_on_two_threads_are_recorded_exactly_as_on_one_thread()
    {
        var map = DemoMap.GenerateWarehouse(57, 33);
        async Task<string> RunAsync(int threads)
        {
            // Weak brakes and a robot put onto another make violations of the serial and the per-robot (ranged) checks.
            await using var fleet = new LockstepFleet(map, new FleetOptions
            {
                Robots = 24, Seed = 3, Parallelism = threads,
                ConfigureWorld = w => w with { OdometryNoiseFraction = 0.02, BrakeDecelerationMps2 = 0.6 },
            });
            fleet.Start();
            fleet.RunFor(TimeSpan.FromSeconds(3));
            var first = fleet.World.GetRobot(0);
            fleet.World.Teleport(1, first.X + 0.1, first.Y, first.ThetaRad); // a shared cell and touching bodies
            fleet.RunFor(TimeSpan.FromSeconds(3));
            Assert.True(fleet.World.ViolationCount > 0);
            return string.Join('\n', fleet.World.Violations.Select(v => v.ToString()))
                + string.Join('\n', fleet.World.GetRobots().Select(r => r.ToString()));
        }

        Assert.Equal(await RunAsync(1), await RunAsync(2));
    }
}
