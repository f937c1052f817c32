using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace WarehouseHybrid.Edge.Audit;

/// <summary>Receives every audit record once it is written (on the writer thread: must not block; the cloud link queues them).</summary>
public interface IAuditListener
{
    /// <summary>A record was written to disk (not necessarily fsynced yet).</summary>
    void OnRecord(AuditRecord record);
}

/// <summary>Where the cloud link (or anything else) subscribes to audit records as they are committed.</summary>
public interface IAuditFeed
{
    /// <summary>Adds a listener for records written from now on.</summary>
    void Subscribe(IAuditListener listener);

    /// <summary>The latest record's sequence number and hash (an anchor to publish); (-1, genesis) before any.</summary>
    (long Seq, string Hash) Head { get; }
}

/// <summary>Audit log counters.</summary>
/// <param name="Appended">Entries accepted into the queue.</param>
/// <param name="Dropped">Entries refused because the queue was full.</param>
/// <param name="Written">Records written (including the log's own records).</param>
/// <param name="Lost">Entries lost because a write failed.</param>
/// <param name="WriteFailures">Failed writes, opens or fsyncs.</param>
/// <param name="FilesPruned">Old files deleted for the disk bound.</param>
/// <param name="HeadSeq">Sequence number of the latest record (-1 before any).</param>
public readonly record struct AuditCounters(long Appended, long Dropped, long Written, long Lost, long WriteFailures, long FilesPruned, long HeadSeq);

/// <summary>
/// The append-only, hash-chained audit log (docs/adr/0009-edge-audit-metrics.md). Producers (the control loop, the
/// decision module, the model lifecycle) hand <see cref="AuditEntry"/> values to a bounded queue without waiting;
/// a dedicated writer thread turns them into JSON lines (<see cref="AuditRecordCodec"/>), each carrying the hash of
/// the one before, in files <c>audit-NNNNNNNN.jsonl</c> that rotate at <see cref="AuditOptions.MaxFileBytes"/>;
/// the oldest files are deleted to stay within <see cref="AuditOptions.MaxTotalBytes"/>, and each deletion is itself
/// a record naming the deleted file's last record, so the chain stays anchored. A full queue drops the entry and the
/// writer audits the drop count. Every start opens a new file whose first record links to the last complete record
/// of the previous run (a crash-torn tail is left in place and named). Verify with <see cref="AuditVerifier"/>.
/// </summary>
public sealed partial class AuditLog : IAuditSink, IAuditFeed, IDisposable
{
    private readonly AuditOptions _options;
    private readonly string _directory;
    private readonly string _robot;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _queueGate = new();
    private readonly AuditEntry[] _ring;
    private readonly AuditEntry[] _batch;
    private readonly AutoResetEvent _signal = new(false);
    private readonly ManualResetEventSlim _idle = new(true);
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _json;
    private readonly List<IAuditListener> _listeners = [];
    private int _head;
    private int _count;
    private long _appended;
    private long _dropped;
    private long _droppedReported;
    private long _written;
    private long _lost;
    private long _lostReported;
    private string _lostReason = string.Empty;
    private long _writeFailures;
    private long _pruned;
    private long _nextSeq;
    private string _headHash = AuditRecordCodec.GenesisHash;
    private FileStream? _file;
    private FileStream? _lock;
    private long _fileIndex;
    private long _fileBytes;
    private bool _dirty;
    private long _lastFsync;
    private Thread? _thread;
    private volatile bool _stopping;
    private bool _failing;

    /// <summary>Creates a log writing into <paramref name="directory"/> (created when missing); nothing happens until <see cref="Start"/>.</summary>
    public AuditLog(string directory, AuditOptions options, string robotId, TimeProvider time, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid audit options: " + string.Join("; ", errors), nameof(options));
        }

        _directory = directory;
        _options = options.Clone();
        _robot = robotId ?? string.Empty;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _ring = new AuditEntry[options.QueueCapacity];
        _batch = new AuditEntry[options.QueueCapacity];
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>The directory of the audit files.</summary>
    public string Directory => _directory;

    /// <inheritdoc />
    public (long Seq, string Hash) Head
    {
        get
        {
            lock (_listeners)
            {
                return (_nextSeq - 1, _headHash);
            }
        }
    }

