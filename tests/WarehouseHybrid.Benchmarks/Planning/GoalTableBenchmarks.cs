using BenchmarkDotNet.Attributes;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Benchmarks.Planning;

/// <summary>
/// Cost of one goal table on the 500x140 LoRR warehouse map: exact (cell, heading) table versus
/// the per-cell table the lazy planner uses (a quarter of the memory). Run with
/// <c>--filter *GoalTable*</c>; set WH_KIT_DATA to the kit's data folder when not run from the repo.
/// </summary>
[MemoryDiagnoser]
public class GoalTableBenchmarks
{
    private CompactGrid _grid = null!;
    private int[] _goals = [];
    private int _next;

    /// <summary>Loads the map and picks goal cells from the instance's tasks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var instance = LorrInstance.Load(KitData.Path("lorr/2024-dev/warehouse.domain/warehouseTest_10000.json"));
        _grid = new CompactGrid(instance.Map);
        _goals = instance.Tasks.Take(256).Select(t => t[0]).ToArray();
    }

    /// <summary>One per-cell table (one BFS over cells).</summary>
    [Benchmark(Baseline = true)]
    public CellDistanceTable PerCell() => CellDistanceTable.Compute(_grid, _goals[_next++ & 255]);

    /// <summary>One exact (cell, heading) table (one BFS over states).</summary>
    [Benchmark]
    public HeadingDistanceTable PerHeading() => HeadingDistanceTable.Compute(_grid, _goals[_next++ & 255]);
}

/// <summary>
/// Steady-state planning steps with 10,000 robots on the 500x140 warehouse (lazy tables, warmed
/// for 30 steps first so the tables of current goals exist). Run with <c>--filter *TenThousand*</c>.
/// The robots do not move between invocations (every call plans from the same poses), so this
/// measures the per-step cost of scheduling, table lookups and PIBT, not throughput.
/// </summary>
public class TenThousandRobotStepBenchmarks
{
    private PibtFleetPlanner _planner = null!;
    private RobotPose[] _poses = [];

    /// <summary>Builds the planner, reveals tasks and warms the tables.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var instance = LorrInstance.Load(KitData.Path("lorr/2024-dev/warehouse.domain/warehouseTest_10000.json"));
        _planner = new PibtFleetPlanner(instance.Map, instance.TeamSize);
        for (var i = 0; i < 2 * instance.TeamSize; i++)
        {
            _planner.SubmitTask(new PlanningTask(i, instance.Tasks[i % instance.Tasks.Count]));
        }

        _poses = instance.StartCells.Take(instance.TeamSize).Select(c => new RobotPose(c, Heading.East)).ToArray();
        for (var s = 0; s < 30; s++)
        {
            _planner.PlanStep(_poses, TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>One step with a 1000 ms budget.</summary>
    [Benchmark]
    public int PlanStep() => _planner.PlanStep(_poses, TimeSpan.FromSeconds(1)).Actions.Length;
}

/// <summary>Finds the kit's data folder (../shared/data next to the repository) or WH_KIT_DATA.</summary>
internal static class KitData
{
    public static string Path(string relative)
    {
        var env = Environment.GetEnvironmentVariable("WH_KIT_DATA");
        if (!string.IsNullOrEmpty(env))
        {
            return System.IO.Path.Combine(env, relative);
        }

        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "WarehouseHybrid.sln")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException($"WarehouseHybrid.sln not found above {AppContext.BaseDirectory}; set WH_KIT_DATA to the kit's data folder");
        }

        return System.IO.Path.Combine(dir.FullName, "..", "shared", "data", relative);
    }
}
