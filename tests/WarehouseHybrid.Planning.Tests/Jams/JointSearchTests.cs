using CsCheck;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Jams;
using WarehouseHybrid.Planning.Tests.Support;

namespace WarehouseHybrid.Planning.Tests.Jams;

/// <summary>
/// The joint (cell, heading) search that frees jams: known answers, caps, bad input, and validity on random trees;
/// the lazy (LaCAM-style) search on six-robot jams, its caps, and against the exhaustive search on random trees.
/// </summary>
public sealed class JointSearchTests
{
    private static readonly GridMap TMap = TestData.ParseMap("""
        ...........
        @@@@@.@@@@@
        @@@@@.@@@@@
        @@@@@.@@@@@
        """);

    private static GoalDistanceTable Table(GridMap map, int goal) => new DistanceTableCache(new CompactGrid(map), 1 << 24).Get(goal);

    private static JointPlan Solve(GridMap map, RobotPose[] starts, int goal, int cap = 100_000, int threshold = 0, Func<int, bool>? blocked = null, bool noCycles = false) =>
        Solve(JointSearchMode.Auto, map, starts, goal, cap, maxLength: 64, noCycles, blocked, threshold);

    // A dead end five cells deep off a one-wide corridor.
    private static readonly GridMap DeepStem = TestData.ParseMap("""
        ............
        @@@@.@@@@@@@
        @@@@.@@@@@@@
        @@@@.@@@@@@@
        @@@@.@@@@@@@
        @@@@.@@@@@@@
        """);

    private static JointPlan Solve(JointSearchMode mode, GridMap map, RobotPose[] starts, int goal, int cap, int maxLength = 48, bool noCycles = false, Func<int, bool>? blocked = null, int threshold = 0) =>
        new JointSearch(map) { Mode = mode }.Solve(starts, blocked ?? (_ => false), 8, Table(map, goal), threshold, noCycles, cap, maxLength);

    // No step moves a ring of robots each into the cell the next one leaves (what NoCycles refuses).
    private static bool HasRotationCycle(JointPlan plan)
    {
        for (var t = 0; t < plan.Length; t++)
        {
            var from = plan.Poses[t];
            var to = plan.Poses[t + 1];
            for (var r = 0; r < from.Length; r++)
            {
                var x = r;
                for (var hops = 0; hops <= from.Length; hops++)
                {
                    var target = to[x].Cell;
                    var occupant = Array.FindIndex(from, p => p.Cell == target);
                    if (target == from[x].Cell || occupant < 0)
                    {
                        break;
                    }

                    if (occupant == r)
                    {
                        return true;
                    }

                    x = occupant;
                }
            }
        }

        return false;
    }

    // A random tree-shaped map with the group's random poses, one outsider's cell and the lead's goal (null: too few cells).
    private static (GridMap Map, RobotPose[] Starts, int Outsider, int Goal)? RandomTreeJam(int seed, int w, int h, int robots)
    {
        var rng = new Random(seed);
        var map = TreeMaps.Create(rng, w, h, loops: rng.Next(3));
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).OrderBy(_ => rng.Next()).ToArray();
        if (free.Length < robots + 2)
        {
            return null;
        }

