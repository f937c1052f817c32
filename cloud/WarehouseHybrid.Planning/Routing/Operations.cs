using WarehouseHybrid.Domain.Actions;

namespace WarehouseHybrid.Planning.Routing;

/// <summary>
/// The pool of multi-action operations EPIBT chooses from: every sequence of <see cref="Depth"/>
/// actions in which the turns before each forward step come first (a turn, two clockwise turns
/// for an about-turn, or none), then waits, then the forward step; after the last forward step
/// only waits follow (turning at the end of an operation changes nothing on the grid: the end
/// state's heading is scored as if the trailing waits were spent turning). Depth 3 gives the 17
/// operations WWW, FFF, FFW, FWF, FWW, FRF, FCF, WFF, WFW, WWF, RFF, CFF, RFW, CFW, RWF, CWF, RRF.
/// Operation 0 is always all-wait.
/// </summary>
public sealed class Operations
{
    private readonly RobotAction[] _actions;
    private readonly int[] _trailing;
    private readonly int[] _moves;

    /// <summary>Builds the pool for operations of <paramref name="depth"/> actions (2-5).</summary>
    public Operations(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, 5);
        Depth = depth;
        var pool = new List<RobotAction[]> { Enumerable.Repeat(RobotAction.Wait, depth).ToArray() };
        Generate(new List<RobotAction>(), depth, pool);
        _actions = pool.SelectMany(a => a).ToArray();
        Count = pool.Count;
        var trailing = new int[Count];
        var moves = new int[Count];
        for (var o = 0; o < Count; o++)
        {
            var t = 0;
            for (var d = depth - 1; d >= 0 && this[o, d] == RobotAction.Wait; d--)
            {
                t++;
            }

            trailing[o] = t;
            for (var d = 0; d < depth; d++)
            {
                moves[o] += this[o, d] == RobotAction.Forward ? 1 : 0;
            }
        }

        _trailing = trailing;
        _moves = moves;
    }

    /// <summary>Actions per operation.</summary>
    public int Depth { get; }

    /// <summary>Operations in the pool.</summary>
    public int Count { get; }

    /// <summary>Per operation: how many waits end it (all of them for operation 0).</summary>
    public ReadOnlySpan<int> TrailingWaits => _trailing;

    /// <summary>Per operation: how many forward steps it makes.</summary>
    public ReadOnlySpan<int> Moves => _moves;

    /// <summary>The action of operation <paramref name="op"/> at step <paramref name="d"/>.</summary>
    public RobotAction this[int op, int d] => _actions[(op * Depth) + d];

    /// <summary>The operation as letters (F, R, C, W), for logs and tests.</summary>
    public string Name(int op) => string.Concat(Enumerable.Range(0, Depth).Select(d => this[op, d].ToLetter()));

    // Builds segments "turns, waits, forward" until the depth is used; the rest are waits.
    private static void Generate(List<RobotAction> prefix, int depth, List<RobotAction[]> pool)
    {
        var left = depth - prefix.Count;
        if (left == 0)
        {
            if (prefix.Contains(RobotAction.Forward))
            {
                pool.Add(prefix.ToArray());
            }

            return;
        }

        if (prefix.Contains(RobotAction.Forward))
        {
            // Ending here: pad with waits (skipped when nothing moved, that is operation 0).
            var padded = new List<RobotAction>(prefix);
            padded.AddRange(Enumerable.Repeat(RobotAction.Wait, left));
            pool.Add(padded.ToArray());
        }

        RobotAction[][] turnSets = [[], [RobotAction.RotateClockwise], [RobotAction.RotateCounterClockwise], [RobotAction.RotateClockwise, RobotAction.RotateClockwise]];
        foreach (var turns in turnSets)
        {
            for (var waits = 0; turns.Length + waits + 1 <= left; waits++)
            {
                var next = new List<RobotAction>(prefix);
                next.AddRange(turns);
                next.AddRange(Enumerable.Repeat(RobotAction.Wait, waits));
                next.Add(RobotAction.Forward);
                Generate(next, depth, pool);
            }
        }
    }
}
