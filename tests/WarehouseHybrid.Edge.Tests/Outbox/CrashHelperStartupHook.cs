using System.Globalization;
using WarehouseHybrid.Edge.Outbox;
using WarehouseHybrid.Edge.Tests.Outbox;

#pragma warning disable CA1050 // the runtime looks for a type named StartupHook in the global namespace

/// <summary>
/// The child process of the kill -9 test. The test runs this test assembly with <c>dotnet exec</c> and
/// DOTNET_STARTUP_HOOKS pointing at it; with <see cref="DirectoryVariable"/> set, the runtime calls
/// <see cref="Initialize"/>, which appends bursts of records to an outbox forever and prints "ack {seq}" for every
/// acknowledged one, until the test kills it. Without the variable it does nothing.
/// </summary>
internal static class StartupHook
{
    public const string DirectoryVariable = "WH_OUTBOX_CRASH_DIR";

    public static void Initialize()
    {
        var dir = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(dir))
        {
            return;
        }

        using var outbox = DurableOutbox.Open(new OutboxOptions
        {
            Directory = dir,
            SegmentBytes = 64 * 1024,
            MaxRecordBytes = 4096,
            FsyncPolicy = OutboxFsyncPolicy.GroupCommit,
            GroupCommitInterval = TimeSpan.FromMilliseconds(2),
        });
        var stdout = Console.Out;
        stdout.WriteLine("ready");
        stdout.Flush();
        var next = outbox.DurableSeq + 1; // single writer, nothing dropped: the seq each append gets
        for (var burst = 0; burst < 1_000_000; burst++)
        {
            var acks = new List<Task<OutboxAppendResult>>(32);
            for (var i = 0; i < 32; i++)
            {
                var n = next++;
                var cls = i == 31 ? OutboxRecordClass.Safety : OutboxRecordClass.Telemetry;
                acks.Add(outbox.AppendAsync($"r{n % 3}", cls, DurableOutboxTests.Payload(n)).AsTask());
            }

            foreach (var ack in acks)
            {
                var result = ack.GetAwaiter().GetResult();
                if (result.IsDurable)
                {
                    stdout.WriteLine("ack " + result.Seq.ToString(CultureInfo.InvariantCulture));
                }
            }

            stdout.Flush();
        }
    }
}
