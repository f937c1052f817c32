namespace WarehouseHybrid.Planning.OneShot;

/// <summary>
/// Who occupies which cell when, for a set of conflict-free paths: per cell, the time runs
/// [start, end] each agent spends there, sorted by start and disjoint. An agent's last run lasts
/// forever (it stays at its goal). Safe intervals for SIPP are the gaps between runs. Not thread-safe.
/// </summary>
internal sealed class SpaceTimeTable
{
    public const int Forever = int.MaxValue;

    private readonly Run[][] _runs;
    private readonly int[] _count;

    public SpaceTimeTable(int cellCount)
    {
        _runs = new Run[cellCount][];
        _count = new int[cellCount];
    }

    /// <summary>Number of runs held at a cell.</summary>
    public int RunCount(int cell) => _count[cell];

    /// <summary>The <paramref name="k"/>-th run (by start time) at a cell.</summary>
    public ref readonly Run RunAt(int cell, int k) => ref _runs[cell][k];

    /// <summary>Adds an agent's path (index = time; the agent stays on the last cell forever).</summary>
    public void Add(int agent, int[] path) => AddSpan(agent, path, 0, path.Length, 0, true);

    /// <summary>Removes a path added before with <see cref="Add"/>.</summary>
    public void Remove(int agent, int[] path) => RemoveSpan(agent, path, 0, path.Length, 0);

    /// <summary>
    /// Adds <paramref name="count"/> cells of <paramref name="cells"/> from index
    /// <paramref name="from"/>, the first at time <paramref name="time"/>; the last run lasts forever
    /// when <paramref name="forever"/>.
    /// </summary>
    public void AddSpan(int agent, int[] cells, int from, int count, int time, bool forever)
    {
        var t0 = 0;
        for (var t = 1; t <= count; t++)
        {
            if (t == count || cells[from + t] != cells[from + t0])
            {
                Insert(cells[from + t0], new Run(time + t0, t == count && forever ? Forever : time + t - 1, agent));
                t0 = t;
            }
        }
    }

    /// <summary>Removes a span added before with the same arguments to <see cref="AddSpan"/>.</summary>
    public void RemoveSpan(int agent, int[] cells, int from, int count, int time)
    {
        var t0 = 0;
        for (var t = 1; t <= count; t++)
        {
            if (t == count || cells[from + t] != cells[from + t0])
            {
                Delete(cells[from + t0], time + t0, agent);
                t0 = t;
            }
        }
    }

    /// <summary>The agent at <paramref name="cell"/> at time <paramref name="t"/>, or -1.</summary>
    public int OccupantAt(int cell, int t)
    {
        var k = LastStartingAtOrBefore(cell, t);
        if (k < 0)
        {
            return -1;
        }

        ref readonly var r = ref _runs[cell][k];
        return r.End >= t ? r.Agent : -1;
    }

    /// <summary>Index of the last run at <paramref name="cell"/> starting at or before <paramref name="t"/>, or -1.</summary>
    public int LastStartingAtOrBefore(int cell, int t)
    {
        var runs = _runs[cell];
        int lo = 0, hi = _count[cell] - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            if (runs[mid].Start <= t)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    private void Insert(int cell, Run run)
    {
        var runs = _runs[cell];
        var n = _count[cell];
        if (runs is null)
        {
            runs = _runs[cell] = new Run[4];
        }
        else if (n == runs.Length)
        {
            Array.Resize(ref runs, n * 2);
            _runs[cell] = runs;
        }

        var k = LastStartingAtOrBefore(cell, run.Start) + 1;
        if ((k > 0 && runs[k - 1].End >= run.Start) || (k < n && runs[k].Start <= run.End))
        {
            throw new InvalidOperationException($"agent {run.Agent} would share cell {cell} with another agent in [{run.Start}, {run.End}]");
        }

        Array.Copy(runs, k, runs, k + 1, n - k);
        runs[k] = run;
        _count[cell] = n + 1;
    }

    private void Delete(int cell, int start, int agent)
    {
        var k = LastStartingAtOrBefore(cell, start);
        var runs = _runs[cell];
        if (k < 0 || runs[k].Start != start || runs[k].Agent != agent)
        {
            throw new InvalidOperationException($"agent {agent} holds no run at cell {cell} from time {start}");
        }

        var n = _count[cell];
        Array.Copy(runs, k + 1, runs, k, n - k - 1);
        _count[cell] = n - 1;
    }

    /// <summary>One agent's stay at a cell, times inclusive.</summary>
    internal readonly record struct Run(int Start, int End, int Agent);
}
