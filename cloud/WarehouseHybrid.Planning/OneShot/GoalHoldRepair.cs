namespace WarehouseHybrid.Planning.OneShot;

/// <summary>
/// Under the sum-of-costs rule an agent's cost is its last arrival at its goal, so every time
/// another agent later passes through that goal (PIBT pushes agents off their goals ten times each
/// on a dense warehouse) the whole wait at the goal is paid. This repair keeps agent j on its goal
/// from an earlier arrival: j's path is cut there, and each agent that used j's goal afterwards
/// (an intruder) gets a detour: a windowed SIPP between its own positions some steps before and
/// after the intrusion (its cost unchanged), or else a SIPP of the rest of its path to its goal that
/// may arrive later as long as the hold still saves more than the intruders lose. All detours found:
/// j's cost falls to the earlier arrival; any missing, or no net saving: everything is put back.
/// </summary>
internal sealed class GoalHoldRepair
{
    private readonly SpaceTimeTable _table;
    private readonly SippPlanner _sipp;
    private readonly int[][] _paths;
    private readonly List<(int Agent, int Start, int End)> _intrusions = [];
    private readonly Dictionary<int, List<(int From, int To)>> _windows = [];
    private readonly List<(int Agent, int[] OldPath)> _changed = [];

    public GoalHoldRepair(SpaceTimeTable table, SippPlanner sipp, int[][] paths)
    {
        _table = table;
        _sipp = sipp;
        _paths = paths;
    }

    /// <summary>Steps of slack before and after an intrusion that a detour may use.</summary>
    public int Margin { get; set; } = 16;

    /// <summary>States one windowed search may expand.</summary>
    public int ExpansionLimit { get; set; } = 20_000;

    /// <summary>Most intruders one attempt may detour.</summary>
    public int MaxIntruders { get; set; } = 16;

    /// <summary>The first time agent j is at its goal, or its cost when it only arrives at the end.</summary>
    public int FirstArrival(int j)
    {
        var p = _paths[j];
        var g = p[^1];
        for (var t = 0; t < p.Length; t++)
        {
            if (p[t] == g)
            {
                return t;
            }
        }

        return p.Length - 1;
    }

    /// <summary>
    /// Tries to hold agent <paramref name="j"/> at its goal from each of its arrivals before its
    /// last one, earliest first (at most <paramref name="tries"/>). Returns the cost saved (0: unchanged).
    /// </summary>
    public int TryHold(int j, int tries = 3)
    {
        var p = _paths[j];
        var g = p[^1];
        var cost = p.Length - 1;
        for (var t = 0; t < cost && tries > 0; t++)
        {
            if (p[t] == g && (t == 0 || p[t - 1] != g))
            {
                tries--;
                Attempts++;
                var saved = Attempt(j, t, cost - t);
                if (saved > int.MinValue)
                {
                    return cost - t + saved;
                }
            }
        }

        return 0;
    }

    /// <summary>States one suffix search may expand (0: cost-neutral detours only).</summary>
    public int SuffixExpansionLimit { get; set; } = 5_000;

    /// <summary>Attempts made (diagnostics).</summary>
    public long Attempts { get; private set; }

    /// <summary>Attempts given up because more agents than <see cref="MaxIntruders"/> used the goal (diagnostics).</summary>
    public long TooMany { get; private set; }

    /// <summary>Intruders that had no same-cost detour (diagnostics).</summary>
    public long WindowFailures { get; private set; }

    /// <summary>Intruders that took a longer path to their goal (diagnostics).</summary>
    public long SuffixDetours { get; private set; }

    /// <summary>Intruders met in attempts not given up at once (diagnostics).</summary>
    public long IntrudersSeen { get; private set; }

