using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.OneShot;

/// <summary>
/// A one-shot MAPF instance under Moving AI rules: a 4-connected grid without headings and, per
/// agent, a start and a goal cell (linearised cell ids, as <see cref="GridMap"/> numbers them).
/// Starts are distinct, goals are distinct, all on passable cells (checked on construction).
/// Immutable; safe to share between threads.
/// </summary>
public sealed class MapfProblem
{
    private readonly int[] _starts;
    private readonly int[] _goals;
    private readonly int[] _neighbours; // cell * 4 + k, the first Degree(cell) entries used
    private readonly byte[] _degree;

    /// <summary>Creates an instance; throws <see cref="ArgumentException"/> naming the first bad agent.</summary>
    public MapfProblem(GridMap map, IReadOnlyList<int> starts, IReadOnlyList<int> goals)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(goals);
        if (starts.Count != goals.Count)
        {
            throw new ArgumentException($"{starts.Count} starts but {goals.Count} goals");
        }

        Map = map;
        _starts = [.. starts];
        _goals = [.. goals];
        CheckCells(map, _starts, "start");
        CheckCells(map, _goals, "goal");

        _neighbours = new int[map.CellCount * 4];
        _degree = new byte[map.CellCount];
        for (var cell = 0; cell < map.CellCount; cell++)
        {
            if (!map.IsPassable(cell))
            {
                continue;
            }

            var k = 0;
            for (var h = 0; h < 4; h++)
            {
                var nb = map.Neighbour(cell, (Heading)h);
                if (nb >= 0)
                {
                    _neighbours[(cell * 4) + k++] = nb;
                }
            }

            _degree[cell] = (byte)k;
        }
    }

    /// <summary>The map.</summary>
    public GridMap Map { get; }

    /// <summary>Number of agents.</summary>
    public int AgentCount => _starts.Length;

    /// <summary>Start cells, one per agent.</summary>
    public IReadOnlyList<int> Starts => _starts;

    /// <summary>Goal cells, one per agent.</summary>
    public IReadOnlyList<int> Goals => _goals;

    internal int[] StartArray => _starts;

    internal int[] GoalArray => _goals;

    /// <summary>Number of passable 4-neighbours of a passable cell (0 for obstacles).</summary>
    public int Degree(int cell) => _degree[cell];

    /// <summary>The <paramref name="k"/>-th passable 4-neighbour of <paramref name="cell"/> (k below <see cref="Degree"/>).</summary>
    public int Neighbour(int cell, int k) => _neighbours[(cell * 4) + k];

    internal int[] NeighbourArray => _neighbours;

    internal byte[] DegreeArray => _degree;

    private static void CheckCells(GridMap map, int[] cells, string what)
    {
        var owner = new Dictionary<int, int>(cells.Length);
        for (var i = 0; i < cells.Length; i++)
        {
            if (!map.IsPassable(cells[i]))
            {
                throw new ArgumentException($"agent {i}: {what} cell {cells[i]} is off the map or an obstacle");
            }

            if (!owner.TryAdd(cells[i], i))
            {
                throw new ArgumentException($"agent {i}: {what} cell {cells[i]} is also agent {owner[cells[i]]}'s {what}");
            }
        }
    }
}