    /// <summary>Counters.</summary>
    public AuditCounters Counters
    {
        get
        {
            lock (_queueGate)
            {
                return new AuditCounters(_appended, _dropped, Interlocked.Read(ref _written), Interlocked.Read(ref _lost),
                    Interlocked.Read(ref _writeFailures), Interlocked.Read(ref _pruned), Interlocked.Read(ref _nextSeq) - 1);
            }
        }
    }

    /// <summary>
    /// Finds where the previous run's chain ended, opens a new file with an <see cref="AuditKinds.Opened"/> record linked
    /// to it, and starts the writer thread. Throws <see cref="IOException"/> naming the directory when it cannot be used.
    /// </summary>
    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("the audit log is already started");
        }

        System.IO.Directory.CreateDirectory(_directory);
        try
        {
            // One writer per directory (a second daemon or runtime on the same state directory would fork the chain).
            _lock = new FileStream(Path.Combine(_directory, ".writer.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"audit directory '{_directory}' is in use by another writer: {ex.Message}", ex);
        }

        var recovered = Recover();
        var opened = new AuditEntry
        {
            Kind = AuditKinds.Opened,
            UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
            Detail = recovered,
        };
        OpenNextFile();
        Write(opened);
        Fsync();
        LogOpened(_logger, _directory, _nextSeq - 1, recovered);
        _thread = new Thread(Run) { IsBackground = true, Name = "edge-audit", Priority = ThreadPriority.BelowNormal };
        _thread.Start();
    }

    /// <inheritdoc />
    public bool TryAppend(in AuditEntry entry)
    {
        lock (_queueGate)
        {
            if (_count == _ring.Length || _stopping)
            {
                _dropped++;
                return false;
            }

            _ring[(_head + _count) % _ring.Length] = entry;
            _count++;
            _appended++;
            _idle.Reset();
        }

        _signal.Set();
        return true;
    }

    /// <inheritdoc />
    public void Subscribe(IAuditListener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_listeners)
        {
            _listeners.Add(listener);
        }
    }

    /// <summary>Waits until every entry queued so far is written (tests, shutdown). False on timeout.</summary>
    public bool Flush(TimeSpan timeout)
    {
        _signal.Set();
        return _idle.Wait(timeout);
    }

    /// <summary>Writes what is queued, an <see cref="AuditKinds.Closed"/> record, fsyncs and stops the writer. False when it did not end in time.</summary>
    public bool Stop(TimeSpan timeout)
    {
        if (_thread is null)
        {
            return true;
        }

        _stopping = true;
        _signal.Set();
        var joined = _thread.Join(timeout);
        _thread = null;
        return joined;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(2));
        _file?.Dispose();
        _lock?.Dispose();
        _json.Dispose();
        _signal.Dispose();
        _idle.Dispose();
    }

    private void Run()
    {
        var poll = _options.FsyncInterval < TimeSpan.FromMilliseconds(200) ? _options.FsyncInterval : TimeSpan.FromMilliseconds(200);
        while (true)
        {
            _signal.WaitOne(poll);
            var stopping = _stopping;
            try
            {
                DrainOnce();
                if (stopping)
                {
                    DrainOnce();
                    Write(new AuditEntry { Kind = AuditKinds.Closed, UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(), Detail = "clean shutdown" });
                    Fsync();
                    _file?.Dispose();
                    _file = null;
                    _lock?.Dispose();
                    _lock = null;
                    _idle.Set();
                    return;
                }

                if (_dirty && _time.GetElapsedTime(_lastFsync) >= _options.FsyncInterval)
                {
                    Fsync();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Write() handles its own failures; this is a failing fsync or close.
                Fail("fsync", ex);
            }
        }
    }

    private void DrainOnce()
    {
        int n;
        long dropped;
        lock (_queueGate)
        {
            n = _count;
            for (var i = 0; i < n; i++)
            {
                var slot = (_head + i) % _ring.Length;
                _batch[i] = _ring[slot];
                _ring[slot] = default;
            }

            _head = (_head + n) % _ring.Length;
            _count = 0;
            dropped = _dropped;
        }

        if (dropped > _droppedReported)
        {
            var count = dropped - _droppedReported;
            _droppedReported = dropped;
            Write(new AuditEntry
            {
                Kind = AuditKinds.Dropped,
                UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
                Reason = "queue-full",
                Detail = string.Create(CultureInfo.InvariantCulture, $"{count} entries dropped: the audit queue ({_ring.Length}) was full ({dropped} since start)"),
            });
        }

        for (var i = 0; i < n; i++)
        {
            Write(_batch[i]);
            _batch[i] = default;
        }

        lock (_queueGate)
        {
            if (_count == 0)
            {
                _idle.Set();
            }
        }
    }

    /// <summary>Encodes and appends one record (rotating first when it would not fit); a failed write loses it (counted) and never breaks the chain.</summary>
    private void Write(in AuditEntry entry, AuditPruned? pruned = null)
    {
        if (_lost > _lostReported && pruned is null && entry.Kind != AuditKinds.Lost)
        {
            var lost = _lost - _lostReported;
            if (WriteOne(new AuditEntry
            {
                Kind = AuditKinds.Lost,
                UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
                Reason = "write-failed",
                Detail = string.Create(CultureInfo.InvariantCulture, $"{lost} entries lost while writing failed: {_lostReason}"),
            }, null))
            {
                _lostReported += lost;
            }
        }

        if (!WriteOne(entry, pruned))
        {
            Interlocked.Increment(ref _lost);
        }
    }

    private bool WriteOne(in AuditEntry entry, AuditPruned? pruned)
    {
        _buffer.ResetWrittenCount();
        var hash = AuditRecordCodec.Encode(_buffer, _json, _nextSeq, _robot, entry, _headHash, pruned);
        try
        {
            // Prune records are written right after a rotation into the new file and never rotate themselves.
            if (_file is null || (pruned is null && _fileBytes + _buffer.WrittenCount > _options.MaxFileBytes))
            {
                Rotate();
                _buffer.ResetWrittenCount();
                hash = AuditRecordCodec.Encode(_buffer, _json, _nextSeq, _robot, entry, _headHash, pruned);
            }

            _file!.Write(_buffer.WrittenSpan);
            _fileBytes += _buffer.WrittenCount;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The bytes may be half on disk: abandon the file (its torn tail is named by the verifier) and start a new
            // one with the next record. The sequence and head do not move, so the chain skips nothing.
            Fail("write", ex);
            _lostReason = ex.Message;
            _file?.Dispose();
            _file = null;
            return false;
        }

        if (_failing)
        {
            _failing = false;
            LogRecovered(_logger, _directory);
        }

        _dirty = true;
        lock (_listeners)
        {
            _headHash = hash;
            _nextSeq++;
        }

        Interlocked.Increment(ref _written);
        Notify();
        return true;
    }

    /// <summary>Hands the record just written (still in the buffer) to the listeners.</summary>
    private void Notify()
    {
        IAuditListener[] listeners;
        lock (_listeners)
        {
            if (_listeners.Count == 0)
            {
                return;
            }

            listeners = [.. _listeners];
        }

        var line = _buffer.WrittenSpan[..^1];
        if (!AuditRecordCodec.TryParse(line, out var record, out _))
        {
            return;
        }

        foreach (var l in listeners)
        {
            try
            {
                l.OnRecord(record!);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogListenerFailed(_logger, ex);
            }
        }
    }

    /// <summary>Closes the current file (fsynced) and opens the next, then deletes the oldest files beyond the disk bound.</summary>
    private void Rotate()
    {
        Fsync();
        _file?.Dispose();
        _file = null;
        OpenNextFile();
        Prune();
    }

    private void OpenNextFile()
    {
        _fileIndex++;
        var path = Path.Combine(_directory, AuditRecordCodec.FileName(_fileIndex));
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _fileBytes = 0;
        _dirty = true;
    }

    private void Prune()
    {
        var files = AuditRecordCodec.Files(_directory);
        var closed = files.Where(f => f.Index != _fileIndex).Select(f => (f.Index, f.Path, Bytes: new FileInfo(f.Path).Length)).ToList();
        var total = closed.Sum(f => f.Bytes);

        // The current file may still grow to MaxFileBytes; keep the closed ones within the rest of the bound.
        while (closed.Count > 0 && total + _options.MaxFileBytes > _options.MaxTotalBytes)
        {
            var oldest = closed[0];
            var (lastSeq, lastHash) = LastRecord(oldest.Path);
            File.Delete(oldest.Path);
            closed.RemoveAt(0);
            total -= oldest.Bytes;
            Interlocked.Increment(ref _pruned);
            var name = Path.GetFileName(oldest.Path);
            Write(
                new AuditEntry
                {
                    Kind = AuditKinds.Pruned,
                    UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
                    Reason = "disk-bound",
                    Detail = string.Create(CultureInfo.InvariantCulture, $"deleted {name} ({oldest.Bytes} bytes, records through seq {lastSeq}) to stay within {_options.MaxTotalBytes} bytes"),
                },
                new AuditPruned(name, lastSeq, lastHash));
        }
    }

    private void Fsync()
    {
        if (_file is not null && _dirty)
        {
            _file.Flush(flushToDisk: true);
        }

        _dirty = false;
        _lastFsync = _time.GetTimestamp();
    }

    /// <summary>Finds the previous run's last complete record (the new chain links to it); returns what the opened record says about it.</summary>
    private string Recover()
    {
        var files = AuditRecordCodec.Files(_directory);
        _fileIndex = files.Count == 0 ? 0 : files[^1].Index;
        string? torn = null;
        for (var i = files.Count - 1; i >= 0; i--)
        {
            var scan = ScanTail(files[i].Path);
            if (i == files.Count - 1 && scan.TornBytes > 0)
            {
                torn = string.Create(CultureInfo.InvariantCulture, $"; {Path.GetFileName(files[i].Path)} ends in {scan.TornBytes} bytes of an incomplete record at offset {scan.TornOffset} (crash during a write), left in place");
            }

            if (scan.Last is { } last)
            {
                _nextSeq = last.Seq + 1;
                _headHash = last.Hash;
                return string.Create(CultureInfo.InvariantCulture, $"continues the chain after seq {last.Seq} in {Path.GetFileName(files[i].Path)}") + torn;
            }
        }

        return files.Count == 0 ? "new audit log" : "no complete record in the existing files; the chain starts again" + torn;
    }

    private static (long Seq, string Hash) LastRecord(string path)
    {
        var scan = ScanTail(path);
        return scan.Last is { } last ? (last.Seq, last.Hash) : (-1, string.Empty);
    }

    /// <summary>The last complete record of a file and the size of any incomplete tail after it.</summary>
    private static (AuditRecord? Last, long TornBytes, long TornOffset) ScanTail(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, 0, 0);
        }

        var end = bytes.Length;
        long torn = 0;
        if (end > 0 && bytes[end - 1] != (byte)'\n')
        {
            var lastNewline = Array.LastIndexOf(bytes, (byte)'\n', end - 1);
            torn = end - (lastNewline + 1);
            end = lastNewline + 1;
        }

        // Walk back over complete lines until one parses (a damaged line is the verifier's to report).
        while (end > 0)
        {
            var start = end - 1 == 0 ? 0 : Array.LastIndexOf(bytes, (byte)'\n', end - 2) + 1;
            if (AuditRecordCodec.TryParse(bytes.AsSpan(start, end - 1 - start), out var record, out _))
            {
                return (record, torn, bytes.Length - torn);
            }

            end = start;
        }

        return (null, torn, bytes.Length - torn);
    }

    private void Fail(string what, Exception ex)
    {
        Interlocked.Increment(ref _writeFailures);
        if (!_failing)
        {
            _failing = true;
            LogWriteFailed(_logger, what, _directory, ex.Message);
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Audit log in {Directory}: head seq {Seq} ({Detail})")]
    private static partial void LogOpened(ILogger logger, string directory, long seq, string detail);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "Audit {What} failed in {Directory}: {Error}; entries are lost (counted) until it works again")]
    private static partial void LogWriteFailed(ILogger logger, string what, string directory, string error);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Audit writes in {Directory} work again")]
    private static partial void LogRecovered(ILogger logger, string directory);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "An audit listener failed")]
    private static partial void LogListenerFailed(ILogger logger, Exception ex);
}
