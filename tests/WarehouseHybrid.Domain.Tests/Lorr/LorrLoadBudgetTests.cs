using System.Diagnostics;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Domain.Tests.Support;
using Xunit.Abstractions;

namespace WarehouseHybrid.Domain.Tests.Lorr;

[CollectionDefinition(nameof(LoadBudget), DisableParallelization = true)]
public sealed class LoadBudget;

/// <summary>
/// Runs alone (no parallel tests) and measures process CPU time rather than wall time, so a busy
/// shared machine does not make it flaky.
/// </summary>
[Collection(nameof(LoadBudget))]
public sealed class LorrLoadBudgetTests(ITestOutputHelper output)
{
    [Fact]
    public void Loading_the_instance_with_the_largest_task_file_costs_well_under_a_second_of_cpu()
    {
        var path = DataFiles.Full("lorr/2024-example/warehouse.domain/warehouse_large_5000.json");
        LorrInstance.Load(path); // warm-up: JIT and file cache
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        const int runs = 5;
        for (var i = 0; i < runs; i++)
        {
            Assert.Equal(100_000, LorrInstance.Load(path).Tasks.Count);
        }

        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore) / runs;
        output.WriteLine($"warehouse_large_5000 (1.1 MB tasks, 100k tasks): {cpu.TotalMilliseconds:F0} ms CPU, {(wall.Elapsed / runs).TotalMilliseconds:F0} ms wall per load");

        // Generous bound (Debug build, GC threads included); a regex or string.Split parser costs several times more.
        Assert.True(cpu < TimeSpan.FromSeconds(1), $"load cost {cpu.TotalMilliseconds:F0} ms CPU");
    }
}
