using BenchmarkDotNet.Running;

namespace WarehouseHybrid.Benchmarks;

/// <summary>Entry point: pick benchmarks with the usual BenchmarkDotNet arguments, e.g. <c>--filter *Serial* --job short</c>; <c>edge-inference</c> runs the edge inference bench.</summary>
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

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
