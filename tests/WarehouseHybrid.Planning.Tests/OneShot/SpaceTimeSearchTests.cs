using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.OneShot;
using static WarehouseHybrid.Planning.Tests.OneShot.OneShotTestMaps;

namespace WarehouseHybrid.Planning.Tests.OneShot;

public sealed class SpaceTimeSearchTests
{
    // Cells: row 0 = 0..4, row 1 = 5..9.
    private static readonly Domain.Grid.GridMap TwoRows = Map(".....", ".....");

    [Fact]
    public void Table_knows_who_is_where_and_keeps_the_last_cell_forever()
    {
        var table = new SpaceTimeTable(TwoRows.CellCount);
        table.Add(7, [0, 1, 1, 2]);
        Assert.Equal(7, table.OccupantAt(0, 0));
        Assert.Equal(-1, table.OccupantAt(0, 1));
        Assert.Equal(7, table.OccupantAt(1, 2));
        Assert.Equal(7, table.OccupantAt(2, 1_000_000));
        table.Remove(7, [0, 1, 1, 2]);
        Assert.Equal(-1, table.OccupantAt(2, 5));
        Assert.Equal(0, table.RunCount(1));
    }

    [Fact]
    public void Table_refuses_two_agents_in_one_cell_at_one_time()
    {
        var table = new SpaceTimeTable(TwoRows.CellCount);
        table.Add(0, [3]);
        Assert.Throws<InvalidOperationException>(() => table.Add(1, [4, 3]));
        Assert.Throws<InvalidOperationException>(() => table.Remove(1, [2]));
    }

    [Fact]
    public void Sipp_waits_or_goes_round_a_moving_agent_and_never_swaps()
    {
        // Agent 1 walks east along row 0 toward agent 0, who must go west along it: a head-on meeting.
        var p = new MapfProblem(TwoRows, [4, 0], [0, 4]);
        var dist = AgentDistances.Compute(p, 1, () => false)!;
        var table = new SpaceTimeTable(TwoRows.CellCount);
        int[] other = [0, 1, 2, 3, 4];
        table.Add(1, other);
        var sipp = new SippPlanner(p, dist, table);
        var path = sipp.Plan(0, 100, 10_000);
        Assert.NotNull(path);
        var report = new OneShotPathValidator(TwoRows).Validate(p.Starts, p.Goals, [path, other]);
        Assert.True(report.Valid, string.Join("; ", report.Violations));
        Assert.Equal(6, path.Length - 1); // down, four along row 1, up: the cheapest way round
    }

    [Fact]
    public void Sipp_respects_its_cost_bound()
    {
        var p = new MapfProblem(TwoRows, [4, 0], [0, 4]);
        var dist = AgentDistances.Compute(p, 1, () => false)!;
        var table = new SpaceTimeTable(TwoRows.CellCount);
        table.Add(1, [0, 1, 2, 3, 4]);
        var sipp = new SippPlanner(p, dist, table);
        Assert.Null(sipp.Plan(0, 5, 10_000));
        Assert.NotNull(sipp.Plan(0, 6, 10_000));
    }

    [Fact]
    public void A_window_keeps_both_ends_and_avoids_a_blocked_goal()
    {
        // Agent 0's old path runs along row 0 through cell 2; cell 2 is blocked from time 1 on.
        var p = new MapfProblem(TwoRows, [0, 9], [4, 2]);
        var dist = AgentDistances.Compute(p, 1, () => false)!;
        var table = new SpaceTimeTable(TwoRows.CellCount);
        int[] old = [0, 1, 2, 3, 4, 4, 4];
        table.Add(0, old);
        var sipp = new SippPlanner(p, dist, table);
        var window = sipp.PlanWindow(0, old[0], 0, old[6], 6, 10_000, blockedCell: 2, blockedFrom: 1);
        Assert.NotNull(window);
        Assert.Equal(7, window.Length);
        Assert.Equal(0, window[0]);
        Assert.Equal(4, window[6]);
        Assert.DoesNotContain(2, window.Skip(1));
        Assert.Null(sipp.PlanWindow(0, old[0], 0, old[4], 4, 10_000, blockedCell: 2, blockedFrom: 1));
    }

