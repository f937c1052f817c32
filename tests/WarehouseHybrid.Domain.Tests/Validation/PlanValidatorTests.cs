using CsCheck;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.Tests.Support;
using WarehouseHybrid.Domain.Validation;
using F = WarehouseHybrid.Domain.Actions.RobotAction;

namespace WarehouseHybrid.Domain.Tests.Validation;

public sealed class PlanValidatorTests
{
    //   col 0 1 2 3 4
    // row 0 . . . . .     cells  0  1  2  3  4
    // row 1 . @ . . .            5  6  7  8  9
    // row 2 . . . T .           10 11 12 13 14
    private static readonly GridMap Map = GridMapReader.ParseText("type octile\nheight 3\nwidth 5\nmap\n.....\n.@...\n...T.\n", "v.map");

    private static RobotPose P(int cell, Heading h) => new(cell, h);

    private static (bool Valid, RobotPose[] After, List<Conflict> Conflicts) Step(GridMap map, RobotPose[] before, params F[] actions)
    {
        var after = new RobotPose[before.Length];
        var conflicts = new List<Conflict>();
        var valid = new PlanValidator(map).ValidateStep(before, actions, after, conflicts);
        return (valid, after, conflicts);
    }

    [Fact]
    public void Forward_turns_and_wait_move_and_turn_as_the_lorr_model_says()
    {
        var (valid, after, conflicts) = Step(Map, [P(0, Heading.East), P(4, Heading.South), P(12, Heading.North), P(10, Heading.West)], F.Forward, F.RotateClockwise, F.RotateCounterClockwise, F.Wait);
        Assert.True(valid, string.Join("; ", conflicts));
        Assert.Equal([P(1, Heading.East), P(4, Heading.West), P(12, Heading.West), P(10, Heading.West)], after);
    }

    [Fact]
    public void Two_robots_entering_one_cell_is_a_vertex_conflict()
    {
        var (valid, _, conflicts) = Step(Map, [P(0, Heading.East), P(2, Heading.West)], F.Forward, F.Forward);
        Assert.False(valid);
        Assert.Equal([new Conflict(ConflictKind.Vertex, 0, 1, 1)], conflicts);
    }

    [Fact]
    public void Moving_into_a_waiting_robot_is_a_vertex_conflict()
    {
        var (valid, _, conflicts) = Step(Map, [P(0, Heading.East), P(1, Heading.North)], F.Forward, F.Wait);
        Assert.False(valid);
        Assert.Equal(ConflictKind.Vertex, Assert.Single(conflicts).Kind);
    }

    [Fact]
    public void Two_robots_passing_through_each_other_is_a_swap_conflict()
    {
        var (valid, _, conflicts) = Step(Map, [P(2, Heading.East), P(3, Heading.West)], F.Forward, F.Forward);
        Assert.False(valid);
        Assert.Equal([new Conflict(ConflictKind.Swap, 0, 1, 3)], conflicts);
    }

    [Fact]
    public void Following_into_a_cell_being_vacated_is_allowed()
    {
        var (valid, after, conflicts) = Step(Map, [P(0, Heading.East), P(1, Heading.East), P(2, Heading.East)], F.Forward, F.Forward, F.Forward);
        Assert.True(valid, string.Join("; ", conflicts));
        Assert.Equal([1, 2, 3], after.Select(p => p.Cell));
    }

    [Fact]
    public void A_rotating_cycle_of_four_is_allowed()
    {
        // 2 -> 3 -> 8 -> 7 -> 2 around the 2x2 block of cells 2, 3, 7, 8.
        var (valid, after, conflicts) = Step(Map, [P(2, Heading.East), P(3, Heading.South), P(8, Heading.West), P(7, Heading.North)], F.Forward, F.Forward, F.Forward, F.Forward);
        Assert.True(valid, string.Join("; ", conflicts));
        Assert.Equal([3, 8, 7, 2], after.Select(p => p.Cell));
    }

    [Fact]
    public void Three_robots_following_each_other_around_a_corner_is_allowed()
    {
        // On a 4-connected grid every cycle has even length, so the smallest rotating cycle is the
        // 4-cycle above; three robots of that cycle with one gap are a following chain.
        var (valid, after, _) = Step(Map, [P(2, Heading.East), P(3, Heading.South), P(8, Heading.West)], F.Forward, F.Forward, F.Forward);
        Assert.True(valid);
        Assert.Equal([3, 8, 7], after.Select(p => p.Cell));
    }

    [Fact]
    public void A_chain_following_into_a_blocked_robot_is_invalid()
    {
        // Robot 1 tries to move into the obstacle and stays; robot 0 then runs into it.
        var (valid, after, conflicts) = Step(Map, [P(10, Heading.East), P(11, Heading.North)], F.Forward, F.Forward);
        Assert.False(valid);
        Assert.Contains(conflicts, c => c.Kind == ConflictKind.Obstacle && c.Robot == 1 && c.Cell == 6);
        Assert.Contains(conflicts, c => c.Kind == ConflictKind.Vertex && c.Cell == 11);
        Assert.Equal(11, after[1].Cell);
    }

