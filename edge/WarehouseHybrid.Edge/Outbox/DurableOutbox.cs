using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WarehouseHybrid.Edge.Outbox;

/// <summary>
/// The edge's durable store-and-forward queue (docs/adr/0006-outbox.md). Every telemetry record and event is
/// appended to segment files (length + CRC-32C per record) and acknowledged only once durable under the fsync
/// policy; the sender reads durable records in append order (so in order per device), publishes them and marks them
/// delivered, which advances a persisted cursor and deletes fully delivered segments. A size cap drops the oldest
/// undelivered routine telemetry first and never drops events, task, safety or audit records; every drop is
/// counted. At open, a torn tail (a crash mid-append) is truncated to the last good record and a corrupt segment is
/// renamed aside (its good prefix kept) and reported; nothing of that stops the daemon. Thread-safe.
/// </summary>
public sealed class DurableOutbox : IDisposable
{
    private const string SegmentExtension = ".seg";
    private const string CursorFile = "cursor";

    private readonly OutboxOptions _options;
    private readonly IOutboxFileSystem _fs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<Segment> _segments = [];
    private readonly List<(long Seq, TaskCompletionSource<OutboxAppendResult> Done)> _pending = [];
    private IOutboxAppendFile? _active;
    private ITimer? _commitTimer;
    private bool _commitScheduled;
    private long _nextSeq;
    private long _writtenSeq;
    private long _durableSeq;
    private long _deliveredSeq;
    private ReadCache? _read;
    private bool _disposed;
    private long _appended;
    private long _delivered;
    private long _telemetryDropped;
    private long _telemetryRefused;
    private long _protectedRefused;
    private long _writeFailures;
    private long _syncFailures;
    private long _fsyncs;
    private long _segmentsDeleted;
    private long _segmentsQuarantined;
    private long _tornTailBytes;

    private DurableOutbox(OutboxOptions options, IOutboxFileSystem fs, TimeProvider time, ILogger logger)
    {
        _options = options;
        _fs = fs;
        _time = time;
        _logger = logger;
        Recovery = new OutboxRecoveryReport(0, 0, 0, 0, [], null);
    }

    /// <summary>What recovery found at open.</summary>
    public OutboxRecoveryReport Recovery { get; private set; }

