using WarehouseHybrid.Planning.Guidance;

namespace WarehouseHybrid.Planning.Distances;

/// <summary>
/// Lazily computed <see cref="HeadingDistanceTable"/>s keyed by goal cell, shared by every robot
/// heading for the same cell, kept in a least-recently-used list bounded by a memory budget.
/// Thread-safe: concurrent requests for one goal compute it once.
/// </summary>
public sealed class DistanceTableCache
{
    private readonly object _gate = new();
    private readonly Dictionary<int, LinkedListNode<Entry>> _byGoal = new();
    private readonly LinkedList<Entry> _lru = new(); // most recently used first
    private long _hits;
    private long _misses;
    private long _evictions;

    /// <summary>Creates a cache for <paramref name="grid"/> holding at most <paramref name="budgetBytes"/> of tables (at least one table).</summary>
    /// <param name="grid">The grid.</param>
    /// <param name="budgetBytes">Most bytes of tables held.</param>
    /// <param name="costs">Guidance move costs of the tables (null: unit costs).</param>
    public DistanceTableCache(CompactGrid grid, long budgetBytes, GuidanceCosts? costs = null)
    {
        ArgumentNullException.ThrowIfNull(grid);
        Grid = grid;
        Costs = costs;
        var perTable = Math.Max(1, HeadingDistanceTable.SizeFor(grid));
        Capacity = (int)Math.Clamp(budgetBytes / perTable, 1, int.MaxValue);
    }

    /// <summary>Guidance move costs of the tables, or null.</summary>
    public GuidanceCosts? Costs { get; }

    /// <summary>The grid the tables are computed on.</summary>
    public CompactGrid Grid { get; }

    /// <summary>Most tables held at once.</summary>
    public int Capacity { get; }

    /// <summary>Tables held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byGoal.Count;
            }
        }
    }

    /// <summary>Lookups answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that had to compute a table.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Tables dropped to stay within the budget.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Whether the table for <paramref name="goalCell"/> is held (does not touch the LRU order).</summary>
    public bool Contains(int goalCell)
    {
        lock (_gate)
        {
            return _byGoal.TryGetValue(goalCell, out var node) && node.Value.Table.IsValueCreated;
        }
    }

    /// <summary>The table for <paramref name="goalCell"/>, computing it on this thread if needed.</summary>
    public HeadingDistanceTable Get(int goalCell)
    {
        Lazy<HeadingDistanceTable> lazy;
        lock (_gate)
        {
            if (_byGoal.TryGetValue(goalCell, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                lazy = node.Value.Table;
                _hits++;
            }
            else
            {
                var grid = Grid;
                var costs = Costs;
                lazy = new Lazy<HeadingDistanceTable>(() => HeadingDistanceTable.Compute(grid, goalCell, costs), LazyThreadSafetyMode.ExecutionAndPublication);
                _byGoal[goalCell] = _lru.AddFirst(new Entry(goalCell, lazy));
                _misses++;
                while (_byGoal.Count > Capacity)
                {
                    var last = _lru.Last!;
                    _lru.RemoveLast();
                    _byGoal.Remove(last.Value.Goal);
                    _evictions++;
                }
            }
        }

        return lazy.Value;
    }

    /// <summary>
    /// Computes the missing tables among <paramref name="goalCells"/> on up to
    /// <paramref name="maxParallelism"/> threads. Stops starting new tables once
    /// <paramref name="shouldStop"/> returns true or <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <returns>True when every table was computed.</returns>
    public bool Prefetch(IReadOnlyCollection<int> goalCells, int maxParallelism, Func<bool> shouldStop, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(goalCells);
        ArgumentNullException.ThrowIfNull(shouldStop);
        var missing = new List<int>();
        var seen = new HashSet<int>();
        foreach (var g in goalCells)
        {
            if (seen.Add(g) && !Contains(g))
            {
                missing.Add(g);
            }
        }

        if (missing.Count == 0)
        {
            return true;
        }

        if (missing.Count == 1 || maxParallelism <= 1)
        {
            foreach (var g in missing)
            {
                if (shouldStop() || cancellationToken.IsCancellationRequested)
                {
                    return false;
                }

                Get(g);
            }

            return true;
        }

        var complete = true;
        try
        {
            var po = new ParallelOptions { MaxDegreeOfParallelism = maxParallelism, CancellationToken = cancellationToken };
            Parallel.ForEach(missing, po, (g, state) =>
            {
                if (shouldStop())
                {
                    complete = false;
                    state.Stop();
                    return;
                }

                Get(g);
            });
        }
        catch (OperationCanceledException)
        {
            complete = false;
        }

        return complete;
    }

    private sealed record Entry(int Goal, Lazy<HeadingDistanceTable> Table);
}
