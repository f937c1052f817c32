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

    /// <summary>With this set (a state directory) and <see cref="PortVariable"/>, the child runs a whole cloud link instead.</summary>
    public const string LinkDirectoryVariable = "WH_LINK_CRASH_DIR";

    public const string PortVariable = "WH_LINK_CRASH_PORT";

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(LinkDirectoryVariable) is { Length: > 0 } linkDir)
        {
            RunLink(linkDir, int.Parse(Environment.GetEnvironmentVariable(PortVariable)!, CultureInfo.InvariantCulture));
            return;
        }

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

    // Offers events in bursts to a real CloudLink (as the control loop does) and prints "durable {seq}" whenever the
    // outbox's durable mark advances: every record up to it is acknowledged. Runs until killed.
    private static void RunLink(string stateDirectory, int port)
    {
        var settings = new WarehouseHybrid.Edge.Link.CloudLinkSettings("r1", "s1", "127.0.0.1", port, TimeSpan.FromHours(1),
            TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), 10)
        {
            Link = new WarehouseHybrid.Edge.Link.CloudLinkOptions { StateDirectory = stateDirectory, SparkplugEnabled = false, GroupCommitInterval = TimeSpan.FromMilliseconds(2) },
        };
        var link = new WarehouseHybrid.Edge.Link.CloudLink(settings, new NoInbox(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        link.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        var stdout = Console.Out;
        stdout.WriteLine("ready");
        stdout.Flush();
        long shown = -1;
        for (var i = 0; i < 10_000_000; i++)
        {
            link.Offer(new WarehouseHybrid.Edge.Control.RobotEventRecord("errand-reached", i.ToString(CultureInfo.InvariantCulture), TimeProvider.System.GetUtcNow(), string.Empty));
            if (i % 20 == 19)
            {
                var spin = new SpinWait();
                while (link.Counters.RecordsStored + link.Counters.EventsDropped < i + 1)
                {
                    spin.SpinOnce();
                }

                var durable = link.Outbox?.DurableSeq ?? -1;
                if (durable > shown)
                {
                    shown = durable;
                    stdout.WriteLine("durable " + durable.ToString(CultureInfo.InvariantCulture));
                    stdout.Flush();
                }
            }
        }
    }

    private sealed class NoInbox : WarehouseHybrid.Edge.Control.IPlanInbox
    {
        public void Post(WarehouseHybrid.Contracts.Fleet.PlanSegment segment)
        {
        }

        public void Post(WarehouseHybrid.Contracts.Fleet.GrantUpdate grant)
        {
        }

        public void Post(WarehouseHybrid.Contracts.Fleet.TaskAssignment task)
        {
        }
    }
}
