using System.Globalization;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>What a robot did with one execution tick under the 2026 rules (where the ticks go).</summary>
public enum LorrTickUse
{
    /// <summary>Progressed a forward move or a turn.</summary>
    Acting = 0,

    /// <summary>Held by a delay of the instance's delay model.</summary>
    Delayed = 1,

    /// <summary>Had a staged move the grant executor held (another robot is planned into the cell first).</summary>
    AwaitingGrant = 2,

    /// <summary>Its requested move was refused by the overlap check (an error).</summary>
    Refused = 3,

    /// <summary>Nothing staged while the system gave it a task (the planner made it wait, held or frozen it).</summary>
    NoPlanWithTask = 4,

    /// <summary>Nothing staged and no task in the system's schedule (e.g. between finishing a task and the next schedule).</summary>
    NoPlanNoTask = 5,
}

/// <summary>
/// Robot-ticks per <see cref="LorrTickUse"/> over a 2026 run: the profile that says where throughput
/// is lost (waiting for a plan or a task, held by grants, delayed) rather than guessing.
/// </summary>
public sealed class LorrTickAccount
{
    private readonly long[] _ticks = new long[6];

    /// <summary>Robot-ticks counted for <paramref name="use"/>.</summary>
    public long this[LorrTickUse use] => _ticks[(int)use];

    /// <summary>All robot-ticks counted.</summary>
    public long Total => _ticks.Sum();

    /// <summary>Counts one robot-tick.</summary>
    public void Add(LorrTickUse use) => _ticks[(int)use]++;

    /// <summary>One line: each use with its share of all robot-ticks.</summary>
    public override string ToString()
    {
        var total = Math.Max(1, Total);
        string Part(string name, LorrTickUse use) => string.Create(CultureInfo.InvariantCulture, $"{name} {100.0 * this[use] / total:F1}%");
        return string.Join(
            ", ",
            Part("acting", LorrTickUse.Acting),
            Part("delayed", LorrTickUse.Delayed),
            Part("awaiting grant", LorrTickUse.AwaitingGrant),
            Part("refused", LorrTickUse.Refused),
            Part("nothing staged with a task", LorrTickUse.NoPlanWithTask),
            Part("nothing staged without a task", LorrTickUse.NoPlanNoTask));
    }
}
