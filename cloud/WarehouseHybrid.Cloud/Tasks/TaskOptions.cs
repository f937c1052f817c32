namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>Task intake and retention (section "Cloud:Tasks").</summary>
public sealed class TaskOptions
{
    /// <summary>Most errands one task may have.</summary>
    public int MaxErrands { get; set; } = 32;

    /// <summary>
    /// Most tasks the optimizer holds at once (0 = no limit: every accepted task is revealed at the next step).
    /// With a limit, queued tasks are revealed highest priority first, then in submission order.
    /// </summary>
    public int MaxRevealed { get; set; }

    /// <summary>A task still queued (not yet revealed) after this long fails with "expired" (null = never).</summary>
    public TimeSpan? MaxQueuedAge { get; set; }

    /// <summary>How long an idempotency key is remembered.</summary>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Most idempotency keys remembered per site (the oldest are forgotten first).</summary>
    public int MaxIdempotencyKeys { get; set; } = 20_000;

    /// <summary>Ended (finished or failed) tasks whose status stays readable, per site (the oldest are dropped first).</summary>
    public int MaxEndedTasks { get; set; } = 5_000;

    /// <summary>Shortest time between two writes of the history (ended tasks and idempotency keys).</summary>
    public TimeSpan HistoryWriteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Names the first bad setting (prefixed "Tasks."), or returns null.</summary>
    public string? Check()
    {
        if (MaxErrands is < 1 or > 1000)
        {
            return $"Tasks.MaxErrands must be 1-1000, got {MaxErrands}";
        }

        if (MaxRevealed < 0)
        {
            return $"Tasks.MaxRevealed must be 0 (no limit) or more, got {MaxRevealed}";
        }

        if (MaxQueuedAge is { } age && age <= TimeSpan.Zero)
        {
            return $"Tasks.MaxQueuedAge must be positive when set, got {age}";
        }

        if (IdempotencyRetention <= TimeSpan.Zero || IdempotencyRetention > TimeSpan.FromDays(30))
        {
            return $"Tasks.IdempotencyRetention must be in (0, 30 days], got {IdempotencyRetention}";
        }

        if (MaxIdempotencyKeys is < 1 or > 1_000_000)
        {
            return $"Tasks.MaxIdempotencyKeys must be 1-1,000,000, got {MaxIdempotencyKeys}";
        }

        if (MaxEndedTasks is < 1 or > 1_000_000)
        {
            return $"Tasks.MaxEndedTasks must be 1-1,000,000, got {MaxEndedTasks}";
        }

        if (HistoryWriteInterval < TimeSpan.Zero || HistoryWriteInterval > TimeSpan.FromMinutes(10))
        {
            return $"Tasks.HistoryWriteInterval must be in [0, 10 min], got {HistoryWriteInterval}";
        }

        return null;
    }
}
