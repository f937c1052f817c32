namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>Where a task is in its life.</summary>
[GenerateSerializer, Alias("wh.cloud.TaskState")]
public enum TaskState
{
    /// <summary>Accepted, not yet given to a robot.</summary>
    Queued = 0,
    /// <summary>A robot heads for its first errand.</summary>
    Assigned = 1,
    /// <summary>At least one errand reached; a robot heads for the next.</summary>
    InProgress = 2,
    /// <summary>The last errand was reached.</summary>
    Finished = 3,
    /// <summary>The site gave up on it (see <see cref="TaskRecord.Failure"/>).</summary>
    Failed = 4,
}

/// <summary>One errand as a client names it: a linear cell id, or a column (x) and row (y).</summary>
/// <param name="Cell">Cell id (row * width + column), or null when <paramref name="X"/> and <paramref name="Y"/> are given.</param>
/// <param name="X">Column.</param>
/// <param name="Y">Row.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.ErrandRef")]
public sealed record ErrandRef([property: Id(0)] int? Cell, [property: Id(1)] int? X, [property: Id(2)] int? Y)
{
    /// <summary>An errand given as a cell id.</summary>
    public static ErrandRef AtCell(int cell) => new(cell, null, null);

    /// <summary>An errand given as a column and row.</summary>
    public static ErrandRef AtPoint(int x, int y) => new(null, x, y);

    /// <summary>The canonical text of the errand (for request fingerprints).</summary>
    public override string ToString() => Cell is { } c ? c.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"({X},{Y})";
}

/// <summary>A task order as the HTTP API and the MQTT intake hand it to a site, before the site checks it against its map.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.TaskOrder")]
public sealed record TaskOrder
{
    /// <summary>Errands in the order the robot must reach them.</summary>
    [Id(0)] public IReadOnlyList<ErrandRef> Errands { get; init; } = [];

    /// <summary>Higher goes to the optimizer first (-1000..1000, default 0).</summary>
    [Id(1)] public int Priority { get; init; }

    /// <summary>The client's own reference (an order number), shown back in the status.</summary>
    [Id(2)] public string? Reference { get; init; }

    /// <summary>Retries with the same key return the task the first submission created.</summary>
    [Id(3)] public string? IdempotencyKey { get; init; }

    /// <summary>Who submitted it (the API key's name, or the MQTT client).</summary>
    [Id(4)] public string SubmittedBy { get; init; } = string.Empty;

    /// <summary>A digest of what was asked (errands, priority, reference): a retry must match it.</summary>
    public string Fingerprint()
    {
        var text = string.Join(';', Errands.Select(e => e.ToString())) + "|" + Priority.ToString(System.Globalization.CultureInfo.InvariantCulture) + "|" + Reference;
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32];
    }
}

/// <summary>What was wrong with one field of a submission.</summary>
/// <param name="Field">The field, as the client wrote it: <c>site</c>, <c>errands[2].x</c>, <c>priority</c>, <c>Idempotency-Key</c>.</param>
/// <param name="Message">What is wrong and why.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.FieldError")]
public sealed record FieldError([property: Id(0)] string Field, [property: Id(1)] string Message);

/// <summary>A task as the site keeps it (and persists it).</summary>
[GenerateSerializer, Alias("wh.cloud.TaskRecord")]
public sealed record TaskRecord
{
    /// <summary>Site-local id (the optimizer's task id).</summary>
    [Id(0)] public int Id { get; init; }

    /// <summary>Errand cells in order.</summary>
    [Id(1)] public int[] Errands { get; init; } = [];

    /// <summary>Reveal priority.</summary>
    [Id(2)] public int Priority { get; init; }

    /// <summary>Where it is.</summary>
    [Id(3)] public TaskState State { get; set; }

    /// <summary>Errands reached so far (the index of the next one).</summary>
    [Id(4)] public int ErrandIndex { get; set; }

    /// <summary>The robot working on it.</summary>
    [Id(5)] public string? Robot { get; set; }

    /// <summary>When it was accepted (cloud clock).</summary>
    [Id(6)] public DateTimeOffset SubmittedAt { get; init; }

    /// <summary>When a robot first got it.</summary>
    [Id(7)] public DateTimeOffset? AssignedAt { get; set; }

    /// <summary>When its first errand was reached.</summary>
    [Id(8)] public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When it finished or failed.</summary>
    [Id(9)] public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Why it failed.</summary>
    [Id(10)] public string? Failure { get; set; }

    /// <summary>The client's reference.</summary>
    [Id(11)] public string? Reference { get; init; }

    /// <summary>The idempotency key it was submitted with.</summary>
    [Id(12)] public string? IdempotencyKey { get; init; }

    /// <summary>Who submitted it.</summary>
    [Id(13)] public string SubmittedBy { get; init; } = string.Empty;

