using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.OneShot;

namespace WarehouseHybrid.Planning.Tests.OneShot;

/// <summary>Small instances written as map rows, and the checks every solved instance must pass.</summary>
internal static class OneShotTestMaps
{
    public static GridMap Map(params string[] rows) =>
        GridMapReader.ParseText($"type octile\nheight {rows.Length}\nwidth {rows[0].Length}\nmap\n{string.Join('\n', rows)}\n", "test.map");

    /// <summary>An instance from (row, column) pairs.</summary>
    public static MapfProblem Problem(GridMap map, params ((int R, int C) Start, (int R, int C) Goal)[] agents) =>
        new(map, agents.Select(a => map.CellAt(a.Start.R, a.Start.C)).ToArray(), agents.Select(a => map.CellAt(a.Goal.R, a.Goal.C)).ToArray());

    public static MapfSolverOptions Options(int ms = 20_000, bool refine = true, int laneCost = 2, int seed = 0) =>
        new() { TimeBudget = TimeSpan.FromMilliseconds(ms), Refine = refine, LaneCost = laneCost, Seed = seed, Threads = 2 };

    public static Task<MapfResult> Solve(MapfProblem p, MapfSolverOptions o, TimeProvider? time = null) => OneShotSolver.SolveAsync(p, o, time);

    /// <summary>Asserts a solved result is valid under the Moving AI rules and its costs are what it says.</summary>
    public static void AssertValid(MapfProblem p, MapfResult r)
    {
        Assert.Equal(MapfStatus.Solved, r.Status);
        var paths = Assert.IsType<int[][]>(r.Paths);
        var report = new OneShotPathValidator(p.Map).Validate(p.Starts, p.Goals, paths);
        Assert.True(report.Valid, string.Join("; ", report.Violations));
        Assert.Equal(report.SumOfCosts, r.SumOfCosts);
        Assert.Equal(report.Makespan, r.Makespan);
        Assert.True(r.SumOfCosts >= r.LowerBound, $"sum of costs {r.SumOfCosts} below the lower bound {r.LowerBound}");
    }

    /// <summary>The passable cells reachable from <paramref name="from"/>.</summary>
    public static List<int> Reachable(GridMap map, int from)
    {
        var seen = new HashSet<int> { from };
        var queue = new Queue<int>([from]);
        while (queue.TryDequeue(out var c))
        {
            for (var h = 0; h < 4; h++)
            {
                var n = map.Neighbour(c, (Heading)h);
                if (n >= 0 && seen.Add(n))
                {
                    queue.Enqueue(n);
                }
            }
        }

        return [.. seen.Order()];
    }
}
