using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Distances;

/// <summary>
/// A cost-to-go estimate from every (cell, heading) state to one goal cell under the LoRR action
/// model (forward 1, quarter turn 1, the goal reached in any heading). Implementations are exact
/// (<see cref="HeadingDistanceTable"/>), exact per cell with an admissible heading correction
/// (<see cref="CellDistanceTable"/>), or a free admissible fallback (<see cref="ManhattanEstimate"/>).
/// Immutable once built; safe to share between threads and robots.
/// </summary>
public abstract class GoalDistanceTable
{
    /// <summary>The value of a state from which the goal cannot be reached.</summary>
    public const int Unreachable = ushort.MaxValue;

    /// <summary>Creates an estimate toward <paramref name="goalCell"/>.</summary>
    protected GoalDistanceTable(int goalCell) => GoalCell = goalCell;

    /// <summary>The goal cell.</summary>
    public int GoalCell { get; }

    /// <summary>Bytes held by the estimate.</summary>
    public abstract long SizeBytes { get; }

    /// <summary>True when <see cref="Distance"/> is the exact cost-to-go for every state.</summary>
    public abstract bool IsExact { get; }

    /// <summary>Steps from (<paramref name="cell"/>, <paramref name="heading"/>) to the goal, or <see cref="Unreachable"/>.</summary>
    public abstract int Distance(int cell, Heading heading);

    /// <summary>Steps from <paramref name="cell"/> in its best heading, or <see cref="Unreachable"/>.</summary>
    public abstract int MinOverHeadings(int cell);
}