    /// <summary>Whether the optimizer has it.</summary>
    [Id(14)] public bool Revealed { get; set; }

    /// <summary>Errands already reached when it was last handed to a (rebuilt) optimizer: the optimizer's indices start there.</summary>
    [Id(15)] public int ErrandOffset { get; set; }

    /// <summary>Submission order (monotonic per site).</summary>
    [Id(16)] public long Seq { get; init; }

    /// <summary>Whether it has ended (finished or failed).</summary>
    public bool Ended => State is TaskState.Finished or TaskState.Failed;
}

/// <summary>An idempotency key's record: which request created which task.</summary>
/// <param name="Key">The key.</param>
/// <param name="Fingerprint">The request's <see cref="TaskOrder.Fingerprint"/>.</param>
/// <param name="TaskId">The task it created.</param>
/// <param name="CreatedAt">When.</param>
/// <param name="Seq">The task's submission order.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.IdempotencyRecord")]
public sealed record IdempotencyRecord(
    [property: Id(0)] string Key,
    [property: Id(1)] string Fingerprint,
    [property: Id(2)] int TaskId,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] long Seq);

/// <summary>How a submission went.</summary>
[GenerateSerializer, Alias("wh.cloud.SubmitStatus")]
public enum SubmitStatus
{
    /// <summary>A new task was created.</summary>
    Created = 0,
    /// <summary>The idempotency key was seen with the same request: the existing task is returned, nothing created.</summary>
    Replayed = 1,
    /// <summary>The order is invalid (see the errors).</summary>
    Invalid = 2,
    /// <summary>The idempotency key was used before with a different request.</summary>
    KeyConflict = 3,
    /// <summary>The site does not exist (not defined in this cluster).</summary>
    UnknownSite = 4,
}

/// <summary>One errand of a task view: the cell and its column/row.</summary>
/// <param name="Cell">Cell id.</param>
/// <param name="X">Column.</param>
/// <param name="Y">Row.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.ErrandView")]
public sealed record ErrandView([property: Id(0)] int Cell, [property: Id(1)] int X, [property: Id(2)] int Y);

/// <summary>A task's status as the API returns it.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.TaskView")]
public sealed record TaskView
{
    /// <summary>Cluster-wide id: <c>{site}.{number}</c>.</summary>
    [Id(0)] public string Id { get; init; } = string.Empty;

    /// <summary>Site id.</summary>
    [Id(1)] public string Site { get; init; } = string.Empty;

    /// <summary><c>queued</c>, <c>assigned</c>, <c>in-progress</c>, <c>finished</c> or <c>failed</c>.</summary>
    [Id(2)] public string Status { get; init; } = string.Empty;

    /// <summary>Errands reached so far; while in progress, the index of the errand the robot heads for.</summary>
    [Id(3)] public int ErrandIndex { get; init; }

    /// <summary>The errands.</summary>
    [Id(4)] public IReadOnlyList<ErrandView> Errands { get; init; } = [];

    /// <summary>The robot working on it (the last one, once ended).</summary>
    [Id(5)] public string? Robot { get; init; }

    /// <summary>Reveal priority.</summary>
    [Id(6)] public int Priority { get; init; }

    /// <summary>The client's reference.</summary>
    [Id(7)] public string? Reference { get; init; }

    /// <summary>Accepted at.</summary>
    [Id(8)] public DateTimeOffset SubmittedAt { get; init; }

    /// <summary>First assigned at.</summary>
    [Id(9)] public DateTimeOffset? AssignedAt { get; init; }

    /// <summary>First errand reached at.</summary>
    [Id(10)] public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Finished at.</summary>
    [Id(11)] public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Failed at.</summary>
    [Id(12)] public DateTimeOffset? FailedAt { get; init; }

    /// <summary>Why it failed.</summary>
    [Id(13)] public string? Failure { get; init; }

    /// <summary>The idempotency key it was created with.</summary>
    [Id(14)] public string? IdempotencyKey { get; init; }

    /// <summary>Who submitted it.</summary>
    [Id(15)] public string SubmittedBy { get; init; } = string.Empty;

    /// <summary>The status word of a state.</summary>
    public static string StatusOf(TaskState state) => state switch
    {
        TaskState.Queued => "queued",
        TaskState.Assigned => "assigned",
        TaskState.InProgress => "in-progress",
        TaskState.Finished => "finished",
        _ => "failed",
    };
}

/// <summary>The answer to a submission.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Task">The task (created or replayed), or the one a conflicting key created.</param>
/// <param name="Errors">Why the order is invalid (field by field).</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.TaskSubmitOutcome")]
public sealed record TaskSubmitOutcome(
    [property: Id(0)] SubmitStatus Status,
    [property: Id(1)] TaskView? Task,
    [property: Id(2)] IReadOnlyList<FieldError> Errors);
