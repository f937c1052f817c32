using BenchmarkDotNet.Running;

namespace WarehouseHybrid.Benchmarks;

/// <summary>Entry point: pick benchmarks with the usual BenchmarkDotNet arguments, e.g. <c>--filter *Serial* --job short</c>; <c>edge-inference</c> runs the edge inference bench; <c>link-ingest</c>, <c>link-reconnect</c> and <c>link-replay</c> the MQTT link benches.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static void Main(string[] args)
    {
        if (args is ["edge-inference", ..])
        {
            // A Stopwatch bench (per-call percentiles and allocations), quicker than BenchmarkDotNet on a loaded machine.
            Edge.EdgeInferenceBench.Run(args[1..]);
            return;
        }

        // Link benches against a real Mosquitto child process (docs/benchmarks.md, "Link").
        switch (args)
        {
            case ["link-ingest", ..]:
                Link.LinkIngestBench.RunAsync(args[1..]).GetAwaiter().GetResult();
                return;
            case ["link-reconnect", ..]:
                Link.LinkReconnectBench.RunAsync(args[1..]).GetAwaiter().GetResult();
                return;
            case ["link-replay", ..]:
                Link.LinkReplayBench.RunAsync(args[1..]).GetAwaiter().GetResult();
                return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
