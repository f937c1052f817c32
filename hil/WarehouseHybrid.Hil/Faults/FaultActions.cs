using WarehouseHybrid.Hil.Board;
using WarehouseHybrid.Hil.Scenarios;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Faults;

/// <summary>
/// The fault steps every rig shares (in-process fleets, daemon rigs, the demo): serial noise on a line's two
/// injectors, board faults, and world faults. Each returns false for a kind it does not handle.
/// </summary>
public static class FaultActions
{
    /// <summary>Starts or ends serial noise (serial.bitflip, serial.drop, serial.duplicate) on one line.</summary>
    public static bool TryApplyNoise(FaultSpec f, bool begin, SerialFaultInjector toDaemon, SerialFaultInjector toBoard)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(toDaemon);
        ArgumentNullException.ThrowIfNull(toBoard);
        SerialNoise noise;
        switch (f.Kind)
        {
            case "serial.bitflip": noise = new SerialNoise { BitFlipRate = f.Rate }; break;
            case "serial.drop": noise = new SerialNoise { DropRate = f.Rate }; break;
            case "serial.duplicate": noise = new SerialNoise { DuplicateRate = f.Rate }; break;
            default: return false;
        }

        noise = begin ? noise : SerialNoise.None;
        if (f.Direction is "both" or "toDaemon")
        {
            toDaemon.Noise = noise;
        }

        if (f.Direction is "both" or "toBoard")
        {
            toBoard.Noise = noise;
        }

        return true;
    }

    /// <summary>Starts or ends a board fault (serial.silent, board.fault, board.estop) on one board.</summary>
    public static bool TryApplyBoard(FaultSpec f, bool begin, VirtualBoard board)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(board);
        switch (f.Kind)
        {
            case "serial.silent":
                board.Silent = begin;
                return true;
            case "board.fault":
                if (begin)
                {
                    board.ReportFault(f.Code, f.Severity);
                }

                return true;
            case "board.estop":
                board.SetEmergencyStop(begin);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Starts or ends a world fault (world.*, model.drift) for the robots it names.</summary>
    public static bool TryApplyWorld(FaultSpec f, bool begin, SimWorld world)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(world);
        switch (f.Kind)
        {
            case "model.drift":
                foreach (var r in f.Robots)
                {
                    world.SetSensorBias(r, begin ? f.HeadingBias : 0, begin ? f.RangeScale : 1);
                }

                return true;
            case "world.person":
                if (begin)
                {
                    world.AddPerson(f.Id, f.Path, f.Speed, leaveAtEnd: f.Until is null);
                }

                return true;
            case "world.block":
                foreach (var c in f.Cells)
                {
                    world.BlockCell(c, begin);
                }

                return true;
            case "world.drop":
                if (begin)
                {
                    for (var k = 0; k < f.Cells.Count; k++)
                    {
                        world.DropItem($"{f.Id}-{k}", f.Cells[k]);
                    }
                }

                return true;
            case "world.delay":
                foreach (var r in f.Robots)
                {
                    world.SetSpeedFactor(r, begin ? f.Speed : 1);
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>Records a fault's start or end in the report's list.</summary>
    public static void Log(List<AppliedFault> applied, FaultSpec f, bool begin, double t, Func<int, string> idOf)
    {
        ArgumentNullException.ThrowIfNull(applied);
        ArgumentNullException.ThrowIfNull(f);
        if (begin)
        {
            applied.Add(new AppliedFault(f.Id, f.Kind, t, null, [.. f.Robots.Select(idOf)]));
            return;
        }

        var i = applied.FindIndex(a => a.Id == f.Id);
        applied[i] = applied[i] with { EndedAtSeconds = t };
    }
}
