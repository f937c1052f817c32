using System.Text;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Tests.Models;

namespace WarehouseHybrid.Edge.Tests.Audit;

/// <summary>The audit log on a real directory: the chain, its rotation under the disk bound, and what the verifier finds.</summary>
public sealed class AuditLogTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private AuditLog Open(AuditOptions? options = null) => new(_dir.Path, options ?? new AuditOptions(), "robot-1", _time, NullLogger.Instance);

    private AuditEntry Entry(int i) => new()
    {
        Kind = AuditKinds.Decision,
        UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds() + i,
        TraceId = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ModelVersion = "1.0.0",
        Reason = DecisionReason.LearnedPolicy.ToText(),
        Detail = $"entry {i} with \"quotes\" and unicode \u00e9",
        HasInput = true,
        Input = Sha256Digest.Of([i, 0.5f, -1f]),
        HasDecision = true,
        Decision = new AuditDecision(DecisionMode.Learned, DecisionReason.LearnedPolicy, 0.4f, -0.1f, false, 0.97f),
    };

    /// <summary>Writes <paramref name="count"/> entries through a started log and stops it (opened + entries + closed records).</summary>
    private void WriteRun(int count, AuditOptions? options = null)
    {
        using var log = Open(options);
        log.Start();
        for (var i = 0; i < count; i++)
        {
            Assert.True(log.TryAppend(Entry(i)));
            if (i % 50 == 49)
            {
                Assert.True(log.Flush(Timeout));
            }
        }

        Assert.True(log.Stop(Timeout));
    }

    private string[] Files() => [.. AuditRecordCodec.Files(_dir.Path).Select(f => f.Path)];

    [Fact]
    public void A_written_log_verifies_and_every_record_carries_the_hash_of_the_one_before()
    {
        WriteRun(10);

        var result = AuditVerifier.Verify(_dir.Path);
        Assert.True(result.Ok, result.Problem?.ToString());
        Assert.Equal(12, result.Records); // opened, 10 entries, closed
        Assert.Equal(0, result.FirstSeq);
        Assert.Empty(result.Warnings);

        var lines = File.ReadAllLines(Files().Single());
        var records = lines.Select(l => { Assert.True(AuditRecordCodec.TryParse(Encoding.UTF8.GetBytes(l), out var r, out var e), e); return r!; }).ToList();
        Assert.Equal(AuditRecordCodec.GenesisHash, records[0].Prev);
        for (var i = 1; i < records.Count; i++)
        {
            Assert.Equal(records[i - 1].Hash, records[i].Prev);
            Assert.Equal(i, records[i].Seq);
        }

        Assert.Equal(AuditKinds.Opened, records[0].Kind);
        Assert.Equal(AuditKinds.Closed, records[^1].Kind);
        var decision = records[1];
        Assert.Equal("robot-1", decision.Robot);
        Assert.Equal("1.0.0", decision.ModelVersion);
        Assert.StartsWith("00-4bf92f35", decision.TraceId, StringComparison.Ordinal);
        Assert.Matches("^sha256:[0-9a-f]{64}$", decision.InputDigest);
        Assert.Equal("learned-policy", decision.Reason);
        Assert.Equal(new AuditDecision(DecisionMode.Learned, DecisionReason.LearnedPolicy, 0.4f, -0.1f, false, 0.97f), decision.Decision);
        Assert.Equal("entry 0 with \"quotes\" and unicode \u00e9", decision.Detail);
    }

    [Fact]
    public void A_restart_opens_a_new_file_whose_first_record_links_to_the_last_record_of_the_previous_run()
    {
        WriteRun(3);
        WriteRun(3);

        var files = Files();
        Assert.Equal(2, files.Length);
        var lastOfFirst = Parse(File.ReadAllLines(files[0])[^1]);
        var firstOfSecond = Parse(File.ReadAllLines(files[1])[0]);
        Assert.Equal(lastOfFirst.Hash, firstOfSecond.Prev);
        Assert.Equal(lastOfFirst.Seq + 1, firstOfSecond.Seq);
        Assert.Contains("continues the chain after seq 4", firstOfSecond.Detail, StringComparison.Ordinal);
        Assert.True(AuditVerifier.Verify(_dir.Path).Ok);
    }

    [Fact]
    public void Any_flipped_byte_is_found_and_the_record_holding_it_is_named()
    {
        WriteRun(6);
        WriteRun(4);
        var files = Files();
        var originals = files.Select(File.ReadAllBytes).ToArray();

        Gen.Select(Gen.Int[0, files.Length - 1], Gen.Int[0, int.MaxValue], Gen.Byte[1, 255]).Sample(
            (f, at, mask) =>
            {
                var bytes = (byte[])originals[f].Clone();
                var offset = at % bytes.Length;
                bytes[offset] ^= mask;
                File.WriteAllBytes(files[f], bytes);
                try
                {
                    var result = AuditVerifier.Verify(_dir.Path);
                    Assert.False(result.Ok, $"flip of byte {offset} in {Path.GetFileName(files[f])} was not found");
                    var line = 1 + originals[f].AsSpan(0, offset).Count((byte)'\n');
                    Assert.Equal(Path.GetFileName(files[f]), result.Problem!.File);
                    Assert.Equal(line, result.Problem.Line);
                }
                finally
                {
                    File.WriteAllBytes(files[f], originals[f]);
                }
            },
            iter: 300,
            threads: 1);
    }

    [Fact]
    public void A_deleted_record_is_found_at_the_record_after_it()
    {
        WriteRun(8);
        var file = Files().Single();
        var lines = File.ReadAllLines(file).ToList();
        lines.RemoveAt(4); // seq 4
        File.WriteAllText(file, string.Join('\n', lines) + "\n");

        var problem = AuditVerifier.Verify(_dir.Path).Problem;
        Assert.NotNull(problem);
        Assert.Equal(5, problem.Line);
        Assert.Equal(5, problem.Seq);
        Assert.Contains("seq 4 expected after seq 3: 1 record(s) missing", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reordered_files_are_found_at_the_first_record_that_does_not_follow()
    {
        WriteRun(2);
        WriteRun(2);
        WriteRun(2);
        var files = Files();
        var second = File.ReadAllBytes(files[1]);
        File.WriteAllBytes(files[1], File.ReadAllBytes(files[2]));
        File.WriteAllBytes(files[2], second);

        var problem = AuditVerifier.Verify(_dir.Path).Problem;
        Assert.NotNull(problem);
        Assert.Equal(Path.GetFileName(files[1]), problem.File);
        Assert.Equal(1, problem.Line);
        Assert.Contains("missing", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reordered_records_inside_a_file_are_found()
    {
        WriteRun(6);
        var file = Files().Single();
        var lines = File.ReadAllLines(file);
        (lines[2], lines[3]) = (lines[3], lines[2]);
        File.WriteAllText(file, string.Join('\n', lines) + "\n");

        var problem = AuditVerifier.Verify(_dir.Path).Problem;
        Assert.NotNull(problem);
        Assert.Equal(3, problem.Line);
        Assert.Contains("seq 2 expected after seq 1", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rotation_keeps_the_directory_within_the_disk_bound_and_the_pruned_chain_still_verifies()
    {
        var options = new AuditOptions { MaxFileBytes = 4096, MaxTotalBytes = 12288, QueueCapacity = 64 };
        long pruned;
        using (var log = Open(options))
        {
            log.Start();
            for (var i = 0; i < 600; i++)
            {
                Assert.True(log.TryAppend(Entry(i)));
                if (i % 20 == 19)
                {
                    Assert.True(log.Flush(Timeout));
                    Assert.True(DirectoryBytes() <= options.MaxTotalBytes, $"{DirectoryBytes()} bytes after {i + 1} entries");
                }
            }

            Assert.True(log.Stop(Timeout));
            pruned = log.Counters.FilesPruned;
            Assert.True(pruned > 10, $"{pruned} files pruned");
        }

        Assert.True(DirectoryBytes() <= options.MaxTotalBytes);
        Assert.All(Files(), f => Assert.True(new FileInfo(f).Length <= options.MaxFileBytes + 1024, $"{f} is {new FileInfo(f).Length} bytes"));
        var result = AuditVerifier.Verify(_dir.Path);
        Assert.True(result.Ok, result.Problem?.ToString());
        Assert.True(result.FirstSeq > 0);
        Assert.Contains(result.Warnings, w => w.Contains("deleted by rotation", StringComparison.Ordinal));
        Assert.Equal(601 + pruned, result.HeadSeq); // opened + 600 entries + one record per pruned file + closed, without a gap
    }

    [Fact]
    public void An_old_file_deleted_outside_rotation_is_found()
    {
        WriteRun(2);
        WriteRun(2);
        File.Delete(Files()[0]);

        var problem = AuditVerifier.Verify(_dir.Path).Problem;
        Assert.NotNull(problem);
        Assert.Equal(1, problem.Line);
        Assert.Contains("no audit-pruned record accounts", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crash_torn_tail_is_a_warning_and_the_next_run_continues_after_the_last_complete_record()
    {
        WriteRun(5);
        var file = Files().Single();
        var bytes = File.ReadAllBytes(file);
        var lastLineStart = Array.LastIndexOf(bytes, (byte)'\n', bytes.Length - 2) + 1;
        var cut = lastLineStart + ((bytes.Length - lastLineStart) / 2);
        File.WriteAllBytes(file, bytes[..cut]); // the closed record, half written

        var torn = AuditVerifier.Verify(_dir.Path);
        Assert.True(torn.Ok, torn.Problem?.ToString());
        Assert.Single(torn.Warnings, w => w.Contains("incomplete record (crash during a write)", StringComparison.Ordinal));
        Assert.Equal(5, torn.HeadSeq); // opened + 5 entries survive; the closed record (seq 6) was torn

        WriteRun(1);
        var reopened = Parse(File.ReadAllLines(Files()[1])[0]);
        Assert.Equal(6, reopened.Seq);
        Assert.Contains("incomplete record at offset", reopened.Detail, StringComparison.Ordinal);
        var result = AuditVerifier.Verify(_dir.Path);
        Assert.True(result.Ok, result.Problem?.ToString());
        Assert.Single(result.Warnings);
    }

    [Fact]
    public void A_complete_record_whose_newline_was_removed_is_tampering_not_a_crash()
    {
        WriteRun(3);
        var file = Files().Single();
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^1]);

        var problem = AuditVerifier.Verify(_dir.Path).Problem;
        Assert.NotNull(problem);
        Assert.Contains("without its line terminator", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_cut_from_the_end_are_found_against_an_anchor_published_before()
    {
        WriteRun(6);
        var result = AuditVerifier.Verify(_dir.Path);
        var anchor = (result.HeadSeq, result.HeadHash);
        var file = Files().Single();
        var lines = File.ReadAllLines(file);
        File.WriteAllText(file, string.Join('\n', lines[..^2]) + "\n"); // cut at a record boundary: the chain alone cannot tell

        Assert.True(AuditVerifier.Verify(_dir.Path).Ok);
        var problem = AuditVerifier.Verify(_dir.Path, anchor).Problem;
        Assert.NotNull(problem);
        Assert.Contains("records were removed from its end", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_full_queue_drops_entries_counts_them_and_audits_the_drop()
    {
        using var log = Open(new AuditOptions { QueueCapacity = 16 });
        for (var i = 0; i < 20; i++)
        {
            log.TryAppend(Entry(i)); // not started: nothing drains
        }

        Assert.Equal(4, log.Counters.Dropped);
        log.Start();
        Assert.True(log.Flush(Timeout));
        Assert.True(log.Stop(Timeout));

        var records = File.ReadAllLines(Files().Single()).Select(Parse).ToList();
        var dropped = Assert.Single(records, r => r.Kind == AuditKinds.Dropped);
        Assert.Contains("4 entries dropped", dropped.Detail, StringComparison.Ordinal);
        Assert.Equal(16, records.Count(r => r.Kind == AuditKinds.Decision));
        Assert.True(AuditVerifier.Verify(_dir.Path).Ok);
    }

    [Fact]
    public void A_failed_write_loses_the_entry_counts_it_and_the_chain_goes_on_in_a_new_file()
    {
        var options = new AuditOptions { MaxFileBytes = 4096, MaxTotalBytes = 1 << 20 };
        Directory.CreateDirectory(Path.Combine(_dir.Path, AuditRecordCodec.FileName(2))); // the next file's name is taken: its open fails
        using (var log = Open(options))
        {
            log.Start();
            for (var i = 0; i < 30; i++)
            {
                log.TryAppend(Entry(i));
            }

            Assert.True(log.Flush(Timeout));
            Assert.True(log.Stop(Timeout));
            Assert.Equal(1, log.Counters.Lost);
            Assert.True(log.Counters.WriteFailures >= 1);
        }

        var result = AuditVerifier.Verify(_dir.Path);
        Assert.True(result.Ok, result.Problem?.ToString());
        var lost = Files().SelectMany(File.ReadAllLines).Select(Parse).Single(r => r.Kind == AuditKinds.Lost);
        Assert.Contains("1 entries lost", lost.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Listeners_get_every_committed_record_with_its_hash()
    {
        var got = new List<AuditRecord>();
        using (var log = Open())
        {
            log.Subscribe(new Listener(got));
            log.Start();
            log.TryAppend(Entry(1));
            Assert.True(log.Flush(Timeout));
            Assert.Equal(log.Head.Hash, got[^1].Hash);
            Assert.True(log.Stop(Timeout));
        }

        Assert.Equal([AuditKinds.Opened, AuditKinds.Decision, AuditKinds.Closed], got.Select(r => r.Kind));
        Assert.All(got, r => Assert.EndsWith($"\"hash\":\"{r.Hash}\"}}", r.Json, StringComparison.Ordinal));
    }

    [Fact]
    public void The_audit_verify_command_exits_0_for_a_good_chain_1_naming_the_bad_record_and_2_for_bad_arguments()
    {
        WriteRun(3);
        var output = new StringWriter();
        Assert.Equal(0, AuditCommand.Run(["verify", _dir.Path], output));
        Assert.Contains("ok: 5 records in 1 file(s)", output.ToString(), StringComparison.Ordinal);
        var head = AuditVerifier.Verify(_dir.Path);
        Assert.Equal(0, AuditCommand.Run(["verify", _dir.Path, "--anchor", $"{head.HeadSeq}:{head.HeadHash}"], new StringWriter()));

        var file = Files().Single();
        var bytes = File.ReadAllBytes(file);
        bytes[100] ^= 0x20;
        File.WriteAllBytes(file, bytes);
        output = new StringWriter();
        Assert.Equal(1, AuditCommand.Run(["verify", _dir.Path], output));
        Assert.Contains($"TAMPERED: {Path.GetFileName(file)} line 1", output.ToString(), StringComparison.Ordinal);

        Assert.Equal(2, AuditCommand.Run(["verify", _dir.Path, "--anchor", "12:nothex"], new StringWriter()));
        Assert.Equal(2, AuditCommand.Run(["check"], new StringWriter()));
        Assert.Equal(2, AuditCommand.Run(["verify", Path.Combine(_dir.Path, "missing")], new StringWriter()));
    }

    [Fact]
    public void A_second_writer_on_the_same_directory_is_refused_at_start_naming_it()
    {
        using var first = Open();
        first.Start();
        using var second = Open();
        var ex = Assert.Throws<IOException>(second.Start);
        Assert.Contains("is in use by another writer", ex.Message, StringComparison.Ordinal);
        Assert.True(first.Stop(Timeout));

        using var third = Open(); // released when the first stopped
        third.Start();
        Assert.True(third.Stop(Timeout));
        Assert.True(AuditVerifier.Verify(_dir.Path).Ok);
    }

    [Fact]
    public void Invalid_options_are_refused_naming_each()
    {
        var errors = new AuditOptions { Directory = "relative/dir", MaxFileBytes = 10, MaxTotalBytes = 5, QueueCapacity = 1, FsyncInterval = TimeSpan.Zero }.Validate();
        Assert.Contains(errors, e => e.StartsWith("Edge:Audit:Directory", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:Audit:MaxFileBytes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:Audit:MaxTotalBytes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:Audit:QueueCapacity", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:Audit:FsyncInterval", StringComparison.Ordinal));
    }

    private long DirectoryBytes() => Files().Sum(f => new FileInfo(f).Length);

    private static AuditRecord Parse(string line)
    {
        Assert.True(AuditRecordCodec.TryParse(Encoding.UTF8.GetBytes(line), out var record, out var error), error);
        return record!;
    }

    private sealed class Listener(List<AuditRecord> got) : IAuditListener
    {
        public void OnRecord(AuditRecord record)
        {
            lock (got)
            {
                got.Add(record);
            }
        }
    }
}
