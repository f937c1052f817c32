using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>What <see cref="SiteTaskPool.Admit"/> did.</summary>
/// <param name="Status">Created, Replayed or KeyConflict.</param>
/// <param name="Task">The new task, the replayed one, or the one the conflicting key created (null when it was forgotten).</param>
/// <param name="Entry">For a created task, the intake entry to persist before answering.</param>
public sealed record Admission(SubmitStatus Status, TaskRecord? Task, IntakeEntry? Entry);

/// <summary>A task accepted since the last step checkpoint (and its idempotency key), persisted before the submitter gets an answer.</summary>
/// <param name="Seq">Submission order.</param>
/// <param name="Task">The task as accepted.</param>
/// <param name="Key">Its idempotency record, if it had a key.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.IntakeEntry")]
public sealed record IntakeEntry([property: Id(0)] long Seq, [property: Id(1)] TaskRecord Task, [property: Id(2)] IdempotencyRecord? Key);

/// <summary>The open tasks as the step checkpoint stores them.</summary>
[GenerateSerializer, Alias("wh.cloud.TaskPoolSnapshot")]
public sealed record TaskPoolSnapshot
{
    /// <summary>Next site-local task id.</summary>
    [Id(0)] public int NextId { get; init; } = 1;

    /// <summary>Every submission up to this one is in <see cref="Open"/> or <see cref="Ended"/>.</summary>
    [Id(1)] public long ThroughSeq { get; init; }

    /// <summary>Open tasks (queued, assigned, in progress).</summary>
    [Id(2)] public List<TaskRecord> Open { get; init; } = new();

    /// <summary>Tasks that ended since the history was last written.</summary>
    [Id(3)] public List<TaskRecord> Ended { get; init; } = new();
}

/// <summary>Ended tasks and idempotency keys, written at most every <see cref="TaskOptions.HistoryWriteInterval"/>.</summary>
[GenerateSerializer, Alias("wh.cloud.TaskHistorySnapshot")]
public sealed record TaskHistorySnapshot
{
    /// <summary>Every key of a submission up to this one is in <see cref="Keys"/> (or expired).</summary>
    [Id(0)] public long ThroughSeq { get; init; }

    /// <summary>Ended tasks, oldest first.</summary>
    [Id(1)] public List<TaskRecord> Ended { get; init; } = new();

    /// <summary>Idempotency keys, oldest first.</summary>
    [Id(2)] public List<IdempotencyRecord> Keys { get; init; } = new();
}

/// <summary>
/// A site's tasks as plain code: admission with idempotency keys, the queue of tasks not yet given to the optimizer
/// (highest priority first), status updates from each planned step, ended tasks and keys kept within their limits,
/// and the three persisted parts it is rebuilt from after a failover: the intake (written before a submitter is
/// answered), the step checkpoint (open tasks, every step) and the history (ended tasks and keys, coalesced).
/// Not thread-safe (one owner: the site grain).
/// </summary>
public sealed class SiteTaskPool
{
    private readonly TaskOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<int, TaskRecord> _open = new();
    private readonly SortedSet<TaskRecord> _queued = new(Comparer<TaskRecord>.Create(static (a, b) =>
        a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : a.Seq.CompareTo(b.Seq)));
    private readonly Dictionary<int, TaskRecord> _ended = new();
    private readonly Queue<int> _endedOrder = new();
    private readonly Dictionary<string, IdempotencyRecord> _keys = new(StringComparer.Ordinal);
    private readonly Queue<IdempotencyRecord> _keyOrder = new();
    private readonly List<TaskRecord> _endedSinceHistory = new();
    private readonly List<IntakeEntry> _intake = new();
    private readonly Dictionary<int, long> _pending = new();
    private long _checkpointedThrough;
    private long _historyThrough;