    [Theory]
    [InlineData(0, Heading.North)]
    [InlineData(0, Heading.West)]
    [InlineData(14, Heading.South)]
    [InlineData(14, Heading.East)]
    [InlineData(4, Heading.East)]
    [InlineData(10, Heading.West)]
    public void Forward_off_the_map_is_rejected_and_the_robot_stays(int cell, Heading heading)
    {
        var (valid, after, conflicts) = Step(Map, [P(cell, heading)], F.Forward);
        Assert.False(valid);
        Assert.Equal([new Conflict(ConflictKind.OffMap, 0, -1, cell)], conflicts);
        Assert.Equal(P(cell, heading), after[0]);
    }

    [Theory]
    [InlineData(1, Heading.South, 6)]
    [InlineData(12, Heading.East, 13)]
    [InlineData(8, Heading.South, 13)]
    public void Forward_into_an_obstacle_is_rejected(int cell, Heading heading, int obstacle)
    {
        var (valid, _, conflicts) = Step(Map, [P(cell, heading)], F.Forward);
        Assert.False(valid);
        Assert.Equal([new Conflict(ConflictKind.Obstacle, 0, -1, obstacle)], conflicts);
    }

    [Theory]
    [InlineData(6, Heading.East)]
    [InlineData(-1, Heading.East)]
    [InlineData(15, Heading.East)]
    [InlineData(0, (Heading)4)]
    public void An_illegal_pose_is_rejected(int cell, Heading heading)
    {
        var (valid, _, conflicts) = Step(Map, [P(cell, heading)], F.Wait);
        Assert.False(valid);
        Assert.Equal(ConflictKind.IllegalPose, Assert.Single(conflicts).Kind);
    }

    [Fact]
    public void An_action_outside_the_four_letters_is_rejected()
    {
        var (valid, after, conflicts) = Step(Map, [P(0, Heading.East)], (F)4);
        Assert.False(valid);
        Assert.Equal([new Conflict(ConflictKind.IllegalAction, 0, -1, 0)], conflicts);
        Assert.Equal(P(0, Heading.East), after[0]);
    }

    [Fact]
    public void Mismatched_lengths_are_a_caller_error()
    {
        Assert.Throws<ArgumentException>(() => new PlanValidator(Map).ValidateStep(new RobotPose[2], new F[1], new RobotPose[2]));
    }

    [Fact]
    public void A_swap_is_still_caught_when_the_step_is_validated_in_place()
    {
        var poses = new[] { P(2, Heading.East), P(3, Heading.West) };
        var valid = new PlanValidator(Map).ValidateStep(poses, [F.Forward, F.Forward], poses);
        Assert.False(valid);
    }

    [Fact]
    public void The_validator_carries_no_state_from_one_step_to_the_next()
    {
        var v = new PlanValidator(Map);
        var after = new RobotPose[2];
        Assert.False(v.ValidateStep([P(0, Heading.East), P(2, Heading.West)], [F.Forward, F.Forward], after));
        Assert.True(v.ValidateStep([P(0, Heading.East), P(2, Heading.West)], [F.Wait, F.Wait], after));
        Assert.True(v.ValidatePoses([P(0, Heading.East), P(2, Heading.West)]));
        Assert.True(v.ValidatePoses([P(0, Heading.East), P(2, Heading.West)]));
    }

    [Fact]
    public void A_step_from_two_robots_sharing_a_cell_is_invalid_even_when_they_leave_it_apart()
    {
        // Robots 1 and 2 both stand on cell 1 and leave in different directions while robot 0
        // moves in: no vertex conflict after the step, and the swap of robots 0 and 1 hides behind
        // the shared cell; the state before was already illegal and must be reported.
        var (valid, _, conflicts) = Step(Map, [P(0, Heading.East), P(1, Heading.West), P(1, Heading.East)], F.Forward, F.Forward, F.Forward);
        Assert.False(valid);
        Assert.Contains(new Conflict(ConflictKind.IllegalPose, 2, 1, 1), conflicts);
    }

    [Fact]
    public void Start_poses_must_be_distinct_and_passable()
    {
        var conflicts = new List<Conflict>();
        Assert.False(new PlanValidator(Map).ValidatePoses([P(0, Heading.East), P(6, Heading.East), P(0, Heading.North)], conflicts));
        Assert.Equal([new Conflict(ConflictKind.IllegalPose, 1, -1, 6), new Conflict(ConflictKind.Vertex, 0, 2, 0)], conflicts);
    }

    // ---------- properties on real maps ----------

