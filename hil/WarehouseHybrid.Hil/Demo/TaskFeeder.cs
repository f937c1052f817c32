using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.Demo;

/// <summary>
/// Generates the demo's task stream: each task is a pick-up at a service cell ('S') followed by a
/// drop at an emitter ('E'), like the LoRR warehouse instances; maps without those use any free cell.
/// Deterministic for a seed.
/// </summary>
public sealed class TaskFeeder
{
    private readonly int[] _pickups;
    private readonly int[] _drops;
    private readonly int _errands;
    private readonly Random _random;
    private int _nextId;

    /// <summary>Creates a feeder for a map.</summary>
    public TaskFeeder(GridMap map, int errandsPerTask, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(errandsPerTask, 1);
        var service = new List<int>();
        var emitters = new List<int>();
        var free = new List<int>();
        for (var cell = 0; cell < map.CellCount; cell++)
        {
            switch (map.KindOf(cell))
            {
                case CellKind.Service: service.Add(cell); break;
                case CellKind.Emitter: emitters.Add(cell); break;
                case CellKind.Free: free.Add(cell); break;
            }
        }

        _pickups = (service.Count > 0 ? service : free).ToArray();
        _drops = (emitters.Count > 0 ? emitters : free).ToArray();
        if (_pickups.Length == 0 || _drops.Length == 0)
        {
            throw new ArgumentException($"map '{map.Name}' has no traversable cell for tasks", nameof(map));
        }

        _errands = errandsPerTask;
        _random = new Random(seed);
    }

    /// <summary>Tasks made so far.</summary>
    public int Generated => _nextId;

    /// <summary>Makes the next <paramref name="count"/> tasks.</summary>
    public IReadOnlyList<SiteTask> Next(int count)
    {
        var tasks = new List<SiteTask>(count);
        for (var i = 0; i < count; i++)
        {
            var errands = new int[_errands];
            for (var e = 0; e < _errands; e++)
            {
                // Alternate pick-up and drop; the last errand is always a drop when there are two or more.
                var drop = (_errands - 1 - e) % 2 == 0 && _errands > 1;
                var pool = drop ? _drops : _pickups;
                errands[e] = pool[_random.Next(pool.Length)];
            }

            tasks.Add(new SiteTask(_nextId++, errands));
        }

        return tasks;
    }
}
