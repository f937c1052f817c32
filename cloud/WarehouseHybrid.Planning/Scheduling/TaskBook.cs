using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Planning.Scheduling;

/// <summary>An open task and its progress, as the planner tracks it.</summary>
public sealed class OpenTask
{
    internal OpenTask(PlanningTask task, long revealOrder)
    {
        Task = task;
        RevealOrder = revealOrder;
    }

    /// <summary>The task as submitted.</summary>
    public PlanningTask Task { get; }

    /// <summary>Order of submission (0 for the first task ever submitted).</summary>
    public long RevealOrder { get; }

    /// <summary>The robot working on it, or -1 while unassigned.</summary>
    public int Robot { get; internal set; } = -1;

    /// <summary>Index of the errand to reach next.</summary>
    public int NextErrand { get; internal set; }

    /// <summary>Cell of the errand to reach next.</summary>
    public int GoalCell => Task.Errands[NextErrand];

    /// <summary>The robot the task is pinned to, or -1 (see <see cref="PlanningTask.PinnedRobot"/>).</summary>
    public int PinnedRobot => Task.PinnedRobot;

    /// <summary>Whether the first errand has been reached (LoRR 2024: the task can no longer move to another robot).</summary>
    public bool Started => NextErrand > 0;

    /// <summary>Whether the last errand has been reached.</summary>
    public bool Finished { get; internal set; }

    /// <summary>Estimated steps from the first errand through the last (-1 until computed).</summary>
    internal int Length { get; set; } = -1;
}

/// <summary>
/// The open task pool in reveal order: validates submissions against the map, hands out tasks and
/// drops finished ones. Not thread-safe (owned by one planner).
/// </summary>
public sealed class TaskBook
{
    private readonly GridMap _map;
    private readonly Dictionary<int, OpenTask> _byId = new();
    private readonly List<OpenTask> _open = new();
    private readonly Dictionary<int, Queue<OpenTask>> _pinned = new();
    private long _revealed;

    /// <summary>Creates an empty pool for tasks on <paramref name="map"/>.</summary>
    public TaskBook(GridMap map) => _map = map ?? throw new ArgumentNullException(nameof(map));

    /// <summary>Open (unfinished) tasks in reveal order, assigned or not.</summary>
    public IReadOnlyList<OpenTask> Open => _open;

    /// <summary>Whether the task with <paramref name="id"/> is open (submitted, not finished).</summary>
    public bool IsOpen(int id) => _byId.ContainsKey(id);

    /// <summary>The open task with <paramref name="id"/>, or null.</summary>
    public OpenTask? Find(int id) => _byId.GetValueOrDefault(id);

    /// <summary>Number of open tasks.</summary>
    public int Count => _open.Count;

    /// <summary>
    /// Adds a task. Throws <see cref="ArgumentException"/> naming the task and errand when it has
    /// no errands, an errand is off the map or on an obstacle, or its id is already open.
    /// </summary>
    public OpenTask Add(PlanningTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.Errands is null || task.Errands.Count == 0)
        {
            throw new ArgumentException($"task {task.Id}: has no errands", nameof(task));
        }

        for (var e = 0; e < task.Errands.Count; e++)
        {
            var cell = task.Errands[e];
            if (!_map.InBounds(cell))
            {
                throw new ArgumentException($"task {task.Id}: errand {e} (cell {cell}) is off the map '{_map.Name}' ({_map.Width}x{_map.Height})", nameof(task));
            }

            if (!_map.IsPassable(cell))
            {
                throw new ArgumentException($"task {task.Id}: errand {e} (cell {cell}, row {_map.Row(cell)}, column {_map.Column(cell)}) is an obstacle on map '{_map.Name}'", nameof(task));
            }
        }

        if (_byId.ContainsKey(task.Id))
        {
            throw new ArgumentException($"task {task.Id}: a task with this id is already open", nameof(task));
        }

        var open = new OpenTask(task, _revealed++);
        _byId.Add(task.Id, open);
        _open.Add(open);
        if (task.PinnedRobot >= 0)
        {
            if (!_pinned.TryGetValue(task.PinnedRobot, out var queue))
            {
                queue = new Queue<OpenTask>();
                _pinned[task.PinnedRobot] = queue;
            }

            queue.Enqueue(open);
        }

        return open;
    }

    /// <summary>The oldest unfinished task pinned to <paramref name="robot"/>, or null.</summary>
    public OpenTask? NextPinned(int robot)
    {
        if (!_pinned.TryGetValue(robot, out var queue))
        {
            return null;
        }

        while (queue.Count > 0 && queue.Peek().Finished)
        {
            queue.Dequeue();
        }

        if (queue.Count == 0)
        {
            _pinned.Remove(robot);
            return null;
        }

        return queue.Peek();
    }

    /// <summary>Whether any open task is pinned to a robot.</summary>
    public bool HasPinned => _pinned.Count > 0;

    /// <summary>Marks a task finished and drops it from the pool.</summary>
    internal void Finish(OpenTask task)
    {
        task.Finished = true;
        _byId.Remove(task.Task.Id);
    }

    /// <summary>Removes finished tasks from <see cref="Open"/> (keeps reveal order).</summary>
    internal void Compact() => _open.RemoveAll(t => t.Finished);
}
