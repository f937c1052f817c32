namespace WarehouseHybrid.Edge.Outbox;

/// <summary>What a record is, which decides whether the size cap may drop it.</summary>
public enum OutboxRecordClass : byte
{
    /// <summary>Routine periodic telemetry: the only class the size cap may drop (oldest first).</summary>
    Telemetry = 0,
    /// <summary>Robot events (mode changes, refusals, faults, errands): never dropped.</summary>
    Event = 1,
    /// <summary>Task events: never dropped.</summary>
    Task = 2,
    /// <summary>Safety events: never dropped.</summary>
    Safety = 3,
    /// <summary>Audit records: never dropped.</summary>
    Audit = 4,
}

/// <summary>When appended records reach the disk.</summary>
public enum OutboxFsyncPolicy
{
    /// <summary>fsync after every record: each append is acknowledged after its own fsync.</summary>
    PerRecord,
    /// <summary>
    /// Group commit: records are written at once and one fsync every <see cref="OutboxOptions.GroupCommitInterval"/>
    /// acknowledges all of them; protected classes (everything but telemetry) are fsynced at once when
    /// <see cref="OutboxOptions.FsyncProtectedImmediately"/> is set.
    /// </summary>
    GroupCommit,
    /// <summary>No fsync: acknowledged after the write system call. Survives a daemon crash, not a power loss.</summary>
    OsBuffered,
}

/// <summary>Outbox settings (validated by <see cref="Validate"/> when the outbox opens).</summary>
public sealed class OutboxOptions
{
    /// <summary>The directory of the segment files (created if missing).</summary>
    public required string Directory { get; init; }

    /// <summary>A segment is closed and a new one started beyond this size.</summary>
    public long SegmentBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Soft cap: beyond it the oldest routine telemetry is dropped, and new telemetry refused if that is not enough.</summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Hard cap for protected records (events, task, safety, audit): beyond it, after dropping all telemetry, appends fail (not acknowledged).</summary>
    public long HardMaxBytes { get; init; } = 320L * 1024 * 1024;

    /// <summary>Largest payload of one record.</summary>
    public int MaxRecordBytes { get; init; } = 256 * 1024;

    /// <summary>The fsync policy.</summary>
    public OutboxFsyncPolicy FsyncPolicy { get; init; } = OutboxFsyncPolicy.GroupCommit;

    /// <summary>Group commit period.</summary>
    public TimeSpan GroupCommitInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Under group commit, fsync protected records at once instead of waiting for the group.</summary>
    public bool FsyncProtectedImmediately { get; init; } = true;

    /// <summary>Throws naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("Outbox:Directory is empty");
        }

        if (SegmentBytes < 1024)
        {
            throw new ArgumentException($"Outbox:SegmentBytes {SegmentBytes} must be at least 1024");
        }

        if (MaxRecordBytes < 1 || MaxRecordBytes + 300 > SegmentBytes)
        {
            throw new ArgumentException($"Outbox:MaxRecordBytes {MaxRecordBytes} must be 1..SegmentBytes - 300 ({SegmentBytes - 300}) so a record with its header and device id fits a segment");
        }

        if (MaxBytes < SegmentBytes || HardMaxBytes < MaxBytes)
        {
            throw new ArgumentException($"Outbox:MaxBytes {MaxBytes} must be >= SegmentBytes {SegmentBytes} and <= HardMaxBytes {HardMaxBytes}");
        }

        if (FsyncPolicy == OutboxFsyncPolicy.GroupCommit && (GroupCommitInterval <= TimeSpan.Zero || GroupCommitInterval > TimeSpan.FromSeconds(10)))
        {
            throw new ArgumentException($"Outbox:GroupCommitInterval {GroupCommitInterval} must be in (0, 10 s]");
        }
    }
}

