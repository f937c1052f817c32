using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Domain.Actions;

/// <summary>
/// The LoRR action model (MAPF_T): one action per robot per step.
/// Letters are those of the LoRR output files.
/// </summary>
public enum RobotAction : byte
{
    /// <summary>'F': one cell forward in the current heading.</summary>
    Forward = 0,
    /// <summary>'R': a clockwise quarter turn in place.</summary>
    RotateClockwise = 1,
    /// <summary>'C': a counter-clockwise quarter turn in place.</summary>
    RotateCounterClockwise = 2,
    /// <summary>'W': stay.</summary>
    Wait = 3,
}

/// <summary>A robot's discrete state: the cell it occupies and its heading.</summary>
/// <param name="Cell">Linearised cell id.</param>
/// <param name="Heading">Facing.</param>
public readonly record struct RobotPose(int Cell, Heading Heading)
{
    /// <summary>
    /// The pose after an action, ignoring obstacles and other robots (the validator checks those).
    /// Forward moves one cell in the heading even if that leaves the map; callers check legality.
    /// </summary>
    public RobotPose Apply(RobotAction action, GridMap map) => action switch
    {
        RobotAction.Forward => this with { Cell = ForwardCell(map) },
        RobotAction.RotateClockwise => this with { Heading = Heading.RotateClockwise() },
        RobotAction.RotateCounterClockwise => this with { Heading = Heading.RotateCounterClockwise() },
        RobotAction.Wait => this,
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "unknown action"),
    };

    /// <summary>The cell straight ahead, or -1 when it is off the map (obstacles not checked).</summary>
    public int ForwardCell(GridMap map)
    {
        var (dr, dc) = Heading.Delta();
        var r = map.Row(Cell) + dr;
        var c = map.Column(Cell) + dc;
        return map.InBounds(r, c) ? map.CellAt(r, c) : -1;
    }
}

/// <summary>Conversions between actions and their LoRR letters.</summary>
public static class RobotActionCodes
{
    /// <summary>The LoRR letter of an action: F, R, C or W.</summary>
    public static char ToLetter(this RobotAction a) => a switch
    {
        RobotAction.Forward => 'F',
        RobotAction.RotateClockwise => 'R',
        RobotAction.RotateCounterClockwise => 'C',
        RobotAction.Wait => 'W',
        _ => '?',
    };

    /// <summary>Parses a LoRR letter; false for anything else.</summary>
    public static bool TryParse(char c, out RobotAction action)
    {
        switch (c)
        {
            case 'F': action = RobotAction.Forward; return true;
            case 'R': action = RobotAction.RotateClockwise; return true;
            case 'C': action = RobotAction.RotateCounterClockwise; return true;
            case 'W': action = RobotAction.Wait; return true;
            default: action = RobotAction.Wait; return false;
        }
    }
}
