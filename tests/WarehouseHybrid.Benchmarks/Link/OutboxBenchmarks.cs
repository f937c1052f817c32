using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using WarehouseHybrid.Edge.Outbox;

namespace WarehouseHybrid.Benchmarks.Link;

/// <summary>
/// The durable outbox on the machine's real disk (a temp directory): appends per second under each fsync policy, and
/// the replay rate after an outage (read + mark delivered of a backlog). Each operation handles
/// <see cref="RecordsPerOperation"/> records of <see cref="PayloadBytes"/> bytes, so Mean is the time per record:
/// records/s = 1e9 / Mean(ns). Appends are issued as a burst and awaited together, as the link does when telemetry and
/// events arrive while the previous fsync is running. Run: <c>--filter *OutboxBenchmarks*</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class OutboxBenchmarks
{
    /// <summary>Records per benchmark operation.</summary>
    public const int RecordsPerOperation = 2000;

    /// <summary>Payload size, about one protobuf telemetry message.</summary>
    public const int PayloadBytes = 120;

    private readonly byte[] _payload = new byte[PayloadBytes];
    private readonly List<Task<OutboxAppendResult>> _acks = new(RecordsPerOperation);
    private DirectoryInfo? _dir;
    private DurableOutbox? _outbox;

    /// <summary>The fsync policy appended under.</summary>
    [Params(OutboxFsyncPolicy.PerRecord, OutboxFsyncPolicy.GroupCommit, OutboxFsyncPolicy.OsBuffered)]
    public OutboxFsyncPolicy Policy { get; set; }

    /// <summary>A fresh outbox per iteration.</summary>
    [IterationSetup(Target = nameof(Append))]
    public void SetupAppend()
    {
        _dir = Directory.CreateTempSubdirectory("wh-outbox-bench-");
        _outbox = DurableOutbox.Open(new OutboxOptions { Directory = _dir.FullName, FsyncPolicy = Policy, GroupCommitInterval = TimeSpan.FromMilliseconds(2) });
    }

    /// <summary>Appends a burst of telemetry and waits until every record is acknowledged (durable under the policy).</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerOperation)]
    public void Append()
    {
        _acks.Clear();
        for (var i = 0; i < RecordsPerOperation; i++)
        {
            _payload[0] = (byte)i;
            _acks.Add(_outbox!.AppendAsync("robot-0001", OutboxRecordClass.Telemetry, _payload).AsTask());
        }

        Task.WaitAll(_acks);
    }

    /// <summary>A backlog of records written before each replay iteration.</summary>
    [IterationSetup(Target = nameof(Replay))]
    public void SetupReplay()
    {
        _dir = Directory.CreateTempSubdirectory("wh-outbox-bench-");
        using (var writer = DurableOutbox.Open(new OutboxOptions { Directory = _dir.FullName, FsyncPolicy = OutboxFsyncPolicy.OsBuffered }))
        {
            for (var i = 0; i < RecordsPerOperation * 10; i++)
            {
                _ = writer.AppendAsync($"robot-{i % 8:D4}", OutboxRecordClass.Telemetry, _payload);
            }
        }

        _outbox = null;
    }

    /// <summary>Opens (recovers) the outbox and drains the backlog in batches of 512, marking each delivered.</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerOperation * 10)]
    public long Replay()
    {
        using var outbox = DurableOutbox.Open(new OutboxOptions { Directory = _dir!.FullName, FsyncPolicy = Policy });
        long count = 0;
        for (var guard = 0; guard < 1_000_000; guard++)
        {
            var batch = outbox.ReadPending(512);
            if (batch.Count == 0)
            {
                break;
            }

            count += batch.Count;
            outbox.MarkDelivered(batch[^1].Seq);
        }

        return count;
    }

    /// <summary>Removes the iteration's directory.</summary>
    [IterationCleanup]
    public void Cleanup()
    {
        _outbox?.Dispose();
        _outbox = null;
        _dir?.Delete(recursive: true);
        _dir = null;
    }
}