    /// <summary>Counters.</summary>
    public OutboxCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return new OutboxCounters(_appended, _delivered, _telemetryDropped, _telemetryRefused, _protectedRefused, _writeFailures, _syncFailures,
                    _fsyncs, _segmentsDeleted, _segmentsQuarantined, _tornTailBytes, TotalBytes());
            }
        }
    }

    /// <summary>The highest delivered seq (-1 when none).</summary>
    public long DeliveredSeq
    {
        get
        {
            lock (_gate)
            {
                return _deliveredSeq;
            }
        }
    }

    /// <summary>
    /// The seq the next successful append will get. With a single appender (the cloud link) the caller can put it
    /// into the payload before appending: a refused append consumes no seq, so the next one gets the same value.
    /// </summary>
    public long NextSeq
    {
        get
        {
            lock (_gate)
            {
                return _nextSeq;
            }
        }
    }

    /// <summary>The highest durable seq (-1 when none).</summary>
    public long DurableSeq
    {
        get
        {
            lock (_gate)
            {
                return _durableSeq;
            }
        }
    }

    /// <summary>Opens (recovering) the outbox in <see cref="OutboxOptions.Directory"/>.</summary>
    public static DurableOutbox Open(OutboxOptions options, IOutboxFileSystem? fileSystem = null, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var outbox = new DurableOutbox(options, fileSystem ?? PhysicalOutboxFileSystem.Instance, time ?? TimeProvider.System, logger ?? NullLogger.Instance);
        outbox.Recover();
        return outbox;
    }

    /// <summary>
    /// Appends a record. The task completes when the record is durable under the fsync policy (or refused, with the
    /// reason); a record is never reported durable before its fsync. Refusals are counted and never throw.
    /// </summary>
    public ValueTask<OutboxAppendResult> AppendAsync(string deviceId, OutboxRecordClass recordClass, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        var deviceBytes = Encoding.UTF8.GetByteCount(deviceId);
        if (deviceBytes is 0 or > 255 || payload.Length > _options.MaxRecordBytes)
        {
            return ValueTask.FromResult(Refuse(recordClass, OutboxRejection.TooLarge,
                $"device id of {deviceBytes} bytes (1-255) or payload of {payload.Length} bytes (max {_options.MaxRecordBytes})"));
        }

        var size = SegmentFormat.RecordSize(deviceBytes, payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var protectedClass = recordClass != OutboxRecordClass.Telemetry;
                var limit = protectedClass ? _options.HardMaxBytes : _options.MaxBytes;
                if (TotalBytes() + size > _options.MaxBytes)
                {
                    MakeRoom(size, _options.MaxBytes);
                }

                if (TotalBytes() + size > limit)
                {
                    return ValueTask.FromResult(Refuse(recordClass, protectedClass ? OutboxRejection.OutboxFull : OutboxRejection.TelemetryOverCap,
                        $"outbox holds {TotalBytes()} bytes, cap {limit}"));
                }

                Segment active;
                try
                {
                    active = ActiveFor(size);
                }
                catch (IOException ex)
                {
                    _writeFailures++;
                    return ValueTask.FromResult(Refuse(recordClass, OutboxRejection.WriteFailed, $"starting a segment failed: {ex.Message}"));
                }

                var seq = _nextSeq;
                Span<byte> deviceSpan = stackalloc byte[deviceBytes];
                Encoding.UTF8.GetBytes(deviceId, deviceSpan);
                SegmentFormat.Write(buffer.AsSpan(0, size), recordClass, seq, _time.GetUtcNow().ToUnixTimeMilliseconds(), deviceSpan, payload);
                var before = _active!.Length;
                try
                {
                    _active.Write(buffer.AsSpan(0, size));
                }
                catch (IOException ex)
                {
                    _writeFailures++;
                    RepairAfterFailedWrite(active, before);
                    return ValueTask.FromResult(Refuse(recordClass, OutboxRejection.WriteFailed, $"write to {Path.GetFileName(active.Path)} failed: {ex.Message}"));
                }

                _nextSeq = seq + 1;
                _writtenSeq = seq;
                active.Length = before + size;
                active.LastSeq = seq;
                active.Records++;
                if (!protectedClass)
                {
                    active.Telemetry++;
                }

                _appended++;
                var syncNow = _options.FsyncPolicy == OutboxFsyncPolicy.PerRecord
                    || (_options.FsyncPolicy == OutboxFsyncPolicy.GroupCommit && protectedClass && _options.FsyncProtectedImmediately);
                if (_options.FsyncPolicy == OutboxFsyncPolicy.OsBuffered)
                {
                    _durableSeq = seq;
                    return ValueTask.FromResult(new OutboxAppendResult(seq, OutboxRejection.None, null));
                }

                if (syncNow)
                {
                    var error = SyncActive();
                    return ValueTask.FromResult(error is null
                        ? new OutboxAppendResult(seq, OutboxRejection.None, null)
                        : new OutboxAppendResult(seq, OutboxRejection.SyncFailed, error));
                }

                var done = new TaskCompletionSource<OutboxAppendResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                _pending.Add((seq, done));
                if (!_commitScheduled)
                {
                    _commitScheduled = true;
                    _commitTimer ??= _time.CreateTimer(_ => GroupCommit(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _commitTimer.Change(_options.GroupCommitInterval, Timeout.InfiniteTimeSpan);
                }

                return new ValueTask<OutboxAppendResult>(done.Task);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Forces the pending group commit now (e.g. before shutdown).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (_active is not null && _writtenSeq > _durableSeq)
            {
                SyncActive();
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="max"/> durable records after the delivery cursor, in append order (so in order per
    /// device). Reading does not advance the cursor: call <see cref="MarkDelivered"/> once they are published.
    /// </summary>
    public IReadOnlyList<OutboxRecord> ReadPending(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        lock (_gate)
        {
            var result = new List<OutboxRecord>(Math.Min(max, 256));
            var after = _deliveredSeq;
            foreach (var segment in _segments)
            {
                if (segment.LastSeq <= after || segment.Records == 0)
                {
                    continue;
                }

                if (_read is null || !ReferenceEquals(_read.Segment, segment) || _read.Bytes.Length < segment.Length)
                {
                    var bytes = _fs.ReadAllBytes(segment.Path);
                    var scan = SegmentFormat.Scan(bytes.AsSpan(0, (int)Math.Min(bytes.Length, segment.Length)), _options.MaxRecordBytes);
                    _read = new ReadCache(segment, bytes, scan.Records);
                }

                // The cache's records are in seq order: binary search the first one after the cursor.
                var records = _read.Records;
                int lo = 0, hi = records.Count;
                while (lo < hi)
                {
                    var mid = (lo + hi) / 2;
                    if (records[mid].Seq <= after)
                    {
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid;
                    }
                }

                for (var i = lo; i < records.Count && result.Count < max; i++)
                {
                    if (records[i].Seq > _durableSeq)
                    {
                        return result;
                    }

                    result.Add(SegmentFormat.Read(_read.Bytes, records[i]));
                }

                if (result.Count >= max)
                {
                    break;
                }
            }

            return result;
        }
    }

    /// <summary>
    /// Marks every record up to <paramref name="seq"/> delivered: persists the cursor (without fsync: losing it in a
    /// power cut only re-delivers records, which the receiver discards by seq) and deletes fully delivered segments.
    /// </summary>
    public void MarkDelivered(long seq)
    {
        lock (_gate)
        {
            if (seq <= _deliveredSeq)
            {
                return;
            }

            if (seq > _durableSeq)
            {
                throw new ArgumentOutOfRangeException(nameof(seq), $"seq {seq} is beyond the last durable record {_durableSeq}");
            }

            _delivered += CountBetween(_deliveredSeq, seq);
            _deliveredSeq = seq;
            Span<byte> cursor = stackalloc byte[12];
            BinaryPrimitives.WriteInt64LittleEndian(cursor, seq);
            BinaryPrimitives.WriteUInt32LittleEndian(cursor[8..], Crc32C.Compute(cursor[..8]));
            try
            {
                _fs.WriteAtomic(Path.Combine(_options.Directory, CursorFile), cursor, sync: false);
            }
            catch (IOException ex)
            {
                _writeFailures++; // only re-delivery after a restart; delivery goes on
                OutboxLog.AppendFailed(_logger, OutboxRecordClass.Audit, OutboxRejection.WriteFailed, $"cursor: {ex.Message}");
            }

            while (_segments.Count > 1 && _segments[0].LastSeq <= seq)
            {
                DeleteSegment(_segments[0]);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        List<(long Seq, TaskCompletionSource<OutboxAppendResult> Done)> pending;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_active is not null && _writtenSeq > _durableSeq)
            {
                SyncActive();
            }

            _disposed = true;
            _commitTimer?.Dispose();
            _active?.Dispose();
            _active = null;
            pending = [.. _pending];
            _pending.Clear();
        }

        foreach (var (_, done) in pending)
        {
            done.TrySetResult(new OutboxAppendResult(-1, OutboxRejection.SyncFailed, "outbox closed before the group commit"));
        }
    }

    private long TotalBytes()
    {
        long total = 0;
        foreach (var s in _segments)
        {
            total += s.Length;
        }

        return total;
    }

    private long CountBetween(long afterSeq, long throughSeq) => throughSeq - afterSeq; // seqs are dense (no gaps) except for dropped telemetry: an upper bound

    private OutboxAppendResult Refuse(OutboxRecordClass cls, OutboxRejection why, string detail)
    {
        lock (_gate)
        {
            switch (why)
            {
                case OutboxRejection.TelemetryOverCap:
                    _telemetryRefused++;
                    break;
                case OutboxRejection.OutboxFull:
                    _protectedRefused++;
                    break;
            }
        }

        OutboxLog.AppendFailed(_logger, cls, why, detail);
        return new OutboxAppendResult(-1, why, detail);
    }

    private Segment ActiveFor(int size)
    {
        var last = _segments.Count > 0 ? _segments[^1] : null;
        if (last is not null && _active is not null && last.Length + size <= _options.SegmentBytes)
        {
            return last;
        }

        if (last is not null && _active is not null)
        {
            // Close the full segment: its records must be durable before a later segment's are.
            if (_writtenSeq > _durableSeq)
            {
                SyncActive();
            }

            _active.Dispose();
            _active = null;
        }

        if (last is not null && last.Records == 0 && last.FirstSeq == _nextSeq)
        {
            _segments.Remove(last); // an empty segment of the same name is started again below
        }

        var path = Path.Combine(_options.Directory, _nextSeq.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension);
        var file = _fs.OpenAppend(path);
        try
        {
            if (file.Length != 0)
            {
                file.Truncate(0); // a leftover of a failed roll
            }

            file.Write(SegmentFormat.Magic);
            file.Sync();
        }
        catch
        {
            file.Dispose();
            throw;
        }

        _active = file;
        var segment = new Segment(path, _nextSeq) { Length = SegmentFormat.Magic.Length, LastSeq = _nextSeq - 1 };
        _segments.Add(segment);
        return segment;
    }

    private void RepairAfterFailedWrite(Segment active, long goodLength)
    {
        try
        {
            _active!.Truncate(goodLength);
            active.Length = goodLength;
        }
        catch (IOException)
        {
            // Could not cut the partial record: start a new segment on the next append; recovery truncates the tail.
            _active!.Dispose();
            _active = null;
            active.Length = goodLength;
        }
    }

    private string? SyncActive()
    {
        List<(long Seq, TaskCompletionSource<OutboxAppendResult> Done)>? done = null;
        string? error = null;
        try
        {
            _active?.Sync();
            _fsyncs++;
            _durableSeq = _writtenSeq;
        }
        catch (IOException ex)
        {
            _syncFailures++;
            error = $"fsync failed: {ex.Message}";
            OutboxLog.SyncFailed(_logger, ex.Message);
        }

        if (_pending.Count > 0)
        {
            done = [.. _pending];
            _pending.Clear();
        }

        if (done is not null)
        {
            foreach (var (seq, tcs) in done)
            {
                tcs.TrySetResult(error is null ? new OutboxAppendResult(seq, OutboxRejection.None, null) : new OutboxAppendResult(seq, OutboxRejection.SyncFailed, error));
            }
        }

        return error;
    }

    private void GroupCommit()
    {
        lock (_gate)
        {
            _commitScheduled = false;
            if (!_disposed && _writtenSeq > _durableSeq)
            {
                SyncActive();
            }
        }
    }

    /// <summary>Drops undelivered routine telemetry from the oldest segments until <paramref name="size"/> more bytes fit under <paramref name="cap"/>.</summary>
    private void MakeRoom(int size, long cap)
    {
        for (var pass = 0; pass < 2 && TotalBytes() + size > cap; pass++)
        {
            foreach (var segment in _segments.ToArray())
            {
                if (TotalBytes() + size <= cap)
                {
                    return;
                }

                if (segment.Telemetry == 0)
                {
                    continue;
                }

                if (ReferenceEquals(segment, _segments[^1]) && _active is not null)
                {
                    if (pass == 0)
                    {
                        continue; // the active segment last
                    }

                    if (_writtenSeq > _durableSeq)
                    {
                        SyncActive();
                    }

                    _active.Dispose();
                    _active = null;
                }

                CompactWithoutTelemetry(segment);
            }
        }
    }

    private void CompactWithoutTelemetry(Segment segment)
    {
        var bytes = _fs.ReadAllBytes(segment.Path);
        var scan = SegmentFormat.Scan(bytes, _options.MaxRecordBytes);
        var kept = new ArrayBufferWriter<byte>(bytes.Length);
        kept.Write(SegmentFormat.Magic);
        var dropped = 0;
        var records = 0;
        foreach (var r in scan.Records)
        {
            if (r.Class == OutboxRecordClass.Telemetry || r.Seq <= _deliveredSeq)
            {
                dropped += r.Class == OutboxRecordClass.Telemetry && r.Seq > _deliveredSeq ? 1 : 0;
                continue;
            }

            kept.Write(bytes.AsSpan((int)r.Offset, r.Length));
            records++;
        }

        _fs.WriteAtomic(segment.Path, kept.WrittenSpan, sync: true);
        segment.Length = kept.WrittenCount;
        segment.Records = records;
        segment.Telemetry = 0;
        _telemetryDropped += dropped;
        _read = null;
        OutboxLog.TelemetryDropped(_logger, dropped, Path.GetFileName(segment.Path));
    }

    private void DeleteSegment(Segment segment)
    {
        try
        {
            _fs.Delete(segment.Path);
        }
        catch (IOException ex)
        {
            OutboxLog.AppendFailed(_logger, OutboxRecordClass.Audit, OutboxRejection.WriteFailed, $"delete {segment.Path}: {ex.Message}");
            return;
        }

        _segments.Remove(segment);
        _segmentsDeleted++;
        if (ReferenceEquals(_read?.Segment, segment))
        {
            _read = null;
        }
    }

    private void Recover()
    {
        _fs.CreateDirectory(_options.Directory);
        string? cursorProblem = null;
        _deliveredSeq = -1;
        var cursorPath = Path.Combine(_options.Directory, CursorFile);
        if (_fs.Exists(cursorPath))
        {
            var c = _fs.ReadAllBytes(cursorPath);
            if (c.Length == 12 && Crc32C.Compute(c.AsSpan(0, 8)) == BinaryPrimitives.ReadUInt32LittleEndian(c.AsSpan(8)))
            {
                _deliveredSeq = BinaryPrimitives.ReadInt64LittleEndian(c);
            }
            else
            {
                cursorProblem = $"cursor file of {c.Length} bytes fails its check";
                OutboxLog.CursorUnreadable(_logger, cursorProblem);
            }
        }

        var files = _fs.ListFiles(_options.Directory, "*" + SegmentExtension).OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();
        var quarantined = new List<OutboxQuarantine>();
        long records = 0;
        long pending = 0;
        long lastSeq = _deliveredSeq;
        for (var i = 0; i < files.Count; i++)
        {
            var path = files[i];
            var name = Path.GetFileName(path);
            if (!long.TryParse(Path.GetFileNameWithoutExtension(name), NumberStyles.None, CultureInfo.InvariantCulture, out var firstSeq))
            {
                continue; // not ours
            }

            var bytes = _fs.ReadAllBytes(path);
            var scan = SegmentFormat.Scan(bytes, _options.MaxRecordBytes);
            var isLast = i == files.Count - 1;
            var length = (long)bytes.Length;
            if (scan.Problem is not null)
            {
                if (isLast && scan.TornTail)
                {
                    var cut = Math.Max(scan.GoodLength, SegmentFormat.Magic.Length);
                    if (scan.GoodLength < SegmentFormat.Magic.Length)
                    {
                        _fs.WriteAtomic(path, SegmentFormat.Magic, sync: true);
                    }
                    else
                    {
                        _fs.Truncate(path, cut);
                    }

                    _tornTailBytes += bytes.Length - scan.GoodLength;
                    OutboxLog.TornTail(_logger, name, scan.GoodLength, bytes.Length - scan.GoodLength, scan.Problem);
                    length = cut;
                }
                else
                {
                    var aside = path + ".corrupt-" + _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
                    _fs.Move(path, aside, overwrite: true);
                    var keptRecords = scan.Records.Where(r => r.Offset < scan.GoodLength).ToList();
                    var prefix = scan.GoodLength >= SegmentFormat.Magic.Length
                        ? bytes.AsSpan(0, (int)scan.GoodLength)
                        : SegmentFormat.Magic;
                    _fs.WriteAtomic(path, prefix, sync: true);
                    _segmentsQuarantined++;
                    quarantined.Add(new OutboxQuarantine(name, Path.GetFileName(aside), scan.GoodLength, scan.Problem, keptRecords.Count));
                    OutboxLog.Quarantined(_logger, name, Path.GetFileName(aside), scan.GoodLength, keptRecords.Count, scan.Problem);
                    length = prefix.Length;
                }
            }

            var valid = scan.Records.Where(r => r.Offset + r.Length <= length).ToList();
            var segment = new Segment(path, firstSeq)
            {
                Length = length,
                Records = valid.Count,
                Telemetry = valid.Count(r => r.Class == OutboxRecordClass.Telemetry),
                LastSeq = valid.Count > 0 ? valid[^1].Seq : firstSeq - 1,
            };
            _segments.Add(segment);
            records += valid.Count;
            pending += valid.Count(r => r.Seq > _deliveredSeq);
            lastSeq = Math.Max(lastSeq, segment.LastSeq);
        }

        _nextSeq = lastSeq + 1;
        _writtenSeq = _durableSeq = lastSeq;
        if (_segments.Count > 0 && _segments[^1].Length < _options.SegmentBytes)
        {
            _active = _fs.OpenAppend(_segments[^1].Path);
            _active.Sync(); // whatever survived is durable from here on
        }

        while (_segments.Count > 1 && _segments[0].LastSeq <= _deliveredSeq)
        {
            DeleteSegment(_segments[0]);
        }

        Recovery = new OutboxRecoveryReport(_segments.Count, records, pending, _tornTailBytes, quarantined, cursorProblem);
        OutboxLog.Recovered(_logger, _options.Directory, _segments.Count, records, pending);
    }

    private sealed class Segment(string path, long firstSeq)
    {
        public string Path { get; } = path;
        public long FirstSeq { get; } = firstSeq;
        public long LastSeq { get; set; }
        public long Length { get; set; }
        public int Records { get; set; }
        public int Telemetry { get; set; }
    }

    private sealed class ReadCache(Segment segment, byte[] bytes, List<SegmentFormat.Located> records)
    {
        public Segment Segment { get; } = segment;
        public byte[] Bytes { get; } = bytes;
        public List<SegmentFormat.Located> Records { get; } = records;
    }
}
