using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.MovingAi;

namespace WarehouseHybrid.Hil.Mapf;

/// <summary>The agents of a <c>mapf</c> run: the scenario's first entries, then generated ones.</summary>
/// <param name="Starts">Start cell per agent.</param>
/// <param name="Goals">Goal cell per agent.</param>
/// <param name="FromScenario">Agents taken from the scenario file (the first ones).</param>
/// <param name="Generated">Agents added beyond the file's entries.</param>
public sealed record MapfAgents(int[] Starts, int[] Goals, int FromScenario, int Generated);

/// <summary>
/// Builds the agent list of a Moving AI instance. The instance with k agents is the scenario's
/// first k entries, as the benchmark defines it. When k exceeds the file (the kit's files hold
/// 1,000 entries, random-32-32-20 409), the rest are drawn deterministically from
/// the seed: starts and goals uniformly among the cells of the map's largest
/// 4-connected component not yet used as a start (resp. goal), so starts stay distinct, goals stay
/// distinct, and every generated agent can reach its goal.
/// </summary>
public static class MapfInstanceBuilder
{
    /// <summary>
    /// The first <paramref name="agents"/> agents. Throws <see cref="DomainFormatException"/> when
    /// the scenario repeats a start or goal among the entries used, and
    /// <see cref="ArgumentOutOfRangeException"/> when the component cannot hold that many agents.
    /// </summary>
    public static MapfAgents Build(GridMap map, MovingAiScenario scenario, int agents, int seed)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(agents);
        var fromFile = Math.Min(agents, scenario.Entries.Count);
        var starts = new int[agents];
        var goals = new int[agents];
        var startLine = new Dictionary<int, int>();
        var goalLine = new Dictionary<int, int>();
        for (var i = 0; i < fromFile; i++)
        {
            var e = scenario.Entries[i];
            starts[i] = e.StartCell(map);
            goals[i] = e.GoalCell(map);
            if (!startLine.TryAdd(starts[i], e.Line))
            {
                throw new DomainFormatException(scenario.SourceName, e.Line, $"start (x {e.StartX}, y {e.StartY}) is also the start on line {startLine[starts[i]]}");
            }

            if (!goalLine.TryAdd(goals[i], e.Line))
            {
                throw new DomainFormatException(scenario.SourceName, e.Line, $"goal (x {e.GoalX}, y {e.GoalY}) is also the goal on line {goalLine[goals[i]]}");
            }
        }

        var generated = agents - fromFile;
        if (generated == 0)
        {
            return new MapfAgents(starts, goals, fromFile, 0);
        }

        var component = LargestComponent(map);
        var freeStarts = component.Where(c => !startLine.ContainsKey(c)).ToArray();
        var freeGoals = component.Where(c => !goalLine.ContainsKey(c)).ToArray();
        if (freeStarts.Length < generated || freeGoals.Length < generated)
        {
            throw new ArgumentOutOfRangeException(
                nameof(agents),
                agents,
                $"{agents} agents do not fit: {scenario.Entries.Count} come from {Path.GetFileName(scenario.SourceName)} and the largest connected component of {map.Name} ({component.Length} cells) has only {Math.Min(freeStarts.Length, freeGoals.Length)} unused cells for the other {generated}");
        }

        var rng = new Random(seed);
        rng.Shuffle(freeStarts);
        rng.Shuffle(freeGoals);
        for (var k = 0; k < generated; k++)
        {
            starts[fromFile + k] = freeStarts[k];
            goals[fromFile + k] = freeGoals[k];
        }

        return new MapfAgents(starts, goals, fromFile, generated);
    }

    /// <summary>The cells of the largest 4-connected component of passable cells, in cell order.</summary>
    public static int[] LargestComponent(GridMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var label = new int[map.CellCount];
        var queue = new int[map.CellCount];
        int best = 0, bestSize = 0, next = 0;
        for (var seedCell = 0; seedCell < map.CellCount; seedCell++)
        {
            if (!map.IsPassable(seedCell) || label[seedCell] != 0)
            {
                continue;
            }

            next++;
            int head = 0, tail = 0;
            label[seedCell] = next;
            queue[tail++] = seedCell;
            while (head < tail)
            {
                var c = queue[head++];
                for (var h = 0; h < 4; h++)
                {
                    var nb = map.Neighbour(c, (Heading)h);
                    if (nb >= 0 && label[nb] == 0)
                    {
                        label[nb] = next;
                        queue[tail++] = nb;
                    }
                }
            }

            if (tail > bestSize)
            {
                bestSize = tail;
                best = next;
            }
        }

        var cells = new int[bestSize];
        var n = 0;
        for (var c = 0; c < map.CellCount; c++)
        {
            if (label[c] == best && best != 0)
            {
                cells[n++] = c;
            }
        }

        return cells;
    }
}