/// <summary>Why an append was not acknowledged.</summary>
public enum OutboxRejection
{
    /// <summary>Acknowledged: durable under the fsync policy.</summary>
    None,
    /// <summary>Routine telemetry refused: the soft cap is reached even after dropping old telemetry.</summary>
    TelemetryOverCap,
    /// <summary>The hard cap is reached even after dropping all telemetry.</summary>
    OutboxFull,
    /// <summary>The disk is full (ENOSPC) or the write failed; the record is not stored.</summary>
    WriteFailed,
    /// <summary>fsync failed: the record may or may not survive a power loss (it may still be delivered).</summary>
    SyncFailed,
    /// <summary>The payload or device id is too large.</summary>
    TooLarge,
}

/// <summary>The outcome of an append.</summary>
/// <param name="Seq">The record's sequence number (outbox-wide, increasing, never reused); -1 when rejected.</param>
/// <param name="Rejection">Why it was refused, or <see cref="OutboxRejection.None"/>.</param>
/// <param name="Detail">A readable reason when refused.</param>
public readonly record struct OutboxAppendResult(long Seq, OutboxRejection Rejection, string? Detail)
{
    /// <summary>Whether the record is durable under the fsync policy.</summary>
    public bool IsDurable => Rejection == OutboxRejection.None;
}

/// <summary>A stored record handed to the sender.</summary>
/// <param name="Seq">Sequence number (the receiver discards duplicates by it).</param>
/// <param name="Class">Record class.</param>
/// <param name="DeviceId">The device (robot) the record belongs to.</param>
/// <param name="TimestampMs">When it was appended (Unix ms).</param>
/// <param name="Payload">The bytes appended.</param>
public sealed record OutboxRecord(long Seq, OutboxRecordClass Class, string DeviceId, long TimestampMs, ReadOnlyMemory<byte> Payload);

/// <summary>Counters of the outbox (every drop and failure is counted).</summary>
/// <param name="Appended">Records acknowledged.</param>
/// <param name="Delivered">How far the delivery cursor advanced, in seqs (telemetry dropped before delivery included).</param>
/// <param name="TelemetryDropped">Undelivered telemetry records dropped by the cap policy (oldest first).</param>
/// <param name="TelemetryRefused">Telemetry appends refused at the cap.</param>
/// <param name="ProtectedRefused">Protected appends refused at the hard cap.</param>
/// <param name="WriteFailures">Appends that failed on write (ENOSPC or other I/O errors).</param>
/// <param name="SyncFailures">fsync failures.</param>
/// <param name="Fsyncs">fsync calls.</param>
/// <param name="SegmentsDeleted">Delivered segments removed.</param>
/// <param name="SegmentsQuarantined">Corrupt segments renamed aside.</param>
/// <param name="TornTailBytes">Bytes of torn tails truncated at recovery.</param>
/// <param name="Bytes">Current size of the segment files.</param>
public readonly record struct OutboxCounters(
    long Appended, long Delivered, long TelemetryDropped, long TelemetryRefused, long ProtectedRefused, long WriteFailures, long SyncFailures,
    long Fsyncs, long SegmentsDeleted, long SegmentsQuarantined, long TornTailBytes, long Bytes);

/// <summary>A corrupt segment found at open and renamed aside.</summary>
/// <param name="Segment">The segment file name.</param>
/// <param name="QuarantinedAs">The name it was renamed to.</param>
/// <param name="Offset">Byte offset of the first bad record.</param>
/// <param name="Reason">What was wrong.</param>
/// <param name="RecordsKept">Good records before the offset, kept in a rewritten segment.</param>
public sealed record OutboxQuarantine(string Segment, string QuarantinedAs, long Offset, string Reason, int RecordsKept);

/// <summary>What recovery found when the outbox opened.</summary>
/// <param name="Segments">Segments in use.</param>
/// <param name="Records">Records on disk (delivered ones included until their segment is removed).</param>
/// <param name="Pending">Records not yet delivered.</param>
/// <param name="TornTailBytes">Bytes cut from a torn tail of the last segment (a crash mid-write).</param>
/// <param name="Quarantined">Corrupt segments renamed aside.</param>
/// <param name="CursorProblem">Why the delivery cursor could not be read (delivery restarts at the oldest record), or null.</param>
public sealed record OutboxRecoveryReport(int Segments, long Records, long Pending, long TornTailBytes, IReadOnlyList<OutboxQuarantine> Quarantined, string? CursorProblem);