    /// <summary>An empty pool.</summary>
    public SiteTaskPool(TaskOptions options, TimeProvider timeProvider)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
    }

    /// <summary>Next site-local id.</summary>
    public int NextId { get; private set; } = 1;

    /// <summary>The last submission's order number.</summary>
    public long LastSeq { get; private set; }

    /// <summary>Open tasks (queued, assigned or in progress).</summary>
    public int OpenCount => _open.Count;

    /// <summary>Open tasks not yet given to the optimizer.</summary>
    public int QueuedCount => _queued.Count;

    /// <summary>Ended tasks still readable.</summary>
    public int EndedCount => _ended.Count;

    /// <summary>Idempotency keys remembered.</summary>
    public int KeyCount => _keys.Count;

    /// <summary>Tasks finished (since the pool was created or restored, plus what the checkpoint counted).</summary>
    public long Finished { get; private set; }

    /// <summary>Tasks failed.</summary>
    public long Failed { get; private set; }

    /// <summary>Whether ended tasks or keys changed since the history was last written.</summary>
    public bool HistoryDirty => _endedSinceHistory.Count > 0 || _historyThrough < _intake.Where(e => e.Key is not null).Select(e => e.Seq).DefaultIfEmpty(0).Max();

    /// <summary>Entries of the intake (what the intake state holds).</summary>
    public IReadOnlyList<IntakeEntry> Intake => _intake;

    /// <summary>A task by id, open or ended.</summary>
    public TaskRecord? Find(int id) => _open.TryGetValue(id, out var r) ? r : _ended.GetValueOrDefault(id);

    /// <summary>Open tasks.</summary>
    public IEnumerable<TaskRecord> Open => _open.Values;

    /// <summary>
    /// Admits a checked order (<paramref name="cells"/> resolved by <see cref="TaskOrderValidator"/>). With an
    /// idempotency key seen before: the same request replays the task, a different one conflicts; nothing is created.
    /// </summary>
    public Admission Admit(TaskOrder order, int[] cells)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(cells);
        var now = _time.GetUtcNow();
        ExpireKeys(now);
        var fingerprint = order.Fingerprint();
        if (order.IdempotencyKey is { } key && _keys.TryGetValue(key, out var seen))
        {
            return new Admission(seen.Fingerprint == fingerprint ? SubmitStatus.Replayed : SubmitStatus.KeyConflict, Find(seen.TaskId), null);
        }

        var record = NewRecord(NextId, cells, order.Priority, order.Reference, order.IdempotencyKey, order.SubmittedBy, now);
        NextId++;
        var keyRecord = order.IdempotencyKey is null ? null : new IdempotencyRecord(order.IdempotencyKey, fingerprint, record.Id, now, record.Seq);
        if (keyRecord is not null)
        {
            AddKey(keyRecord);
        }

        return new Admission(SubmitStatus.Created, record, Accept(record, keyRecord));
    }

    /// <summary>
    /// The intake write of these admissions succeeded: their tasks may now go to the optimizer and into checkpoints
    /// (until then a failed write could still take them back, so nothing else may have seen them).
    /// </summary>
    public void Persisted(IEnumerable<int> taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        foreach (var id in taskIds)
        {
            _pending.Remove(id);
        }
    }

    /// <summary>Admits a task with a caller-chosen id (the grain API's batch submission); null, or why it was refused.</summary>
    public string? AdmitWithId(int id, int[] cells, string submittedBy)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (id < 0)
        {
            return "id must not be negative";
        }

        if (Find(id) is not null)
        {
            return "id already submitted";
        }

        var record = NewRecord(id, cells, 0, null, null, submittedBy, _time.GetUtcNow());
        NextId = Math.Max(NextId, id + 1);
        Accept(record, null);
        return null;
    }

    /// <summary>Takes back a batch admitted with ids whose intake write failed.</summary>
    public void WithdrawIds(IEnumerable<int> taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        foreach (var id in taskIds)
        {
            if (_pending.Remove(id) && _open.Remove(id, out var task))
            {
                _queued.Remove(task);
                _intake.RemoveAll(e => e.Task.Id == id);
            }
        }
    }

    /// <summary>Takes back an admission whose intake write failed, so the submitter's retry decides what happens.</summary>
    public void Withdraw(Admission admission)
    {
        ArgumentNullException.ThrowIfNull(admission);
        if (admission is not { Status: SubmitStatus.Created, Task: { } task, Entry: { } entry })
        {
            return;
        }

        _open.Remove(task.Id);
        _queued.Remove(task);
        _pending.Remove(task.Id);
        _intake.Remove(entry);
        if (entry.Key is { } key && _keys.TryGetValue(key.Key, out var k) && k.Seq == key.Seq)
        {
            _keys.Remove(key.Key);
        }
    }

    /// <summary>
    /// Fails tasks queued longer than <see cref="TaskOptions.MaxQueuedAge"/>, then takes queued tasks for the optimizer
    /// (highest priority first) while it holds fewer than <see cref="TaskOptions.MaxRevealed"/>. A task that was
    /// partly done before a failover is given with its remaining errands only.
    /// </summary>
    public IReadOnlyList<PlanningTask> Reveal(int heldByOptimizer)
    {
        var now = _time.GetUtcNow();
        if (_options.MaxQueuedAge is { } maxAge)
        {
            foreach (var stale in _queued.Where(r => now - r.SubmittedAt > maxAge).ToList())
            {
                _queued.Remove(stale);
                stale.Failure = $"expired: still queued after {maxAge} (Cloud:Tasks:MaxQueuedAge)";
                End(stale, TaskState.Failed, now);
            }
        }

        var revealed = new List<PlanningTask>();
        List<TaskRecord>? skipped = null;
        while (_queued.Count > 0 && (_options.MaxRevealed == 0 || heldByOptimizer < _options.MaxRevealed))
        {
            var next = _queued.Min!;
            _queued.Remove(next);
            if (_pending.ContainsKey(next.Id))
            {
                (skipped ??= new()).Add(next);
                continue;
            }

            next.Revealed = true;
            next.ErrandOffset = next.ErrandIndex;
            revealed.Add(new PlanningTask(next.Id, next.Errands[next.ErrandIndex..]));
            heldByOptimizer++;
        }

        foreach (var r in skipped ?? [])
        {
            _queued.Add(r);
        }

        return revealed;
    }

    /// <summary>
    /// Applies one planned step: errands reached, tasks finished and every robot's assignment (index = robot index).
    /// Returns the tasks that ended.
    /// </summary>
    public IReadOnlyList<TaskRecord> Apply(PlannerStepResult result, Func<int, string> robotId)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(robotId);
        var now = _time.GetUtcNow();
        foreach (var (robot, taskId, index) in result.ErrandsReached)
        {
            if (_open.TryGetValue(taskId, out var r))
            {
                r.ErrandIndex = Math.Max(r.ErrandIndex, Math.Min(r.Errands.Length - 1, r.ErrandOffset + index + 1));
                r.Robot = robotId(robot);
                r.AssignedAt ??= now;
                r.StartedAt ??= now;
                r.State = TaskState.InProgress;
            }
        }

        var ended = new List<TaskRecord>();
        foreach (var id in result.FinishedTaskIds)
        {
            if (_open.TryGetValue(id, out var r))
            {
                r.ErrandIndex = r.Errands.Length;
                r.StartedAt ??= now;
                End(r, TaskState.Finished, now);
                ended.Add(r);
            }
        }

        var assigned = new HashSet<int>();
        for (var i = 0; i < result.Assignments.Length; i++)
        {
            var a = result.Assignments[i];
            if (a.TaskId < 0 || !_open.TryGetValue(a.TaskId, out var r))
            {
                continue;
            }

            assigned.Add(a.TaskId);
            r.Robot = robotId(i);
            r.AssignedAt ??= now;
            r.ErrandIndex = Math.Max(r.ErrandIndex, r.ErrandOffset + Math.Max(0, a.NextErrandIndex));
            r.State = r.ErrandIndex > 0 ? TaskState.InProgress : TaskState.Assigned;
            if (r.ErrandIndex > 0)
            {
                r.StartedAt ??= now;
            }
        }

        // A task the optimizer took back (another robot was closer before the first errand) is queued again.
        foreach (var r in _open.Values)
        {
            if (r.Revealed && r.State == TaskState.Assigned && !assigned.Contains(r.Id))
            {
                r.State = TaskState.Queued;
                r.Robot = null;
            }
        }

        return ended;
    }

    /// <summary>The open tasks for the step checkpoint (copies: the pool goes on changing while it is written).</summary>
    public TaskPoolSnapshot Checkpoint() => new()
    {
        NextId = NextId,
        ThroughSeq = SettledThrough,
        Open = _open.Values.Where(r => !_pending.ContainsKey(r.Id)).Select(static r => r with { }).ToList(),
        Ended = _endedSinceHistory.Select(static r => r with { }).ToList(),
    };

    // Every submission up to here has had its intake write answered.
    private long SettledThrough => _pending.Count == 0 ? LastSeq : _pending.Values.Min() - 1;

    /// <summary>The checkpoint was written: intake entries it covers (whose keys the history has) are dropped.</summary>
    public void Checkpointed(TaskPoolSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _checkpointedThrough = Math.Max(_checkpointedThrough, snapshot.ThroughSeq);
        PruneIntake();
    }

    /// <summary>The history for writing (copies).</summary>
    public TaskHistorySnapshot History()
    {
        ExpireKeys(_time.GetUtcNow());
        return new TaskHistorySnapshot
        {
            ThroughSeq = SettledThrough,
            Ended = _endedOrder.Where(_ended.ContainsKey).Select(id => _ended[id] with { }).ToList(),
            Keys = _keyOrder.Where(k => IsLive(k) && !_pending.ContainsKey(k.TaskId)).ToList(),
        };
    }

    /// <summary>The history was written: ended tasks in it need no longer ride in the checkpoint.</summary>
    public void HistoryWritten(TaskHistorySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _historyThrough = Math.Max(_historyThrough, snapshot.ThroughSeq);
        var written = snapshot.Ended.Select(r => r.Id).ToHashSet();
        _endedSinceHistory.RemoveAll(r => written.Contains(r.Id));
        PruneIntake();
    }

    /// <summary>
    /// Rebuilds the pool from what was persisted: the history, then the checkpoint, then intake entries newer than
    /// either. Every open task goes back to the queue (the optimizer is rebuilt and gets them again at the next step)
    /// with its status and robot as they were.
    /// </summary>
    public void Restore(TaskPoolSnapshot? checkpoint, TaskHistorySnapshot? history, IReadOnlyList<IntakeEntry>? intake, long finished, long failed)
    {
        _open.Clear();
        _queued.Clear();
        _ended.Clear();
        _endedOrder.Clear();
        _keys.Clear();
        _keyOrder.Clear();
        _endedSinceHistory.Clear();
        _intake.Clear();
        _pending.Clear();
        Finished = finished;
        Failed = failed;
        var now = _time.GetUtcNow();
        foreach (var r in history?.Ended ?? [])
        {
            KeepEnded(r);
        }

        foreach (var k in history?.Keys ?? [])
        {
            AddKey(k);
        }

        foreach (var r in checkpoint?.Ended ?? [])
        {
            if (!_ended.ContainsKey(r.Id))
            {
                KeepEnded(r);
                _endedSinceHistory.Add(r);
            }
        }

        foreach (var r in checkpoint?.Open ?? [])
        {
            if (!_ended.ContainsKey(r.Id))
            {
                Requeue(r);
            }
        }

        _checkpointedThrough = checkpoint?.ThroughSeq ?? 0;
        _historyThrough = history?.ThroughSeq ?? 0;
        NextId = Math.Max(checkpoint?.NextId ?? 1, 1);
        LastSeq = Math.Max(_checkpointedThrough, _historyThrough);
        foreach (var e in intake ?? [])
        {
            if (e.Seq > _checkpointedThrough && !_open.ContainsKey(e.Task.Id) && !_ended.ContainsKey(e.Task.Id))
            {
                Requeue(e.Task with { });
            }

            if (e.Key is { } key && e.Seq > _historyThrough && !_keys.ContainsKey(key.Key))
            {
                AddKey(key);
            }

            NextId = Math.Max(NextId, e.Task.Id + 1);
            LastSeq = Math.Max(LastSeq, e.Seq);
            _intake.Add(e);
        }

        foreach (var id in _open.Keys.Concat(_ended.Keys))
        {
            NextId = Math.Max(NextId, id + 1);
        }

        ExpireKeys(now);
        PruneIntake();
    }

    private TaskRecord NewRecord(int id, int[] cells, int priority, string? reference, string? key, string submittedBy, DateTimeOffset now) => new()
    {
        Id = id,
        Errands = cells,
        Priority = priority,
        Reference = reference,
        IdempotencyKey = key,
        SubmittedBy = submittedBy,
        SubmittedAt = now,
        State = TaskState.Queued,
        Seq = ++LastSeq,
    };

    private IntakeEntry Accept(TaskRecord record, IdempotencyRecord? key)
    {
        _open.Add(record.Id, record);
        _queued.Add(record);
        _pending.Add(record.Id, record.Seq);
        var entry = new IntakeEntry(record.Seq, record with { }, key);
        _intake.Add(entry);
        return entry;
    }

    // The assignment (State, Robot) is kept: it is what the robot was told, until the rebuilt optimizer's first step
    // confirms or changes it.
    private void Requeue(TaskRecord r)
    {
        r.Revealed = false;
        _open[r.Id] = r;
        _queued.Add(r);
    }

    private void End(TaskRecord r, TaskState state, DateTimeOffset now)
    {
        r.State = state;
        r.EndedAt = now;
        _open.Remove(r.Id);
        _queued.Remove(r);
        if (state == TaskState.Finished)
        {
            Finished++;
        }
        else
        {
            Failed++;
        }

        KeepEnded(r);
        _endedSinceHistory.Add(r);
    }

    private void KeepEnded(TaskRecord r)
    {
        _ended[r.Id] = r;
        _endedOrder.Enqueue(r.Id);
        while (_ended.Count > _options.MaxEndedTasks && _endedOrder.TryDequeue(out var oldest))
        {
            _ended.Remove(oldest);
        }
    }

    private void AddKey(IdempotencyRecord k)
    {
        _keys[k.Key] = k;
        _keyOrder.Enqueue(k);
    }

    private void ExpireKeys(DateTimeOffset now)
    {
        while (_keyOrder.TryPeek(out var oldest) && (now - oldest.CreatedAt > _options.IdempotencyRetention || _keys.Count > _options.MaxIdempotencyKeys || !IsLive(oldest)))
        {
            _keyOrder.Dequeue();
            if (IsLive(oldest))
            {
                _keys.Remove(oldest.Key);
            }
        }
    }

    private bool IsLive(IdempotencyRecord k) => _keys.TryGetValue(k.Key, out var live) && live.Seq == k.Seq;

    // An entry is needed until the checkpoint holds its task and (when it has a key) the history holds the key.
    private void PruneIntake() =>
        _intake.RemoveAll(e => e.Seq <= _checkpointedThrough && (e.Key is null || e.Seq <= _historyThrough));
}
