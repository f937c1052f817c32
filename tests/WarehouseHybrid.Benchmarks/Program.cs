using BenchmarkDotNet.Running;

namespace WarehouseHybrid.Benchmarks;

/// <summary>Entry point: pick benchmarks with the usual BenchmarkDotNet arguments, e.g. <c>--filter *Serial* --job short</c>.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
