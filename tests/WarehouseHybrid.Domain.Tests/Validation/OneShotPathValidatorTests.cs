using CsCheck;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.Validation;
using K = WarehouseHybrid.Domain.Validation.OneShotViolationKind;

namespace WarehouseHybrid.Domain.Tests.Validation;

public sealed class OneShotPathValidatorTests
{
    //   col 0 1 2 3
    // row 0 . . . .     cells  0  1  2  3
    // row 1 . . @ .            4  5  6  7
    // row 2 . . . .            8  9 10 11
    private static readonly GridMap Map = GridMapReader.ParseText("type octile\nheight 3\nwidth 4\nmap\n....\n..@.\n....\n", "o.map");

    private static OneShotReport Check(params int[][] paths) =>
        new OneShotPathValidator(Map).Validate(paths.Select(p => p[0]).ToArray(), paths.Select(p => p[^1]).ToArray(), paths);

    [Fact]
    public void Moves_and_waits_without_conflicts_are_valid_and_costed_by_last_arrival()
    {
        var report = Check([0, 1, 1, 2], [8, 9, 10, 11, 11]);
        Assert.True(report.Valid, string.Join("; ", report.Violations));
        Assert.Equal(3 + 3, report.SumOfCosts);
        Assert.Equal(3, report.Makespan);
    }

    [Fact]
    public void Leaving_the_goal_and_coming_back_costs_until_the_last_arrival()
    {
        Assert.Equal(0, OneShotPathValidator.CostOf([5, 5, 5]));
        Assert.Equal(4, OneShotPathValidator.CostOf([5, 4, 5, 4, 5, 5]));
    }

    [Fact]
    public void Following_into_a_cell_left_in_the_same_step_is_allowed()
    {
        Assert.True(Check([1, 2, 3], [0, 1, 2]).Valid);
    }

    [Fact]
    public void A_rotating_cycle_of_four_agents_is_allowed()
    {
        // 0 -> 1 -> 5 -> 4 -> 0, all at once.
        Assert.True(Check([0, 1], [1, 5], [5, 4], [4, 0]).Valid);
    }

    [Fact]
    public void Two_agents_entering_one_cell_is_a_vertex_conflict_at_the_arrival_time()
    {
        var report = Check([0, 1], [2, 1]);
        Assert.False(report.Valid);
        Assert.Equal([new OneShotViolation(K.Vertex, 0, 1, 1, 1)], report.Violations);
    }

    [Fact]
    public void Walking_into_an_agent_resting_at_its_goal_is_a_vertex_conflict()
    {
        var report = Check([0], [2, 1, 0, 4]);
        Assert.False(report.Valid);
        Assert.Equal(K.Vertex, report.Violations[0].Kind);
        Assert.Equal(2, report.Violations[0].Time);
    }

    [Fact]
    public void Two_agents_passing_through_each_other_is_a_swap_conflict()
    {
        var report = Check([0, 1], [1, 0]);
        Assert.False(report.Valid);
        Assert.Equal(K.Swap, Assert.Single(report.Violations).Kind);
    }

    [Fact]
    public void Jumps_obstacles_and_wrong_ends_are_reported_with_agent_and_time()
    {
        var paths = new[] { new[] { 0, 2 }, new[] { 5, 6, 7 }, new[] { 8, 9 } };
        var report = new OneShotPathValidator(Map).Validate([0, 5, 11], [2, 7, 9], paths);
        Assert.False(report.Valid);
        Assert.Contains(new OneShotViolation(K.NotAdjacent, 0, -1, 1, 2), report.Violations);
        Assert.Contains(new OneShotViolation(K.Obstacle, 1, -1, 1, 6), report.Violations);
        Assert.Contains(new OneShotViolation(K.WrongStart, 2, -1, 0, 8), report.Violations);
    }

    [Fact]
    public void Row_wrap_is_not_a_move_and_an_empty_path_is_reported()
    {
        var report = new OneShotPathValidator(Map).Validate([3, 0], [4, 0], [[3, 4], []]);
        Assert.Contains(report.Violations, v => v.Kind == K.NotAdjacent && v.Agent == 0);
        Assert.Contains(report.Violations, v => v.Kind == K.EmptyPath && v.Agent == 1);
    }

    [Fact]
    public void Equal_starts_are_a_vertex_conflict_even_when_nobody_moves()
    {
        var report = Check([4], [4]);
        Assert.False(report.Valid);
        Assert.Equal(K.Vertex, Assert.Single(report.Violations).Kind);
    }

    [Fact]
    public void Verdict_agrees_with_a_brute_force_pairwise_check_on_random_paths()
    {
        var gen =
            from seed in Gen.Int
            from agents in Gen.Int[1, 5]
            from length in Gen.Int[1, 6]
            select (seed, agents, length);
        var valid = 0;
        var invalid = 0;
        gen.Sample(
            x =>
            {
                var rng = new Random(x.seed);
                var paths = new int[x.agents][];
                for (var i = 0; i < x.agents; i++)
                {
                    // Mostly legal random walks, so conflicts among legal moves are what is tested.
                    var p = new int[1 + rng.Next(x.length)];
                    p[0] = RandomFree(rng);
                    for (var t = 1; t < p.Length; t++)
                    {
                        var nbs = Enumerable.Range(0, 4).Select(h => Map.Neighbour(p[t - 1], (Heading)h)).Where(c => c >= 0).Append(p[t - 1]).ToArray();
                        p[t] = rng.Next(20) == 0 ? RandomFree(rng) : nbs[rng.Next(nbs.Length)];
                    }

                    paths[i] = p;
                }

                var report = new OneShotPathValidator(Map).Validate(paths.Select(p => p[0]).ToArray(), paths.Select(p => p[^1]).ToArray(), paths);
                _ = report.Valid ? Interlocked.Increment(ref valid) : Interlocked.Increment(ref invalid);
                return report.Valid == BruteForceValid(paths) && report.SumOfCosts == paths.Sum(p => OneShotPathValidator.CostOf(p));
            },
            iter: 3000);

        // Both verdicts must be exercised for the agreement to mean anything.
        Assert.True(valid > 100 && invalid > 100, $"{valid} valid, {invalid} invalid samples");
    }

    private static int RandomFree(Random rng)
    {
        int c;
        do
        {
            c = rng.Next(Map.CellCount);
        }
        while (!Map.IsPassable(c));
        return c;
    }

    // The definition, pair by pair and step by step.
    private static bool BruteForceValid(int[][] paths)
    {
        int At(int[] p, int t) => t < p.Length ? p[t] : p[^1];
        var horizon = paths.Max(p => p.Length);
        foreach (var p in paths)
        {
            for (var t = 1; t < p.Length; t++)
            {
                if (p[t] != p[t - 1] && Map.Manhattan(p[t], p[t - 1]) != 1)
                {
                    return false;
                }
            }
        }

        for (var i = 0; i < paths.Length; i++)
        {
            for (var j = i + 1; j < paths.Length; j++)
            {
                for (var t = 0; t < horizon; t++)
                {
                    if (At(paths[i], t) == At(paths[j], t))
                    {
                        return false;
                    }

                    if (t > 0 && At(paths[i], t) == At(paths[j], t - 1) && At(paths[j], t) == At(paths[i], t - 1) && At(paths[i], t) != At(paths[i], t - 1))
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }
}
