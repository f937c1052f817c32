using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using WarehouseHybrid.Edge.Outbox;

namespace WarehouseHybrid.Edge.Tests.Outbox;

/// <summary>
/// Crash test with a real child process: it appends bursts to an outbox and reports each acknowledged record; the
/// test kills it with SIGKILL mid-burst, reopens the outbox and requires every acknowledged record back, intact and
/// in order. (SIGKILL keeps the page cache; a power cut is what the fsync before each acknowledgement is for.)
/// </summary>
public sealed class KillNineTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wh-outbox-kill-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    [InlineData(300)]
    [InlineData(2500)]
    public async Task Every_record_acknowledged_before_a_kill_9_mid_burst_is_recovered_in_order(int killAfterAcks)
    {
        var assembly = typeof(KillNineTests).Assembly.Location;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
        start.Environment[StartupHook.DirectoryVariable] = _dir.FullName;
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the child");
        var stderr = child.StandardError.ReadToEndAsync();
        long lastAck = -1;
        var acks = 0;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (acks < killAfterAcks)
            {
                var line = await child.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"the child ended early: {await stderr}");
                if (line.StartsWith("ack ", StringComparison.Ordinal))
                {
                    var seq = long.Parse(line.AsSpan(4), CultureInfo.InvariantCulture);
                    Assert.Equal(lastAck + 1, seq); // acknowledged in order
                    lastAck = seq;
                    acks++;
                }
            }
        }
        finally
        {
            child.Kill(); // SIGKILL on Unix, while the child is in the middle of a burst
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        using var outbox = DurableOutbox.Open(new OutboxOptions { Directory = _dir.FullName, SegmentBytes = 64 * 1024, MaxRecordBytes = 4096 });
        Assert.Empty(outbox.Recovery.Quarantined);
        var recovered = new List<OutboxRecord>();
        for (var guard = 0; guard < 10_000; guard++)
        {
            var batch = outbox.ReadPending(512);
            if (batch.Count == 0)
            {
                break;
            }

            recovered.AddRange(batch);
            outbox.MarkDelivered(batch[^1].Seq);
        }

        Assert.True(recovered.Count > lastAck, $"acknowledged through seq {lastAck}, recovered {recovered.Count} records");
        for (var i = 0; i < recovered.Count; i++)
        {
            Assert.Equal(i, recovered[i].Seq);
            Assert.Equal(i, BinaryPrimitives.ReadInt64LittleEndian(recovered[i].Payload.Span));
            Assert.Equal(DurableOutboxTests.Payload(i), recovered[i].Payload.ToArray());
        }
    }
}
