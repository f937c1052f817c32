using CsCheck;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.OneShot;
using static WarehouseHybrid.Planning.Tests.OneShot.OneShotTestMaps;

namespace WarehouseHybrid.Planning.Tests.OneShot;

public sealed class OneShotSolverTests
{
    [Fact]
    public async Task Two_agents_swapping_in_a_corridor_use_the_side_pocket()
    {
        var map = Map("@@.@@", ".....");
        var p = Problem(map, ((1, 0), (1, 4)), ((1, 4), (1, 0)));
        var r = await Solve(p, Options());
        AssertValid(p, r);
        Assert.Equal(8, r.LowerBound);
        Assert.True(r.SumOfCosts <= 8 + 6, $"sum of costs {r.SumOfCosts}");
        Assert.Contains(r.Paths!.SelectMany(x => x), c => c == map.CellAt(0, 2));
    }

    [Fact]
    public async Task Agents_starting_on_their_goals_cost_nothing()
    {
        var map = Map("....", "....");
        var p = Problem(map, ((0, 0), (0, 0)), ((1, 3), (1, 3)), ((0, 2), (0, 2)));
        var r = await Solve(p, Options());
        AssertValid(p, r);
        Assert.Equal(0, r.SumOfCosts);
        Assert.Equal(0, r.Makespan);
    }

    [Fact]
    public async Task An_agent_resting_on_its_goal_in_a_corridor_steps_aside_and_returns()
    {
        var map = Map("@@@.@", ".....");
        var p = Problem(map, ((1, 0), (1, 4)), ((1, 2), (1, 2)));
        var r = await Solve(p, Options());
        AssertValid(p, r);
        Assert.True(r.Paths![1].Length > 1, "the resting agent had to move");
        Assert.Contains(map.CellAt(0, 3), r.Paths[1]);
    }