    // Returns int.MinValue when j cannot be held from the arrival (with a net gain), else what the
    // intruders' new paths saved (negative: the delay they took on; a detour ending at an
    // intruder's goal may also arrive early).
    private int Attempt(int j, int arrival, int gain)
    {
        var old = _paths[j];
        var goal = old[^1];

        // j keeps its path up to the arrival; its goal counts as taken from then on (the searches
        // are told), and it is parked there for good once nobody else needs the cell.
        _table.Remove(j, old);
        _table.AddSpan(j, old, 0, arrival + 1, 0, false);

        _intrusions.Clear();
        var runs = _table.RunCount(goal);
        for (var k = 0; k < runs; k++)
        {
            ref readonly var r = ref _table.RunAt(goal, k);
            if (r.End > arrival && r.Agent != j)
            {
                _intrusions.Add((r.Agent, r.Start, r.End));
            }
        }

        var ok = _intrusions.Count <= MaxIntruders && !_intrusions.Exists(x => x.End == SpaceTimeTable.Forever);
        if (!ok)
        {
            TooMany++;
        }
        else
        {
            IntrudersSeen += _intrusions.Count;
        }
        if (ok)
        {
            MakeWindows();
        }

        // Each intruder is replanned in its windows and committed before the next one plans, so
        // every pair of new paths is checked by the later search (own old runs are ignored).
        _changed.Clear();
        var saved = 0;
        foreach (var (a, list) in ok ? _windows : [])
        {
            var pa = _paths[a];
            var np = (int[])pa.Clone();
            foreach (var (from, to) in list)
            {
                var cells = _sipp.PlanWindow(a, pa[from], from, pa[to], to, ExpansionLimit, goal, arrival + 1);
                if (cells is not null)
                {
                    cells.CopyTo(np, from);
                    continue;
                }

                WindowFailures++;

                // No detour at the same cost: replan the rest of a's path, taking on delay while the
                // hold still pays (the gain less what earlier intruders already took).
                var allowance = gain - 1 + saved;
                var suffix = allowance > 0 && SuffixExpansionLimit > 0
                    ? _sipp.PlanSuffix(a, pa[from], from, pa.Length - 1 + allowance, SuffixExpansionLimit, goal, arrival + 1)
                    : null;
                if (suffix is null)
                {
                    ok = false;
                    break;
                }

                SuffixDetours++;
                var longer = new int[from + suffix.Length];
                Array.Copy(np, longer, from);
                suffix.CopyTo(longer, from);
                np = longer;
                break; // the suffix replaced every later window of a
            }

            if (!ok)
            {
                break;
            }

            var cost = Domain.Validation.OneShotPathValidator.CostOf(np);
            saved += pa.Length - 1 - cost;
            if (cost < np.Length - 1)
            {
                np = np[..(cost + 1)];
            }

            _table.Remove(a, pa);
            _table.Add(a, np);
            _paths[a] = np;
            _changed.Add((a, pa));
        }

        ok &= gain + saved > 0;
        _table.RemoveSpan(j, old, 0, arrival + 1, 0);
        if (ok)
        {
            var held = old[..(arrival + 1)];
            _table.Add(j, held);
            _paths[j] = held;
            return saved;
        }

        for (var k = _changed.Count - 1; k >= 0; k--)
        {
            var (a, pa) = _changed[k];
            _table.Remove(a, _paths[a]);
            _table.Add(a, pa);
            _paths[a] = pa;
        }

        _table.Add(j, old);
        return int.MinValue;
    }

    // Windows per intruder: a margin around each stay at the goal, merged when they touch.
    private void MakeWindows()
    {
        _windows.Clear();
        foreach (var (a, s, e) in _intrusions)
        {
            var pa = _paths[a];
            var from = Math.Max(0, s - Margin);
            var to = Math.Min(pa.Length - 1, e + Margin);
            if (!_windows.TryGetValue(a, out var list))
            {
                _windows[a] = list = [];
            }

            list.Add((from, to));
        }

        foreach (var list in _windows.Values)
        {
            list.Sort();
            for (var k = list.Count - 1; k > 0; k--)
            {
                if (list[k].From <= list[k - 1].To + 1)
                {
                    list[k - 1] = (list[k - 1].From, Math.Max(list[k - 1].To, list[k].To));
                    list.RemoveAt(k);
                }
            }
        }
    }
}
