using BenchmarkDotNet.Running;

namespace WarehouseHybrid.Benchmarks;

/// <summary>
/// Entry point: pick benchmarks with the usual BenchmarkDotNet arguments, e.g. <c>--filter *Serial* --job short</c>;
/// or one of the project's own bench commands (docs/benchmarks.md): <c>edge-inference</c> (the edge inference bench),
/// <c>link-ingest</c>, <c>link-reconnect</c> and <c>link-replay</c> (the MQTT link, against a real Mosquitto child
/// process), <c>cloud-grains</c>, <c>cloud-fleet</c>, <c>escalation</c> and <c>dashboard-snapshot</c> (the cloud), <c>corridor-sweep</c> (the lifelong optimizer on
/// corridor maps with dead ends), <c>jam-search</c> (the joint search of a jam, exhaustive against lazy).
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static async Task Main(string[] args)
    {
        switch (args)
        {
            case ["edge-inference", ..]:
                // A Stopwatch bench (per-call percentiles and allocations), quicker than BenchmarkDotNet on a loaded machine.
                Edge.EdgeInferenceBench.Run(args[1..]);
                return;
            case ["link-ingest", ..]:
                await Link.LinkIngestBench.RunAsync(args[1..]);
                return;
            case ["link-reconnect", ..]:
                await Link.LinkReconnectBench.RunAsync(args[1..]);
                return;
            case ["link-replay", ..]:
                await Link.LinkReplayBench.RunAsync(args[1..]);
                return;
            case ["cloud-grains", ..]:
                await Cloud.CloudGrainBench.RunAsync(args[1..]);
                return;
            case ["cloud-fleet", ..]:
                await Cloud.CloudFleetBench.RunAsync(args[1..]);
                return;
            case ["escalation", ..]:
                Cloud.EscalationBench.Run(args[1..]);
                return;
            case ["corridor-sweep", ..]:
                Planning.CorridorSweepBench.Run(args[1..]);
                return;
            case ["jam-search", ..]:
                Planning.JamSearchBench.Run(args[1..]);
                return;
            case ["dashboard-snapshot", ..]:
                await Cloud.DashboardSnapshotBench.RunAsync(args[1..]);
                return;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return;
        }
    }
}
