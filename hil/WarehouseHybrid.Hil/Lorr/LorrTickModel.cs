using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// The LoRR 2026 action model, one execution tick at a time (Start-Kit v3.1.0's
/// <c>ActionModelWithRotate</c>): every forward move or quarter turn takes <see cref="Counter"/>
/// ticks; the move lands (cell or heading changes) on the last of them. While an action is under
/// way a requested wait pauses it (a delay, or the executor holding the robot) and any other
/// request continues it. A robot part-way through a forward move stands between two cells; two
/// robots' unit squares (side <c>agentSize</c> = 1) may never overlap, so a move that would make
/// them overlap is refused and that robot waits instead (recorded as an error).
/// </summary>
public sealed class LorrTickModel
{
    private const byte Idle = 255;
    private const double Eps = 1e-6;
    private readonly GridMap _map;
    private readonly int[] _at;       // cell -> robot whose (base) cell it is, or -1
    private readonly List<int> _movers = new();

    /// <summary>Starts every robot at rest on <paramref name="starts"/>.</summary>
    public LorrTickModel(GridMap map, IReadOnlyList<RobotPose> starts, int counter)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentOutOfRangeException.ThrowIfLessThan(counter, 1);
        _map = map;
        Counter = counter;
        Poses = starts.ToArray();
        Progress = new int[Poses.Length];
        Current = new byte[Poses.Length];
        Array.Fill(Current, Idle);
        _at = new int[map.CellCount];
        Array.Fill(_at, -1);
        for (var i = 0; i < Poses.Length; i++)
        {
            _at[Poses[i].Cell] = i;
        }
    }

    /// <summary>Ticks per action (the instance's <c>agentCounter</c>).</summary>
    public int Counter { get; }

    /// <summary>Each robot's cell and heading (the cell it left until a forward move lands).</summary>
    public RobotPose[] Poses { get; }

    /// <summary>Ticks already spent on each robot's action under way (0 when at rest).</summary>
    public int[] Progress { get; }

    /// <summary>Each robot's action under way (F, R or C as a byte), or 255 at rest.</summary>
    public byte[] Current { get; }

    /// <summary>Whether <paramref name="robot"/> is part-way through an action.</summary>
    public bool Busy(int robot) => Current[robot] != Idle;

    /// <summary>
    /// Advances one tick with the requested actions; writes what each robot actually did this tick
    /// into <paramref name="executed"/> (its action under way or the new one when it progressed, else
    /// wait) and adds refused moves to <paramref name="refused"/> (robot, the robot it would hit).
    /// </summary>
    public void Step(ReadOnlySpan<RobotAction> requested, Span<RobotAction> executed, List<(int Robot, int Other)> refused)
    {
        ArgumentNullException.ThrowIfNull(refused);
        var n = Poses.Length;
        _movers.Clear();
        for (var i = 0; i < n; i++)
        {
            var want = requested[i];
            byte act;
            if (Current[i] != Idle)
            {
                act = want == RobotAction.Wait ? Idle : Current[i];
            }
            else
            {
                act = want == RobotAction.Wait ? Idle : (byte)want;
                if (act == (byte)RobotAction.Forward && Poses[i].ForwardCell(_map) is var ahead && !_map.IsPassable(ahead))
                {
                    refused.Add((i, -1)); // into a wall or off the map
                    act = Idle;
                }
            }

            executed[i] = act == Idle ? RobotAction.Wait : (RobotAction)act;
            if (act == (byte)RobotAction.Forward)
            {
                _movers.Add(i);
            }
        }

        // Forward progress that would make two squares overlap is refused (that robot waits), until none does.
        for (var changed = true; changed;)
        {
            changed = false;
            for (var m = 0; m < _movers.Count; m++)
            {
                var i = _movers[m];
                if (executed[i] != RobotAction.Forward)
                {
                    continue;
                }

                var hit = Overlapping(i, executed);
                if (hit >= 0)
                {
                    executed[i] = RobotAction.Wait;
                    refused.Add((i, hit));
                    changed = true;
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            var a = executed[i];
            if (a == RobotAction.Wait)
            {
                continue;
            }

            Current[i] = (byte)a;
            Progress[i]++;
            if (Progress[i] < Counter)
            {
                continue;
            }

            Progress[i] = 0;
            Current[i] = Idle;
            var before = Poses[i].Cell;
            Poses[i] = Poses[i].Apply(a, _map);
            if (Poses[i].Cell != before)
            {
                if (_at[before] == i)
                {
                    _at[before] = -1;
                }

                _at[Poses[i].Cell] = i;
            }
        }
    }

    // Fraction of the way robot i would be into its forward move after this tick if it progresses.
    private double Fraction(int i, ReadOnlySpan<RobotAction> executed)
    {
        if (Current[i] != (byte)RobotAction.Forward && executed[i] != RobotAction.Forward)
        {
            return 0;
        }

        var p = Progress[i] + (executed[i] == RobotAction.Forward ? 1 : 0);
        return p >= Counter ? 1.0 : (double)p / Counter;
    }

    private (double X, double Y) Position(int i, ReadOnlySpan<RobotAction> executed)
    {
        var pose = Poses[i];
        var x = (double)_map.Column(pose.Cell);
        var y = (double)_map.Row(pose.Cell);
        var f = Fraction(i, executed);
        if (f > 0)
        {
            var (dr, dc) = pose.Heading.Delta();
            x += dc * f;
            y += dr * f;
        }

        return (x, y);
    }

    // A robot whose square would overlap robot i's after this tick, or -1. Squares of side 1 two
    // cells apart along an axis can meet only when both move toward each other, so a 5x5 block of
    // base cells around i covers every candidate.
    private int Overlapping(int i, ReadOnlySpan<RobotAction> executed)
    {
        var (xi, yi) = Position(i, executed);
        var row = _map.Row(Poses[i].Cell);
        var col = _map.Column(Poses[i].Cell);
        for (var dr = -2; dr <= 2; dr++)
        {
            for (var dc = -2; dc <= 2; dc++)
            {
                if ((dr == 0 && dc == 0) || !_map.InBounds(row + dr, col + dc))
                {
                    continue;
                }

                var j = _at[_map.CellAt(row + dr, col + dc)];
                if (j < 0)
                {
                    continue;
                }

                var (xj, yj) = Position(j, executed);
                if (Math.Abs(xi - xj) < 1 - Eps && Math.Abs(yi - yj) < 1 - Eps)
                {
                    return j;
                }
            }
        }

        return -1;
    }
}
