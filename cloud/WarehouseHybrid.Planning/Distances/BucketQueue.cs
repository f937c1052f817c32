namespace WarehouseHybrid.Planning.Distances;

/// <summary>
/// A monotone priority queue for Dijkstra with small integer edge costs (Dial's algorithm): a
/// ring of <c>maxEdgeCost + 1</c> buckets indexed by key modulo the ring, popped in increasing
/// key order. One reusable instance per thread (<see cref="ForThread"/>), so table searches
/// allocate nothing but their result.
/// </summary>
internal sealed class BucketQueue
{
    [ThreadStatic]
    private static BucketQueue? t_instance;

    private int[][] _items = [];
    private int[] _counts = [];
    private int _ring;
    private int _level;
    private int _index;
    private int _pending;

    /// <summary>This thread's queue, emptied, for edge costs up to <paramref name="maxEdgeCost"/>.</summary>
    public static BucketQueue ForThread(int maxEdgeCost)
    {
        var q = t_instance ??= new BucketQueue();
        q.Reset(maxEdgeCost);
        return q;
    }

    /// <summary>Current key level (the key of the last popped item).</summary>
    public int Level => _level;

    private void Reset(int maxEdgeCost)
    {
        _ring = maxEdgeCost + 1;
        if (_items.Length < _ring)
        {
            _items = new int[_ring][];
            for (var b = 0; b < _ring; b++)
            {
                _items[b] = new int[256];
            }

            _counts = new int[_ring];
        }

        _counts.AsSpan().Clear();
        _level = 0;
        _index = 0;
        _pending = 0;
    }

    /// <summary>Queues <paramref name="item"/> with <paramref name="key"/>, which must be within maxEdgeCost of the current level and not below it.</summary>
    public void Push(int item, int key)
    {
        var s = key % _ring;
        if (_counts[s] == _items[s].Length)
        {
            Array.Resize(ref _items[s], _items[s].Length * 2);
        }

        _items[s][_counts[s]++] = item;
        _pending++;
    }

    /// <summary>The next item in key order; false when empty. Stale duplicates are the caller's to skip.</summary>
    public bool TryPop(out int item, out int key)
    {
        while (_pending > 0)
        {
            var slot = _level % _ring;
            if (_index < _counts[slot])
            {
                item = _items[slot][_index++];
                key = _level;
                _pending--;
                return true;
            }

            _counts[slot] = 0;
            _index = 0;
            _level++;
        }

        item = -1;
        key = -1;
        return false;
    }
}