    private static readonly GridMap WarehouseSmall = GridMapReader.Load(DataFiles.Full("lorr/2026-example/warehouse.domain/maps/warehouse_small.map"));
    private static readonly GridMap Random32 = GridMapReader.Load(DataFiles.Full("movingai/mapf-map/random-32-32-20.map"));

    private static RobotPose[] RandomPoses(GridMap map, Random rng, int count)
    {
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        rng.Shuffle(free);
        return free.Take(count).Select(c => P(c, (Heading)rng.Next(4))).ToArray();
    }

    [Fact]
    public void Every_robot_waiting_is_always_valid()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var map = rng.Next(2) == 0 ? WarehouseSmall : Random32;
            var poses = RandomPoses(map, rng, rng.Next(1, map.PassableCount + 1));
            var (valid, after, _) = Step(map, poses, Enumerable.Repeat(F.Wait, poses.Length).ToArray());
            Assert.True(valid);
            Assert.Equal(poses, after);
        }, iter: 60);
    }

    [Fact]
    public void Random_valid_steps_stay_valid_over_many_steps()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var map = rng.Next(2) == 0 ? WarehouseSmall : Random32;
            var poses = RandomPoses(map, rng, rng.Next(1, (map.PassableCount / 2) + 1));
            var validator = new PlanValidator(map);
            var after = new RobotPose[poses.Length];
            for (var step = 0; step < 40; step++)
            {
                var (actions, expected) = ValidByConstruction(map, poses, rng);
                var conflicts = new List<Conflict>();
                Assert.True(validator.ValidateStep(poses, actions, after, conflicts), $"seed {seed} step {step}: {string.Join("; ", conflicts)}");
                Assert.Equal(expected, after);
                (poses, after) = (after, poses);
            }
        }, iter: 40);
    }

    [Fact]
    public void Injecting_one_invalid_action_into_a_valid_step_makes_it_invalid()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var map = rng.Next(2) == 0 ? WarehouseSmall : Random32;
            var poses = RandomPoses(map, rng, rng.Next(2, (map.PassableCount / 2) + 1));
            var (actions, _) = ValidByConstruction(map, poses, rng);
            var i = rng.Next(poses.Length);
            ConflictKind expected;
            var ahead = poses[i].ForwardCell(map);
            if (ahead < 0 || !map.IsPassable(ahead))
            {
                actions[i] = F.Forward;
                expected = ahead < 0 ? ConflictKind.OffMap : ConflictKind.Obstacle;
            }
            else if (Array.FindIndex(poses, p => p.Cell == ahead) is var j and >= 0 && actions[j] == F.Wait)
            {
                actions[i] = F.Forward;
                expected = ConflictKind.Vertex;
            }
            else
            {
                actions[i] = (F)(4 + rng.Next(250));
                expected = ConflictKind.IllegalAction;
            }

            var (valid, _, conflicts) = Step(map, poses, actions);
            Assert.False(valid);
            Assert.Contains(conflicts, c => c.Kind == expected && (c.Robot == i || c.OtherRobot == i));
        }, iter: 300);
    }

    [Fact]
    public void The_validator_agrees_with_a_naive_pairwise_reference_on_random_dense_steps()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var map = rng.Next(3) switch { 0 => Map, 1 => Random32, _ => WarehouseSmall };

            // Dense crowds (up to every free cell) with mostly forward moves make swaps and vertex conflicts common.
            var count = rng.Next(1, Math.Min(map.PassableCount, 60) + 1);
            var poses = RandomPoses(map, rng, count);
            if (rng.Next(10) == 0)
            {
                poses[rng.Next(count)] = P(rng.Next(-2, map.CellCount + 2), (Heading)rng.Next(5)); // sometimes illegal
            }

            var actions = poses.Select(_ => rng.Next(10) switch { < 6 => F.Forward, 6 => F.RotateClockwise, 7 => F.RotateCounterClockwise, 8 => F.Wait, _ => (F)rng.Next(8) }).ToArray();
            var (valid, after, conflicts) = Step(map, poses, actions);
            var reference = Reference(map, poses, actions);

            Assert.Equal(reference.Valid, valid);
            Assert.Equal(reference.After, after);
            Assert.Equal(reference.Single, conflicts.Where(c => c.OtherRobot < 0).Select(c => (c.Kind, c.Robot, c.Cell)).ToHashSet());
            Assert.Equal(reference.VertexCells, conflicts.Where(c => c.Kind == ConflictKind.Vertex).Select(c => c.Cell).ToHashSet());
            Assert.Equal(reference.Swaps, conflicts.Where(c => c.Kind == ConflictKind.Swap).Select(c => (c.Robot, c.OtherRobot)).ToHashSet());
            Assert.Equal(reference.Shared, conflicts.Where(c => c.Kind == ConflictKind.IllegalPose && c.OtherRobot >= 0).Select(c => (c.Robot, c.OtherRobot, c.Cell)).ToHashSet());
        }, iter: 2000);
    }

    /// <summary>
    /// A valid step built without the validator: turns and waits are always fine; a forward move is
    /// taken only into a passable cell nobody else claims, that is empty or whose occupant has already
    /// committed to leaving it for somewhere other than our cell (following, no swaps).
    /// </summary>
    private static (F[] Actions, RobotPose[] After) ValidByConstruction(GridMap map, RobotPose[] poses, Random rng)
    {
        var n = poses.Length;
        var actions = new F[n];
        var after = new RobotPose[n];
        var occupant = poses.Select((p, i) => (p.Cell, i)).ToDictionary(t => t.Cell, t => t.i);
        var claimed = new HashSet<int>();
        var decided = new bool[n];
        foreach (var i in Enumerable.Range(0, n).OrderBy(_ => rng.Next()))
        {
            var wish = (F)rng.Next(4);
            if (wish == F.Forward)
            {
                var to = poses[i].ForwardCell(map);
                var ok = to >= 0 && map.IsPassable(to) && !claimed.Contains(to);
                if (ok && occupant.TryGetValue(to, out var j))
                {
                    ok = decided[j] && actions[j] == F.Forward && after[j].Cell != poses[i].Cell;
                }

                wish = ok ? F.Forward : F.Wait;
            }

            actions[i] = wish;
            after[i] = poses[i].Apply(wish, map);
            decided[i] = true;
            if (wish == F.Forward)
            {
                claimed.Add(after[i].Cell);
            }
        }

        // Robots that stay put must not have had their cell claimed by a mover.
        for (var i = 0; i < n; i++)
        {
            if (actions[i] != F.Forward && claimed.Contains(poses[i].Cell))
            {
                throw new InvalidOperationException("generator bug: a mover claimed a staying robot's cell");
            }
        }

        return (actions, after);
    }

    private static (bool Valid, RobotPose[] After, HashSet<(ConflictKind, int, int)> Single, HashSet<int> VertexCells, HashSet<(int, int)> Swaps, HashSet<(int, int, int)> Shared)
        Reference(GridMap map, RobotPose[] before, F[] actions)
    {
        var n = before.Length;
        var after = new RobotPose[n];
        var single = new HashSet<(ConflictKind, int, int)>();
        var shared = new HashSet<(int, int, int)>();
        var legal = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var p = before[i];
            after[i] = p;
            if (p.Cell < 0 || p.Cell >= map.CellCount || !map.IsPassable(p.Cell) || (int)p.Heading > 3)
            {
                single.Add((ConflictKind.IllegalPose, i, p.Cell));
                continue;
            }

            var first = Enumerable.Range(0, i).FirstOrDefault(j => legal[j] && before[j].Cell == p.Cell, -1);
            if (first >= 0)
            {
                shared.Add((i, first, p.Cell));
                continue;
            }

            legal[i] = true;

            switch (actions[i])
            {
                case F.Wait:
                    break;
                case F.RotateClockwise:
                    after[i] = p with { Heading = (Heading)(((int)p.Heading + 1) % 4) };
                    break;
                case F.RotateCounterClockwise:
                    after[i] = p with { Heading = (Heading)(((int)p.Heading + 3) % 4) };
                    break;
                case F.Forward:
                    var (dr, dc) = p.Heading switch { Heading.East => (0, 1), Heading.South => (1, 0), Heading.West => (0, -1), _ => (-1, 0) };
                    int r = (p.Cell / map.Width) + dr, c = (p.Cell % map.Width) + dc;
                    if (r < 0 || r >= map.Height || c < 0 || c >= map.Width)
                    {
                        single.Add((ConflictKind.OffMap, i, p.Cell));
                    }
                    else if (!map.IsPassable((r * map.Width) + c))
                    {
                        single.Add((ConflictKind.Obstacle, i, (r * map.Width) + c));
                    }
                    else
                    {
                        after[i] = p with { Cell = (r * map.Width) + c };
                    }

                    break;
                default:
                    single.Add((ConflictKind.IllegalAction, i, p.Cell));
                    break;
            }
        }

        var vertex = new HashSet<int>();
        var swaps = new HashSet<(int, int)>();
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                if (after[i].Cell == after[j].Cell && map.InBounds(after[i].Cell))
                {
                    vertex.Add(after[i].Cell);
                }

                if (before[i].Cell != after[i].Cell && after[i].Cell == before[j].Cell && after[j].Cell == before[i].Cell)
                {
                    swaps.Add((i, j));
                }
            }
        }

        return (single.Count == 0 && vertex.Count == 0 && swaps.Count == 0 && shared.Count == 0, after, single, vertex, swaps, shared);
    }
}
