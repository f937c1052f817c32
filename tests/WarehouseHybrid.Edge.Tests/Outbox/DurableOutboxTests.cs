using System.Buffers.Binary;
using System.Text;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Edge.Outbox;

namespace WarehouseHybrid.Edge.Tests.Outbox;

/// <summary>The durable outbox: acknowledged means fsynced, order, cursor, cap policy, full disk, torn tails and corruption.</summary>
public sealed class DurableOutboxTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wh-outbox-");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public void Dispose() => _dir.Delete(recursive: true);

    private OutboxOptions Options(OutboxFsyncPolicy policy = OutboxFsyncPolicy.PerRecord, long segment = 4096, long max = 1 << 20, long hard = 2 << 20) => new()
    {
        Directory = _dir.FullName,
        SegmentBytes = segment,
        MaxBytes = max,
        HardMaxBytes = hard,
        MaxRecordBytes = 256,
        FsyncPolicy = policy,
        GroupCommitInterval = TimeSpan.FromMilliseconds(5),
    };

    internal static byte[] Payload(long n, int size = 40)
    {
        var bytes = new byte[size];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, n);
        for (var i = 8; i < size; i++)
        {
            bytes[i] = (byte)(n * 31 + i);
        }

        return bytes;
    }

    /// <summary>Per-record fsync acknowledges synchronously: the result without blocking.</summary>
    internal static OutboxAppendResult Sync(ValueTask<OutboxAppendResult> append)
    {
        Assert.True(append.IsCompleted, "a per-record append completes before it returns");
        return append.Result;
    }

    private static List<OutboxRecord> ReadAll(DurableOutbox outbox)
    {
        var all = new List<OutboxRecord>();
        for (var guard = 0; guard < 100_000; guard++)
        {
            var batch = outbox.ReadPending(64);
            if (batch.Count == 0)
            {
                return all;
            }

            all.AddRange(batch);
            outbox.MarkDelivered(batch[^1].Seq);
        }

        throw new InvalidOperationException("ReadPending never ran dry");
    }

    [Fact]
    public async Task Group_commit_acknowledges_telemetry_only_after_the_fsync_that_covers_it()
    {
        var fs = new FaultyFileSystem();
        using var outbox = DurableOutbox.Open(Options(OutboxFsyncPolicy.GroupCommit), fs, _time);
        var syncsAtOpen = fs.Syncs;
        var acks = Enumerable.Range(0, 10).Select(i => outbox.AppendAsync("r1", OutboxRecordClass.Telemetry, Payload(i)).AsTask()).ToList();

        Assert.All(acks, a => Assert.False(a.IsCompleted));
        Assert.Empty(outbox.ReadPending(100)); // not durable yet: not handed to the sender either

        _time.Advance(TimeSpan.FromMilliseconds(5));

        var results = await Task.WhenAll(acks).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(results, r => Assert.True(r.IsDurable));
        Assert.Equal(syncsAtOpen + 2, fs.Syncs); // the new segment's header, then one fsync for the whole group
        Assert.Equal(10, outbox.ReadPending(100).Count);
    }

    [Fact]
    public async Task Group_commit_fsyncs_protected_records_at_once()
    {
        var fs = new FaultyFileSystem();
        using var outbox = DurableOutbox.Open(Options(OutboxFsyncPolicy.GroupCommit), fs, _time);
        var telemetry = outbox.AppendAsync("r1", OutboxRecordClass.Telemetry, Payload(1)).AsTask();
        var safety = outbox.AppendAsync("r1", OutboxRecordClass.Safety, Payload(2));

        Assert.True(safety.IsCompleted);
        Assert.True((await safety).IsDurable);
        Assert.True((await telemetry.WaitAsync(TimeSpan.FromSeconds(10))).IsDurable); // covered by the same fsync
    }

    [Fact]
    public async Task Per_record_policy_fsyncs_every_append_before_acknowledging()
    {
        var fs = new FaultyFileSystem();
        using var outbox = DurableOutbox.Open(Options(), fs, _time);
        var before = fs.Syncs;
        for (var i = 0; i < 20; i++)
        {
            var append = outbox.AppendAsync("r1", OutboxRecordClass.Telemetry, Payload(i));
            Assert.True(append.IsCompleted);
            Assert.Equal(i, (await append).Seq);
        }

        Assert.True(fs.Syncs - before >= 20);
    }

    [Fact]
    public async Task Records_come_back_in_append_order_per_device_across_segments_and_restarts()
    {
        var appended = new List<(string Device, long N)>();
        using (var outbox = DurableOutbox.Open(Options(segment: 1024), null, _time))
        {
            for (var i = 0; i < 300; i++)
            {
                var device = $"r{i % 3}";
                Assert.True((await outbox.AppendAsync(device, OutboxRecordClass.Telemetry, Payload(i))).IsDurable);
                appended.Add((device, i));
            }

            var first = outbox.ReadPending(50);
            outbox.MarkDelivered(first[^1].Seq);
        }

        Assert.True(Directory.GetFiles(_dir.FullName, "*.seg").Length > 5);
        using var reopened = DurableOutbox.Open(Options(segment: 1024), null, _time);
        Assert.Equal(250, reopened.Recovery.Pending);
        var rest = ReadAll(reopened);

        Assert.Equal(appended.Skip(50).Select(a => a.N), rest.Select(r => BinaryPrimitives.ReadInt64LittleEndian(r.Payload.Span)));
        foreach (var device in new[] { "r0", "r1", "r2" })
        {
            var seqs = rest.Where(r => r.DeviceId == device).Select(r => r.Seq).ToList();
            Assert.Equal(seqs.Order(), seqs);
        }

        Assert.Single(Directory.GetFiles(_dir.FullName, "*.seg")); // delivered segments were removed, the active one stays
        Assert.Equal(300, (await reopened.AppendAsync("r0", OutboxRecordClass.Event, Payload(300))).Seq); // seq never reused
    }

    [Fact]
    public async Task Cap_drops_oldest_undelivered_telemetry_first_and_never_events()
    {
        using var outbox = DurableOutbox.Open(Options(segment: 1024, max: 4096, hard: 6144), null, _time);
        var events = new List<long>();
        for (var i = 0; i < 200; i++)
        {
            var cls = i % 10 == 0 ? OutboxRecordClass.Task : OutboxRecordClass.Telemetry;
            var result = await outbox.AppendAsync("r1", cls, Payload(i));
            if (cls != OutboxRecordClass.Telemetry)
            {
                Assert.True(result.IsDurable, result.Detail);
                events.Add(i);
            }
        }

        var counters = outbox.Counters;
        Assert.True(counters.TelemetryDropped > 0);
        Assert.True(counters.Bytes <= 4096, $"{counters.Bytes} bytes over the cap");
        var kept = ReadAll(outbox);
        var keptNumbers = kept.Select(r => BinaryPrimitives.ReadInt64LittleEndian(r.Payload.Span)).ToList();
        Assert.Equal(events, kept.Where(r => r.Class == OutboxRecordClass.Task).Select(r => BinaryPrimitives.ReadInt64LittleEndian(r.Payload.Span)));
        Assert.Contains(199L, keptNumbers); // the newest telemetry survives, the oldest went first
        Assert.DoesNotContain(1L, keptNumbers);
        Assert.Equal(200, kept.Count + counters.TelemetryDropped + counters.TelemetryRefused);
    }

    [Fact]
    public async Task Protected_records_beyond_the_hard_cap_are_refused_not_acknowledged_and_counted()
    {
        using var outbox = DurableOutbox.Open(Options(segment: 1024, max: 2048, hard: 3072), null, _time);
        var results = new List<OutboxAppendResult>();
        for (var i = 0; i < 100; i++)
        {
            results.Add(await outbox.AppendAsync("r1", OutboxRecordClass.Audit, Payload(i)));
        }

        var refused = results.Where(r => !r.IsDurable).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Equal(OutboxRejection.OutboxFull, r.Rejection));
        Assert.Equal(refused.Count, outbox.Counters.ProtectedRefused);
        Assert.Equal(results.Count(r => r.IsDurable), ReadAll(outbox).Count); // every acknowledged one is there
    }

    [Fact]
    public async Task A_full_disk_refuses_the_append_leaves_no_partial_record_and_recovers_when_space_returns()
    {
        var fs = new FaultyFileSystem();
        using (var outbox = DurableOutbox.Open(Options(), fs, _time))
        {
            for (var i = 0; i < 5; i++)
            {
                await outbox.AppendAsync("r1", OutboxRecordClass.Event, Payload(i));
            }

            fs.FreeBytes = 30; // less than one record
            var failed = await outbox.AppendAsync("r1", OutboxRecordClass.Safety, Payload(5));
            Assert.Equal(OutboxRejection.WriteFailed, failed.Rejection);
            Assert.Contains("No space left on device", failed.Detail, StringComparison.Ordinal);
            Assert.Equal(1, outbox.Counters.WriteFailures);

            fs.FreeBytes = null;
            var after = await outbox.AppendAsync("r1", OutboxRecordClass.Safety, Payload(6));
            Assert.True(after.IsDurable);
            Assert.Equal(5, after.Seq);
        }

        using var reopened = DurableOutbox.Open(Options(), fs, _time);
        Assert.Equal(0, reopened.Recovery.TornTailBytes);
        Assert.Equal([0L, 1, 2, 3, 4, 6], ReadAll(reopened).Select(r => BinaryPrimitives.ReadInt64LittleEndian(r.Payload.Span)));
    }

    [Fact]
    public async Task A_failing_fsync_is_reported_to_the_caller_not_acknowledged()
    {
        var fs = new FaultyFileSystem();
        using var outbox = DurableOutbox.Open(Options(), fs, _time);
        Assert.True((await outbox.AppendAsync("r1", OutboxRecordClass.Audit, Payload(0))).IsDurable);
        fs.FailSync = true;
        var result = await outbox.AppendAsync("r1", OutboxRecordClass.Audit, Payload(1));
        Assert.Equal(OutboxRejection.SyncFailed, result.Rejection);
        Assert.Equal(1, outbox.Counters.SyncFailures);
    }

    [Fact]
    public void Torn_tail_at_any_offset_recovers_every_complete_record_and_keeps_appending()
    {
        var records = 30;
        using (var outbox = DurableOutbox.Open(Options(segment: 1 << 16), null, _time))
        {
            for (var i = 0; i < records; i++)
            {
                Assert.True(Sync(outbox.AppendAsync("r1", OutboxRecordClass.Telemetry, Payload(i))).IsDurable);
            }
        }

        var segment = Directory.GetFiles(_dir.FullName, "*.seg").Single();
        var original = File.ReadAllBytes(segment);
        var recordSize = SegmentFormat.RecordSize(2, 40);
        Gen.Int[SegmentFormat.Magic.Length, original.Length].Sample(cut =>
        {
            File.WriteAllBytes(segment, original[..cut]);
            File.Delete(Path.Combine(_dir.FullName, "cursor"));
            using var outbox = DurableOutbox.Open(Options(segment: 1 << 16), null, _time);
            var complete = (cut - SegmentFormat.Magic.Length) / recordSize;
            Assert.Empty(outbox.Recovery.Quarantined);
            Assert.Equal(cut - SegmentFormat.Magic.Length - (complete * recordSize), outbox.Recovery.TornTailBytes);
            var next = Sync(outbox.AppendAsync("r1", OutboxRecordClass.Event, Payload(1000)));
            Assert.Equal(complete, next.Seq);
            var all = ReadAll(outbox);
            Assert.Equal(Enumerable.Range(0, complete).Select(i => (long)i).Append(1000), all.Select(r => BinaryPrimitives.ReadInt64LittleEndian(r.Payload.Span)));
        }, iter: 60, threads: 1);
    }

    [Fact]
    public async Task A_corrupt_segment_is_quarantined_with_its_good_prefix_kept_and_the_outbox_keeps_working()
    {
        using (var outbox = DurableOutbox.Open(Options(segment: 1024), null, _time))
        {
            for (var i = 0; i < 60; i++)
            {
                await outbox.AppendAsync("r1", OutboxRecordClass.Event, Payload(i));
            }
        }

        var segments = Directory.GetFiles(_dir.FullName, "*.seg").Order(StringComparer.Ordinal).ToList();
        Assert.True(segments.Count >= 3);
        var victim = File.ReadAllBytes(segments[1]);
        var recordSize = SegmentFormat.RecordSize(2, 40);
        var at = SegmentFormat.Magic.Length + (3 * recordSize) + 20; // inside the 4th record of the second segment
        victim[at] ^= 0x5A;
        File.WriteAllBytes(segments[1], victim);

        using var reopened = DurableOutbox.Open(Options(segment: 1024), null, _time);

        var q = Assert.Single(reopened.Recovery.Quarantined);
        Assert.Equal(Path.GetFileName(segments[1]), q.Segment);
        Assert.Equal(3, q.RecordsKept);
        Assert.Contains("CRC-32C mismatch", q.Reason, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir.FullName, q.QuarantinedAs)));
        Assert.Equal(1, reopened.Counters.SegmentsQuarantined);
        var all = ReadAll(reopened).Select(r => BinaryPrimitives.ReadInt64LittleEndian(r.Payload.Span)).ToList();
        var perSegment = (1024 - SegmentFormat.Magic.Length) / recordSize;
        var lost = Enumerable.Range(perSegment + 3, perSegment - 3).Select(i => (long)i).ToHashSet();
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i).Where(i => !lost.Contains(i)), all);
        Assert.True((await reopened.AppendAsync("r1", OutboxRecordClass.Audit, Payload(60))).IsDurable);
    }

    [Fact]
    public void Random_damage_never_stops_the_outbox_from_opening_and_never_yields_a_record_that_was_not_appended()
    {
        using (var outbox = DurableOutbox.Open(Options(segment: 2048), null, _time))
        {
            for (var i = 0; i < 120; i++)
            {
                Assert.True(Sync(outbox.AppendAsync($"r{i % 4}", (OutboxRecordClass)(i % 5), Payload(i, 10 + (i % 50)))).IsDurable);
            }
        }

        var pristine = Directory.GetFiles(_dir.FullName, "*.seg").ToDictionary(f => f, File.ReadAllBytes);
        var files = pristine.Keys.Order(StringComparer.Ordinal).ToArray();
        Gen.Select(Gen.Int[0, files.Length - 1], Gen.Int[0, 4000], Gen.Byte[1, 255], Gen.Bool).Sample((fileIndex, offset, xor, truncate) =>
        {
            foreach (var leftover in Directory.GetFiles(_dir.FullName).Where(f => !pristine.ContainsKey(f)))
            {
                File.Delete(leftover);
            }

            foreach (var (path, bytes) in pristine)
            {
                File.WriteAllBytes(path, bytes);
            }

            var victim = pristine[files[fileIndex]].ToArray();
            var at = offset % victim.Length;
            if (truncate)
            {
                victim = victim[..at];
            }
            else
            {
                victim[at] ^= xor;
            }

            File.WriteAllBytes(files[fileIndex], victim);
            using var outbox = DurableOutbox.Open(Options(segment: 2048), null, _time);
            var seen = ReadAll(outbox);
            Assert.All(seen, r =>
            {
                Assert.Equal(Payload(r.Seq, 10 + (int)(r.Seq % 50)), r.Payload.ToArray());
                Assert.Equal($"r{r.Seq % 4}", r.DeviceId);
            });
            Assert.Equal(seen.Select(r => r.Seq).Order(), seen.Select(r => r.Seq));
            Assert.True(Sync(outbox.AppendAsync("r0", OutboxRecordClass.Audit, Encoding.UTF8.GetBytes("after"))).IsDurable);
        }, iter: 80, threads: 1);
    }

    [Fact]
    public void Crc32C_matches_the_standard_check_value() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Fact]
    public void Invalid_options_are_refused_naming_the_setting()
    {
        var ex = Assert.Throws<ArgumentException>(() => DurableOutbox.Open(Options() is var o ? new OutboxOptions { Directory = o.Directory, MaxBytes = 10 } : null!));
        Assert.Contains("Outbox:MaxBytes", ex.Message, StringComparison.Ordinal);
    }
}