        var starts = free.Take(robots).Select(c => new RobotPose(c, (Heading)rng.Next(4))).ToArray();
        return (map, starts, free[robots], free[robots + 1]);
    }

    // Replays the plan through the project's validator from the plan's first poses.
    private static void AssertValid(GridMap map, JointPlan plan)
    {
        var validator = new PlanValidator(map);
        var poses = plan.Poses[0].ToArray();
        var after = new RobotPose[poses.Length];
        var conflicts = new List<Conflict>();
        for (var t = 0; t < plan.Length; t++)
        {
            Assert.True(validator.ValidateStep(poses, plan.Actions[t], after, conflicts), $"step {t}: {string.Join("; ", conflicts)}");
            Assert.Equal(plan.Poses[t + 1], after);
            after.CopyTo(poses, 0);
        }
    }

    [Fact]
    public void A_lone_robot_gets_the_shortest_plan_including_its_turn()
    {
        var map = TestData.ParseMap("""
            .....
            .....
            """);
        var plan = Solve(map, [new RobotPose(map.CellAt(0, 0), Heading.North)], map.CellAt(0, 3));
        Assert.Equal(JointSearchStatus.Solved, plan.Status);
        Assert.Equal(4, plan.Length); // one turn east, three moves
        Assert.Equal(map.CellAt(0, 3), plan.Poses[^1][0].Cell);
        AssertValid(map, plan);
    }

    [Fact]
    public void The_occupant_of_a_dead_end_comes_out_and_makes_way_for_the_robot_whose_goal_is_its_far_end()
    {
        // Lead at the junction facing south into the stem; another robot at the far end facing the wall.
        var end = TMap.CellAt(3, 5);
        RobotPose[] starts = [new(TMap.CellAt(0, 5), Heading.South), new(end, Heading.South)];
        var plan = Solve(TMap, starts, end);
        Assert.Equal(JointSearchStatus.Solved, plan.Status);
        Assert.Equal(end, plan.Poses[^1][0].Cell);
        Assert.NotEqual(3, TMap.Row(plan.Poses[^1][1].Cell));
        AssertValid(TMap, plan);
    }

    [Fact]
    public void Three_robots_queued_in_a_dead_end_all_back_out_for_the_lead()
    {
        var end = TMap.CellAt(3, 5);
        RobotPose[] starts =
        [
            new(TMap.CellAt(0, 4), Heading.East),
            new(TMap.CellAt(1, 5), Heading.North),
            new(TMap.CellAt(2, 5), Heading.North),
            new(end, Heading.North),
        ];
        var plan = Solve(TMap, starts, end, cap: 400_000, noCycles: true);
        Assert.Equal(JointSearchStatus.Solved, plan.Status);
        Assert.Equal(end, plan.Poses[^1][0].Cell);
        AssertValid(TMap, plan);
    }

    [Fact]
    public void Robots_outside_the_group_are_never_entered()
    {
        // A robot outside the group stands two cells west of the junction: the robot in the stem must
        // come out westwards (the lead is east) and stop short of it.
        var end = TMap.CellAt(3, 5);
        var outsider = TMap.CellAt(0, 2);
        RobotPose[] starts = [new(TMap.CellAt(0, 7), Heading.West), new(TMap.CellAt(2, 5), Heading.North)];
        var plan = Solve(TMap, starts, end, blocked: c => c == outsider);
        Assert.Equal(JointSearchStatus.Solved, plan.Status);
        Assert.All(plan.Poses, step => Assert.DoesNotContain(step, p => p.Cell == outsider));
        AssertValid(TMap, plan);
    }

    [Fact]
    public void A_robot_in_the_stem_with_nowhere_to_go_but_an_outsider_s_cell_gives_no_plan()
    {
        var end = TMap.CellAt(3, 5);
        var outsider = TMap.CellAt(0, 4);
        RobotPose[] starts = [new(TMap.CellAt(0, 7), Heading.West), new(TMap.CellAt(2, 5), Heading.North)];
        var plan = Solve(TMap, starts, end, blocked: c => c == outsider);
        Assert.Equal(JointSearchStatus.NotFound, plan.Status);
    }

    [Fact]
    public void A_goal_walled_off_by_other_robots_is_not_found_and_the_node_cap_holds()
    {
        var end = TMap.CellAt(3, 5);
        var wall = TMap.CellAt(1, 5);
        var plan = Solve(TMap, [new RobotPose(TMap.CellAt(0, 0), Heading.East), new RobotPose(TMap.CellAt(0, 10), Heading.West)], end, cap: 1_000, threshold: 0, blocked: c => c == wall);
        Assert.Equal(JointSearchStatus.NotFound, plan.Status);
        Assert.Equal(0, plan.Length);
        Assert.True(plan.Generated <= 1_000, $"{plan.Generated} states generated");
    }

    [Fact]
    public void With_too_small_a_cap_it_returns_the_best_progress_found_below_the_threshold()
    {
        var map = TestData.ParseMap("..............................");
        var goal = map.CellAt(0, 29);
        var start = new RobotPose(map.CellAt(0, 0), Heading.East);
        var table = Table(map, goal);
        var plan = new JointSearch(map).Solve([start], _ => false, 32, table, table.Distance(start.Cell, start.Heading), false, 1_000, 10);
        Assert.Equal(JointSearchStatus.Progress, plan.Status);
        Assert.InRange(plan.Length, 1, 10);
        Assert.True(table.Distance(plan.Poses[^1][0].Cell, plan.Poses[^1][0].Heading) < table.Distance(start.Cell, start.Heading));
        AssertValid(map, plan);
    }

    [Fact]
    public void A_stop_request_ends_the_search_without_a_plan()
    {
        var end = TMap.CellAt(3, 5);
        RobotPose[] starts = [new(TMap.CellAt(0, 5), Heading.South), new(end, Heading.South)];
        var plan = new JointSearch(TMap).Solve(starts, _ => false, 8, Table(TMap, end), 0, false, 100_000, 64, () => true);
        Assert.Equal(JointSearchStatus.NotFound, plan.Status);
    }

    [Fact]
    public void Malformed_problems_are_refused_with_a_reason_instead_of_throwing()
    {
        var search = new JointSearch(TMap);
        var table = Table(TMap, TMap.CellAt(3, 5));
        var a = new RobotPose(TMap.CellAt(0, 0), Heading.East);
        var cases = new (RobotPose[] Starts, GoalDistanceTable? Table, int Radius)[]
        {
            ([], table, 4),
            (Enumerable.Range(0, JointSearch.MaxRobots + 1).Select(c => new RobotPose(TMap.CellAt(0, c), Heading.East)).ToArray(), table, 4),
            ([a, a], table, 4),
            ([new RobotPose(TMap.CellAt(1, 0), Heading.East)], table, 4), // on an obstacle
            ([new RobotPose(-5, Heading.East)], table, 4),
            ([new RobotPose(TMap.CellAt(0, 0), (Heading)7)], table, 4),
            ([a], null, 4),
            ([a], table, 0),
        };
        foreach (var (starts, t, radius) in cases)
        {
            var plan = search.Solve(starts, _ => false, radius, t!, 0, false, 1_000, 10);
            Assert.Equal(JointSearchStatus.InvalidInput, plan.Status);
            Assert.NotEmpty(plan.Reason);
            Assert.False(plan.Found);
        }

        // The instance is still usable afterwards.
        Assert.Equal(JointSearchStatus.Solved, search.Solve([a], _ => false, 8, table, 0, false, 10_000, 64).Status);
    }

    [Fact]
    public void On_random_tree_shaped_maps_every_plan_is_valid_within_the_window_and_its_caps()
    {
        var gen =
            from seed in Gen.Int
            from w in Gen.Int[3, 9]
            from h in Gen.Int[3, 7]
            from robots in Gen.Int[1, 4]
            from cap in Gen.Int[1_000, 20_000]
            from noCycles in Gen.Bool
            select (seed, w, h, robots, cap, noCycles);
        gen.Sample(
            x =>
            {
                if (RandomTreeJam(x.seed, x.w, x.h, x.robots) is not (GridMap map, RobotPose[] starts, int outsider, int goal))
                {
                    return true;
                }

                var table = Table(map, goal);
                var plan = new JointSearch(map).Solve(starts, c => c == outsider, 6, table, table.Distance(starts[0].Cell, starts[0].Heading), x.noCycles, x.cap, 40);
                if (plan.Generated > x.cap || plan.Status == JointSearchStatus.InvalidInput)
                {
                    return false;
                }

                if (!plan.Found)
                {
                    return true;
                }

                AssertValid(map, plan);
                var last = plan.Poses[^1][0];
                return plan.Length <= 40
                    && plan.Poses.All(step => step.All(p => p.Cell != outsider))
                    && (plan.Status == JointSearchStatus.Solved ? last.Cell == goal : table.Distance(last.Cell, last.Heading) < table.Distance(starts[0].Cell, starts[0].Heading));
            },
            iter: 150);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Six_robots_five_of_them_queued_in_a_deep_dead_end_all_back_out_for_the_lead_under_the_default_caps(bool noCycles)
    {
        var end = DeepStem.CellAt(5, 4);
        RobotPose[] starts =
        [
            new(DeepStem.CellAt(0, 3), Heading.East),
            new(DeepStem.CellAt(1, 4), Heading.North),
            new(DeepStem.CellAt(2, 4), Heading.South),
            new(DeepStem.CellAt(3, 4), Heading.North),
            new(DeepStem.CellAt(4, 4), Heading.East),
            new(end, Heading.North),
        ];
        var plan = Solve(JointSearchMode.Auto, DeepStem, starts, end, cap: 40_000, noCycles: noCycles);
        Assert.Equal(JointSearchStatus.Solved, plan.Status);
        Assert.Equal(end, plan.Poses[^1][0].Cell);
        Assert.InRange(plan.Length, 1, 48);
        Assert.True(plan.Generated <= 40_000, $"{plan.Generated} states generated");
        Assert.False(noCycles && HasRotationCycle(plan));
        AssertValid(DeepStem, plan);
    }

    [Fact]
    public void Six_robots_in_the_pocket_corridor_and_four_in_the_T_corridor_are_solved_lazily_where_the_exhaustive_search_runs_out_of_states()
    {
        foreach (var jam in new[] { JamStates.Pocket6(), JamStates.TCorridor4() })
        {
            var lazy = Solve(JointSearchMode.Lazy, jam.Map, jam.Starts, jam.Goal, cap: 40_000, noCycles: true);
            var exhaustive = Solve(JointSearchMode.Exhaustive, jam.Map, jam.Starts, jam.Goal, cap: 40_000, noCycles: true);
            Assert.Equal(JointSearchStatus.Solved, lazy.Status);
            Assert.NotEqual(JointSearchStatus.Solved, exhaustive.Status);
            Assert.Equal(jam.Goal, lazy.Poses[^1][0].Cell);
            Assert.False(HasRotationCycle(lazy), jam.Name);
            AssertValid(jam.Map, lazy);
        }
    }

    [Fact]
    public void The_lazy_search_keeps_its_node_cap_visit_cap_and_plan_length_and_returns_progress_when_they_run_out()
    {
        var end = DeepStem.CellAt(5, 4);
        RobotPose[] starts =
        [
            new(DeepStem.CellAt(0, 0), Heading.East),
            new(DeepStem.CellAt(1, 4), Heading.North),
            new(DeepStem.CellAt(2, 4), Heading.North),
            new(DeepStem.CellAt(3, 4), Heading.North),
            new(DeepStem.CellAt(4, 4), Heading.North),
            new(end, Heading.North),
        ];
        var table = Table(DeepStem, end);
        var threshold = table.Distance(starts[0].Cell, starts[0].Heading);
        foreach (var (cap, maxLength) in new[] { (1, 48), (30, 48), (500, 6), (2_000, 8), (40_000, 48) })
        {
            var plan = Solve(JointSearchMode.Lazy, DeepStem, starts, end, cap, maxLength, threshold: threshold);
            Assert.True(plan.Generated <= cap, $"cap {cap}: {plan.Generated} states generated");
            Assert.True(plan.Expanded <= (long)cap * JointSearch.LazyVisitsPerNode, $"cap {cap}: {plan.Expanded} visits");
            Assert.True(plan.Length <= maxLength, $"length {plan.Length} > {maxLength}");
            if (cap == 1)
            {
                Assert.Equal(JointSearchStatus.NotFound, plan.Status); // only the start state fits
                continue;
            }

            // The lead needs 10 steps at least (4 moves, a turn, 5 moves): shorter plans can only make progress.
            Assert.Equal(maxLength < threshold ? JointSearchStatus.Progress : plan.Status, plan.Status);
            Assert.True(plan.Found, $"cap {cap}, length {maxLength}: {plan.Status}");
            var last = plan.Poses[^1][0];
            Assert.True(plan.Status == JointSearchStatus.Solved ? last.Cell == end : table.Distance(last.Cell, last.Heading) < threshold);
            AssertValid(DeepStem, plan);
        }

        Assert.Equal(10, threshold);
        Assert.Equal(JointSearchStatus.Solved, Solve(JointSearchMode.Lazy, DeepStem, starts, end, 40_000, 48, threshold: threshold).Status);
    }

    [Fact]
    public void The_lazy_search_stops_on_request_and_refuses_an_unknown_mode()
    {
        var end = TMap.CellAt(3, 5);
        RobotPose[] starts = [new(TMap.CellAt(0, 5), Heading.South), new(end, Heading.South), new(TMap.CellAt(0, 0), Heading.East)];
        var stopped = new JointSearch(TMap) { Mode = JointSearchMode.Lazy }.Solve(starts, _ => false, 8, Table(TMap, end), 0, false, 100_000, 64, () => true);
        Assert.Equal(JointSearchStatus.NotFound, stopped.Status);

        var unknown = new JointSearch(TMap) { Mode = (JointSearchMode)9 }.Solve(starts, _ => false, 8, Table(TMap, end), 0, false, 100_000, 64);
        Assert.Equal(JointSearchStatus.InvalidInput, unknown.Status);
        Assert.Contains("mode", unknown.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void On_random_tree_shaped_maps_the_lazy_search_solves_what_the_exhaustive_one_solves_with_valid_plans()
    {
        var gen =
            from seed in Gen.Int
            from w in Gen.Int[3, 7]
            from h in Gen.Int[3, 5]
            from robots in Gen.Int[1, 3]
            from noCycles in Gen.Bool
            select (seed, w, h, robots, noCycles);
        gen.Sample(
            x =>
            {
                if (RandomTreeJam(x.seed, x.w, x.h, x.robots) is not (GridMap map, RobotPose[] starts, int outsider, int goal))
                {
                    return true;
                }

                var threshold = Table(map, goal).Distance(starts[0].Cell, starts[0].Heading);
                var exhaustive = Solve(JointSearchMode.Exhaustive, map, starts, goal, 20_000, 40, x.noCycles, c => c == outsider, threshold);
                var lazy = Solve(JointSearchMode.Lazy, map, starts, goal, 20_000, 40, x.noCycles, c => c == outsider, threshold);
                if (lazy.Generated > 20_000 || lazy.Status == JointSearchStatus.InvalidInput || (exhaustive.Status == JointSearchStatus.Solved && lazy.Status != JointSearchStatus.Solved))
                {
                    return false;
                }

                if (lazy.Found)
                {
                    AssertValid(map, lazy);
                }

                return lazy.Length <= 40
                    && !(x.noCycles && HasRotationCycle(lazy))
                    && lazy.Poses.All(step => step.All(p => p.Cell != outsider));
            },
            iter: 150);
    }

    [Theory]
    [InlineData(JointSearchMode.Exhaustive)]
    [InlineData(JointSearchMode.Lazy)]
    public void A_goal_walled_off_by_an_outsider_gives_the_best_progress_the_window_allows_without_spending_the_cap(JointSearchMode mode)
    {
        // The outsider stands in the stem: the lead can get no nearer than the junction, facing south.
        var end = TMap.CellAt(3, 5);
        var wall = TMap.CellAt(1, 5);
        var table = Table(TMap, end);
        RobotPose[] starts = [new(TMap.CellAt(0, 1), Heading.East), new(TMap.CellAt(0, 9), Heading.West), new(TMap.CellAt(0, 10), Heading.West), new(TMap.CellAt(0, 0), Heading.North)];
        var threshold = table.Distance(starts[0].Cell, starts[0].Heading);
        var plan = Solve(mode, TMap, starts, end, cap: 100_000, threshold: threshold, blocked: c => c == wall);
        Assert.Equal(JointSearchStatus.Progress, plan.Status);
        Assert.Equal(new RobotPose(TMap.CellAt(0, 5), Heading.South), plan.Poses[^1][0]);
        Assert.True(plan.Generated < 20_000, $"{plan.Generated} states generated");
        AssertValid(TMap, plan);

        // Not even that below the threshold: nothing to search for.
        var none = Solve(mode, TMap, starts, end, cap: 100_000, threshold: table.Distance(TMap.CellAt(0, 5), Heading.South), blocked: c => c == wall);
        Assert.Equal(JointSearchStatus.NotFound, none.Status);
        Assert.Equal(0, none.Generated);
    }
}
