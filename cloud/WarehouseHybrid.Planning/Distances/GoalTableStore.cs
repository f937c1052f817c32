using WarehouseHybrid.Planning.Guidance;

namespace WarehouseHybrid.Planning.Distances;

/// <summary>Which exact table a <see cref="GoalTableStore"/> computes per goal.</summary>
public enum GoalTableKind
{
    /// <summary><see cref="CellDistanceTable"/>: one BFS over cells, 2 bytes per passable cell, admissible heading correction.</summary>
    PerCell = 0,

    /// <summary><see cref="HeadingDistanceTable"/>: one BFS over (cell, heading), 8 bytes per passable cell, exact.</summary>
    PerHeading = 1,
}

/// <summary>
/// Distance tables for goal cells, computed lazily and never blocking a planning step: a step asks
/// <see cref="TryGet"/> (non-blocking) and <see cref="Request"/>s what is missing; background
/// workers compute the queue while the caller routes (the sequential PIBT core runs on one core,
/// tables on the others), and the caller may help with <see cref="ComputeNow"/> within its own
/// time budget. Tables are shared by goal cell (errand cells repeat) and kept in a
/// least-recently-used order bounded by bytes. Thread-safe. Workers exist only while there is
/// queued work, so an abandoned store leaves no thread behind.
/// </summary>
public sealed class GoalTableStore
{
    private readonly object _gate = new();
    private readonly Dictionary<int, Entry> _entries = new();
    private readonly LinkedList<Entry> _lru = new(); // ready tables, most recently used first
    private readonly Queue<int> _queue = new();
    private readonly Stack<ushort[]> _free = new();                     // arrays of evicted per-cell tables, ready for reuse
    private readonly Queue<(long Epoch, ushort[] Values)> _quarantine = new(); // evicted, maybe still read by the current step
    private long _epoch;
    private readonly long _tableBytes;
    private int _workersRunning;
    private long _bytes;
    private long _computed;
    private long _evictions;

    // Recycled arrays kept at most (the rest are left to the collector).
    private const int MaxFreeArrays = 512;