    [Fact]
    public void Goal_hold_keeps_an_agent_home_and_detours_the_passer_at_no_cost()
    {
        // Agent 0 reaches its goal (cell 2) at time 1; agent 1 waits, then walks through it along
        // row 0 (agent 0 stepping down to let it by), while row 1 was free all along.
        var p = new MapfProblem(TwoRows, [1, 0], [2, 4]);
        var dist = AgentDistances.Compute(p, 1, () => false)!;
        int[][] paths =
        [
            [1, 2, 2, 7, 7, 7, 2],
            [0, 0, 0, 0, 1, 2, 3, 4],
        ];
        Assert.True(new OneShotPathValidator(TwoRows).Validate(p.Starts, p.Goals, paths).Valid);
        var table = new SpaceTimeTable(TwoRows.CellCount);
        table.Add(0, paths[0]);
        table.Add(1, paths[1]);
        var repair = new GoalHoldRepair(table, new SippPlanner(p, dist, table), paths) { Margin = 8 };

        var saved = repair.TryHold(0);

        // Agent 0: 6 -> 1. Agent 1's detour along row 1 even arrives a step early: 7 -> 6.
        Assert.Equal(5 + 1, saved);
        Assert.Equal([1, 2], paths[0]);
        Assert.Equal(6, paths[1].Length - 1);
        Assert.DoesNotContain(2, paths[1]);
        var report = new OneShotPathValidator(TwoRows).Validate(p.Starts, p.Goals, paths);
        Assert.True(report.Valid, string.Join("; ", report.Violations));
        Assert.Equal(0, table.OccupantAt(2, 100));
        Assert.Equal(1, table.OccupantAt(4, 100));
    }

    [Theory]
    [InlineData(5_000, 3)]
    [InlineData(0, 0)]
    public void Goal_hold_lets_a_passer_take_a_longer_path_only_while_the_hold_pays(int suffixLimit, int expectedSaving)
    {
        // Agent 0 (goal 2) arrives at 1, is pushed down at 2 and returns at 5; agent 1 (goal 4)
        // walks through cell 2 at time 3 with no slack: going round costs it one step, holding
        // saves agent 0 four.
        var p = new MapfProblem(TwoRows, [1, 0], [2, 4]);
        var dist = AgentDistances.Compute(p, 1, () => false)!;
        int[][] paths = [[1, 2, 7, 7, 7, 2], [0, 0, 1, 2, 3, 4]];
        Assert.True(new OneShotPathValidator(TwoRows).Validate(p.Starts, p.Goals, paths).Valid);
        var table = new SpaceTimeTable(TwoRows.CellCount);
        table.Add(0, paths[0]);
        table.Add(1, paths[1]);
        var repair = new GoalHoldRepair(table, new SippPlanner(p, dist, table), paths) { SuffixExpansionLimit = suffixLimit };

        Assert.Equal(expectedSaving, repair.TryHold(0));

        var report = new OneShotPathValidator(TwoRows).Validate(p.Starts, p.Goals, paths);
        Assert.True(report.Valid, string.Join("; ", report.Violations));
        Assert.Equal(5 + 5 - expectedSaving, report.SumOfCosts);
    }

    [Fact]
    public void Goal_hold_puts_everything_back_when_no_detour_exists()
    {
        // One row only: the passer cannot avoid agent 0's goal, so nothing may change.
        var map = Map(".....");
        var p = new MapfProblem(map, [1, 0], [2, 4]);
        var dist = AgentDistances.Compute(p, 1, () => false)!;
        int[][] paths = [[1, 2, 3, 3, 2], [0, 0, 1, 2, 3, 4]];
        var before = paths.Select(x => (int[])x.Clone()).ToArray();
        var table = new SpaceTimeTable(map.CellCount);
        table.Add(0, paths[0]);
        table.Add(1, paths[1]);
        var repair = new GoalHoldRepair(table, new SippPlanner(p, dist, table), paths);

        Assert.Equal(0, repair.TryHold(0));

        Assert.Equal(before, paths);
        Assert.Equal(0, table.OccupantAt(2, 100));
        Assert.Equal(1, table.OccupantAt(4, 100));
    }

    [Fact]
    public async Task Lns_never_worsens_a_solution_and_keeps_it_valid()
    {
        var map = Map("..........", "..@@..@@..", "..........", "..@@..@@..", "..........");
        var rng = new Random(5);
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        var starts = free.OrderBy(_ => rng.Next()).Take(14).ToArray();
        var goals = free.OrderBy(_ => rng.Next()).Take(14).ToArray();
        var p = new MapfProblem(map, starts, goals);
        var first = await Solve(p, Options(refine: false));
        AssertValid(p, first);
        var dist = AgentDistances.Compute(p, 1, () => false, laneCost: 2)!;
        var paths = first.Paths!.Select(x => (int[])x.Clone()).ToArray();
        var lns = new LnsRefiner(p, dist, paths, seed: 3) { NeighbourhoodSize = 4 };
        var soc = lns.SumOfCosts;
        Assert.Equal(first.SumOfCosts, soc);
        lns.HoldGoals(() => false);
        for (var i = 0; i < 300; i++)
        {
            lns.Step();
            Assert.True(lns.SumOfCosts <= soc);
            soc = lns.SumOfCosts;
        }

        var report = new OneShotPathValidator(map).Validate(p.Starts, p.Goals, paths);
        Assert.True(report.Valid, string.Join("; ", report.Violations));
        Assert.Equal(report.SumOfCosts, lns.SumOfCosts);
    }
}