    [Fact]
    public async Task A_full_ring_rotates_in_one_step_because_cycles_are_allowed()
    {
        // Eight agents on a 3x3 ring around an obstacle, each one step clockwise.
        var map = Map("...", ".@.", "...");
        (int, int)[] ring = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)];
        var p = Problem(map, ring.Select((c, i) => (c, ring[(i + 1) % ring.Length])).ToArray());
        var r = await Solve(p, Options());
        AssertValid(p, r);
        Assert.Equal(8, r.SumOfCosts);
        Assert.Equal(1, r.Makespan);
    }

    [Fact]
    public async Task A_nearly_full_map_is_solved()
    {
        // 11 agents on 12 cells: reverse the order of everyone.
        var map = Map("....", "....", "....");
        var cells = Enumerable.Range(0, 11).Select(i => (i / 4, i % 4)).ToArray();
        var p = Problem(map, cells.Select((c, i) => (c, cells[cells.Length - 1 - i])).ToArray());
        var r = await Solve(p, Options());
        AssertValid(p, r);
    }

    [Fact]
    public async Task A_swap_in_a_dead_end_corridor_is_proved_unsolvable_within_the_budget()
    {
        var map = Map(".....");
        var p = Problem(map, ((0, 0), (0, 4)), ((0, 4), (0, 0)));
        var r = await Solve(p, Options(ms: 60_000));
        Assert.Equal(MapfStatus.Unsolvable, r.Status);
        Assert.Null(r.Paths);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Contains("no solution exists", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_goal_in_another_component_is_unsolvable_at_once_and_names_the_agent()
    {
        var map = Map("..@..");
        var p = Problem(map, ((0, 0), (0, 1)), ((0, 4), (0, 0)));
        var r = await Solve(p, Options());
        Assert.Equal(MapfStatus.Unsolvable, r.Status);
        Assert.Contains("agent 1", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_budget_ends_first_the_result_is_a_timeout_not_an_exception()
    {
        // Every clock reading advances the fake clock by a second: the 3 s budget ends after a few polls.
        var map = Map(new string('.', 40), new string('.', 40), new string('.', 40));
        var p = Problem(map, Enumerable.Range(0, 40).Select(i => ((i % 3, i), ((i + 1) % 3, 39 - i))).ToArray());
        var time = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) };
        var r = await Solve(p, Options(ms: 3_000), time);
        Assert.Equal(MapfStatus.TimedOut, r.Status);
        Assert.Null(r.Paths);
        Assert.NotNull(r.Reason);
    }

    [Fact]
    public void Options_are_checked_and_named()
    {
        var bad = Options() with { NeighbourhoodSize = 0 };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(bad.Validate);
        Assert.Contains("NeighbourhoodSize", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>((Options() with { TimeBudget = TimeSpan.Zero }).Validate);
        Assert.Throws<ArgumentOutOfRangeException>((Options() with { LaneCost = 0 }).Validate);
    }

    [Fact]
    public void Repeated_starts_or_goals_are_rejected_naming_both_agents()
    {
        var map = Map("....");
        var ex = Assert.Throws<ArgumentException>(() => Problem(map, ((0, 0), (0, 1)), ((0, 0), (0, 2))));
        Assert.Contains("agent 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("agent 0", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Problem(Map("..@."), ((0, 0), (0, 2))));
    }

    [Fact]
    public async Task Random_small_instances_are_solved_validly_with_and_without_lanes()
    {
        var gen =
            from seed in Gen.Int
            from w in Gen.Int[3, 9]
            from h in Gen.Int[2, 7]
            from density in Gen.Int[5, 60]
            from lanes in Gen.Bool
            select (seed, w, h, density, lanes);
        var solved = 0;
        var total = 0;
        await gen.SampleAsync(
            async x =>
            {
                var rng = new Random(x.seed);
                var rows = Enumerable.Range(0, x.h).Select(_ => new string(Enumerable.Range(0, x.w).Select(_ => rng.Next(100) < 20 ? '@' : '.').ToArray())).ToArray();
                var map = Map(rows);
                var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
                if (free.Length == 0)
                {
                    return;
                }

                // Agents on one component, so most instances are solvable; some are not (tight spots).
                var comp = Reachable(map, free[rng.Next(free.Length)]);
                var n = Math.Max(1, comp.Count * x.density / 100);
                var starts = comp.OrderBy(_ => rng.Next()).Take(n).ToArray();
                var goals = comp.OrderBy(_ => rng.Next()).Take(n).ToArray();
                var p = new MapfProblem(map, starts, goals);

                // A fake clock that advances on every reading bounds each solve by polls, not by machine speed.
                var time = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
                var r = await OneShotSolver.SolveAsync(p, Options(ms: 1_500, laneCost: x.lanes ? 2 : 1, seed: x.seed), time);
                Interlocked.Increment(ref total);
                if (r.Status == MapfStatus.Solved)
                {
                    Interlocked.Increment(ref solved);
                    AssertValid(p, r);
                    Assert.True(r.SumOfCosts <= r.InitialSumOfCosts, "refinement made the solution worse");
                }
            },
            iter: 100,
            threads: 1);
        Assert.True(solved > total / 2, $"only {solved} of {total} random instances solved");
    }

    [Fact]
    public async Task Lanes_change_guidance_but_not_the_lower_bound()
    {
        var map = Map("......", "......", "......", "......");
        var p = Problem(map, ((0, 0), (3, 5)), ((3, 5), (0, 0)), ((1, 2), (2, 4)));
        var plain = await Solve(p, Options(laneCost: 1, refine: false));
        var laned = await Solve(p, Options(laneCost: 3, refine: false));
        AssertValid(p, plain);
        AssertValid(p, laned);
        Assert.Equal(8 + 8 + 3, plain.LowerBound);
        Assert.Equal(plain.LowerBound, laned.LowerBound);
    }

    [Fact]
    public void Distances_follow_lanes_only_when_asked()
    {
        // Row 0 is westbound, so going east along it costs 2 per move with lanes; exact distances stay 1 per move.
        var map = Map("....", "....");
        var p = Problem(map, ((0, 0), (0, 3)));
        var exact = AgentDistances.Compute(p, 1, () => false, laneCost: 1)!;
        var laned = AgentDistances.Compute(p, 1, () => false, laneCost: 2)!;
        Assert.Equal(3, exact.Get(0, map.CellAt(0, 0)));
        Assert.Equal(3, laned.TrueDistance(0));
        Assert.True(laned.Get(0, map.CellAt(0, 0)) > 3);
        Assert.Equal(0, laned.Get(0, map.CellAt(0, 3)));
        Assert.False(laned.IsExact);
        Assert.True(exact.IsExact);
        _ = Heading.East;
    }
}
