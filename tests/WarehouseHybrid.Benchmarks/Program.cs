using BenchmarkDotNet.Running;

namespace WarehouseHybrid.Benchmarks;

/// <summary>Entry point: pick benchmarks with the usual BenchmarkDotNet arguments, e.g. <c>--filter *Serial* --job short</c>; <c>edge-inference</c> runs the edge inference bench, <c>cloud-grains</c>, <c>cloud-fleet</c>, <c>escalation</c> and <c>dashboard-snapshot</c> the cloud benches.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static async Task Main(string[] args)
    {
        if (args is ["cloud-grains", ..])
        {
            await Cloud.CloudGrainBench.RunAsync(args[1..]);
            return;
        }

        if (args is ["cloud-fleet", ..])
        {
            await Cloud.CloudFleetBench.RunAsync(args[1..]);
            return;
        }

        if (args is ["edge-inference", ..])
        {
            // A Stopwatch bench (per-call percentiles and allocations), quicker than BenchmarkDotNet on a loaded machine.
            Edge.EdgeInferenceBench.Run(args[1..]);
            return;
        }

        if (args is ["escalation", ..])
        {
            Cloud.EscalationBench.Run(args[1..]);
            return;
        }

        if (args is ["dashboard-snapshot", ..])
        {
            Cloud.DashboardSnapshotBench.RunAsync(args[1..]).GetAwaiter().GetResult();
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