    /// <summary>Creates a store.</summary>
    /// <param name="grid">The grid the tables are computed on.</param>
    /// <param name="kind">Which table to compute.</param>
    /// <param name="budgetBytes">Most bytes of tables held (at least one table is always kept).</param>
    /// <param name="backgroundWorkers">Threads computing queued tables (0: only <see cref="ComputeNow"/> computes).</param>
    /// <param name="costs">Guidance move costs of per-cell tables (null: unit moves).</param>
    public GoalTableStore(CompactGrid grid, GoalTableKind kind, long budgetBytes, int backgroundWorkers, GuidanceCosts? costs = null)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(backgroundWorkers);
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "GoalTableStore: unknown table kind");
        }

        Grid = grid;
        Kind = kind;
        Costs = costs;
        BudgetBytes = budgetBytes;
        BackgroundWorkers = backgroundWorkers;
        _tableBytes = Math.Max(1, kind == GoalTableKind.PerCell ? CellDistanceTable.SizeFor(grid) : HeadingDistanceTable.SizeFor(grid));
    }

    /// <summary>The grid.</summary>
    public CompactGrid Grid { get; }

    /// <summary>Guidance move costs of per-cell tables, or null.</summary>
    public GuidanceCosts? Costs { get; }

    /// <summary>The kind of table computed.</summary>
    public GoalTableKind Kind { get; }

    /// <summary>Most bytes of tables held.</summary>
    public long BudgetBytes { get; }

    /// <summary>Background threads used while work is queued.</summary>
    public int BackgroundWorkers { get; }

    /// <summary>Bytes of one table.</summary>
    public long TableBytes => _tableBytes;

    /// <summary>Bytes of tables held now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Tables computed so far (by workers and callers).</summary>
    public long Computed => Interlocked.Read(ref _computed);

    /// <summary>Tables dropped to stay within the budget.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Ready tables held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _lru.Count;
            }
        }
    }

    /// <summary>Goals waiting for a worker.</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>
    /// Marks the start of a planning step. The arrays of per-cell tables evicted before the previous
    /// step began are reused for new tables from now on (no step holds an older table), so the
    /// collector does not have to reclaim them.
    /// </summary>
    public void BeginStep()
    {
        lock (_gate)
        {
            _epoch++;
            while (_quarantine.Count > 0 && _quarantine.Peek().Epoch <= _epoch - 2)
            {
                var values = _quarantine.Dequeue().Values;
                if (_free.Count < MaxFreeArrays)
                {
                    _free.Push(values);
                }
            }
        }
    }

    /// <summary>The ready table of <paramref name="goalCell"/> (marked recently used), or null. Never blocks on a computation.</summary>
    public GoalDistanceTable? TryGet(int goalCell)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(goalCell, out var e) && e.Table is { } t)
            {
                _lru.Remove(e.Node);
                _lru.AddFirst(e.Node);
                return t;
            }
        }

        return null;
    }

    /// <summary>Queues <paramref name="goalCell"/> for a background worker unless it is ready, queued or being computed.</summary>
    /// <returns>True when the table is ready now.</returns>
    public bool Request(int goalCell)
    {
        var start = false;
        lock (_gate)
        {
            if (_entries.TryGetValue(goalCell, out var e))
            {
                return e.Table is not null;
            }

            _entries[goalCell] = new Entry(goalCell);
            _queue.Enqueue(goalCell);
            if (_workersRunning < BackgroundWorkers)
            {
                _workersRunning++;
                start = true;
            }
        }

        if (start)
        {
            StartWorker();
        }

        return false;
    }

    /// <summary>
    /// Computes the missing tables among <paramref name="goalCells"/> on the calling thread, in
    /// order, until <paramref name="shouldStop"/> returns true (polled before each table). Tables a
    /// worker is computing right now are skipped (they arrive soon).
    /// </summary>
    /// <returns>Number of tables this call computed.</returns>
    public int ComputeNow(IReadOnlyList<int> goalCells, Func<bool> shouldStop)
    {
        ArgumentNullException.ThrowIfNull(goalCells);
        ArgumentNullException.ThrowIfNull(shouldStop);
        var done = 0;
        foreach (var g in goalCells)
        {
            if (shouldStop())
            {
                break;
            }

            lock (_gate)
            {
                if (_entries.TryGetValue(g, out var e))
                {
                    if (e.Table is not null || e.Computing)
                    {
                        continue;
                    }

                    e.Computing = true; // claimed: a worker dequeuing it will skip it
                }
                else
                {
                    _entries[g] = new Entry(g) { Computing = true };
                }
            }

            Publish(g, ComputeTable(g));
            done++;
        }

        return done;
    }

    private GoalDistanceTable ComputeTable(int goal)
    {
        if (Kind != GoalTableKind.PerCell)
        {
            return HeadingDistanceTable.Compute(Grid, goal);
        }

        ushort[]? buffer = null;
        lock (_gate)
        {
            _free.TryPop(out buffer);
        }

        return CellDistanceTable.Compute(Grid, goal, Costs, buffer);
    }

    private void Publish(int goal, GoalDistanceTable table)
    {
        Interlocked.Increment(ref _computed);
        lock (_gate)
        {
            if (!_entries.TryGetValue(goal, out var e))
            {
                e = new Entry(goal);
                _entries[goal] = e;
            }

            e.Table = table;
            e.Computing = false;
            _lru.AddFirst(e.Node);
            _bytes += table.SizeBytes;
            while (_bytes > BudgetBytes && _lru.Count > 1)
            {
                var old = _lru.Last!.Value;
                _lru.RemoveLast();
                _entries.Remove(old.Goal);
                _bytes -= old.Table!.SizeBytes;
                _evictions++;
                if (old.Table is CellDistanceTable cells)
                {
                    _quarantine.Enqueue((_epoch, cells.Values));
                    if (_quarantine.Count > MaxFreeArrays)
                    {
                        _quarantine.Dequeue(); // nobody calls BeginStep often enough: leave it to the collector
                    }
                }
            }
        }
    }

    private void StartWorker()
    {
        var thread = new Thread(WorkerLoop) { IsBackground = true, Name = "goal-tables" };
        thread.Start();
    }

    private void WorkerLoop()
    {
        while (true)
        {
            int goal;
            lock (_gate)
            {
                var found = false;
                goal = -1;
                while (_queue.Count > 0)
                {
                    goal = _queue.Dequeue();
                    if (_entries.TryGetValue(goal, out var e) && e.Table is null && !e.Computing)
                    {
                        e.Computing = true;
                        found = true;
                        break;
                    }
                }

                if (!found)
                {
                    _workersRunning--;
                    return;
                }
            }

            Publish(goal, ComputeTable(goal));
        }
    }

    private sealed class Entry
    {
        public Entry(int goal)
        {
            Goal = goal;
            Node = new LinkedListNode<Entry>(this);
        }

        public int Goal { get; }

        public LinkedListNode<Entry> Node { get; }

        public GoalDistanceTable? Table { get; set; }

        public bool Computing { get; set; }
    }
}
