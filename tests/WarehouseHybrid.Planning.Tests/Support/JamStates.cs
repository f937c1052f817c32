using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Tests.Support;

/// <summary>One jam for a joint search: a map, the group's poses (the lead first) and the lead's goal cell.</summary>
internal sealed record JamState(string Name, GridMap Map, RobotPose[] Starts, int Goal);

/// <summary>
/// Jams of the corridor maps (<see cref="CorridorScenarios"/>) with up to six robots, shared by the joint
/// search tests and the jam-search bench: the ones the exhaustive search cannot solve under its default cap.
/// </summary>
internal static class JamStates
{
    /// <summary>Pocket corridor: the lead wants the pocket at (0, 6), whose occupant faces the wall; four robots queue around its mouth.</summary>
    public static JamState Pocket6()
    {
        var map = CorridorScenarios.Pocket(6, 3).Map;
        var goal = map.CellAt(0, 6);
        return new JamState("pocket corridor, 6 robots", map,
        [
            new(map.CellAt(1, 4), Heading.East),
            new(goal, Heading.North),
            new(map.CellAt(1, 6), Heading.West),
            new(map.CellAt(1, 7), Heading.West),
            new(map.CellAt(1, 5), Heading.East),
            new(map.CellAt(1, 8), Heading.West),
        ], goal);
    }

    /// <summary>T corridor: the lead next to the junction wants the far end of the dead end, where three robots stand facing out.</summary>
    public static JamState TCorridor4()
    {
        var map = CorridorScenarios.TCorridor(4, 3).Map;
        var goal = map.CellAt(3, 5);
        return new JamState("T corridor, 4 robots", map,
        [
            new(map.CellAt(0, 4), Heading.East),
            new(map.CellAt(1, 5), Heading.North),
            new(map.CellAt(2, 5), Heading.North),
            new(goal, Heading.North),
        ], goal);
    }
}
