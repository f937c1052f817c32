using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Domain.Tests.Support;
using WarehouseHybrid.Domain.Validation;

namespace WarehouseHybrid.Domain.Tests.Lorr;

public sealed class LorrInstanceRealDataTests
{
    private const LorrGeneration G23 = LorrGeneration.Lorr2023;
    private const LorrGeneration G24 = LorrGeneration.Lorr2024;
    private const LorrGeneration G26 = LorrGeneration.Lorr2026;

    // The "Instances" table of ../shared/data/README.md: config -> generation, teamSize, tasks,
    // errands-per-task histogram, numTasksReveal.
    private static readonly Dictionary<string, (LorrGeneration Gen, int Team, int Tasks, string Errands, double Reveal)> Table = new()
    {
        ["lorr/2023-example/random.domain/EI23-random_200.json"] = (G23, 200, 20000, "1:20000", 1),
        ["lorr/2023-example/random.domain/EI23-random_50.json"] = (G23, 50, 5000, "1:5000", 1),
        ["lorr/2023-example/random.domain/EI23-random_800.json"] = (G23, 800, 80000, "1:80000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-sortation_large_2000.json"] = (G23, 2000, 500000, "1:500000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-sortation_large_400.json"] = (G23, 400, 500000, "1:500000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-sortation_large_8000.json"] = (G23, 8000, 500000, "1:500000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-warehouse_large_1000.json"] = (G23, 1000, 500000, "1:500000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-warehouse_large_400.json"] = (G23, 400, 500000, "1:500000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-warehouse_large_8000.json"] = (G23, 8000, 500000, "1:500000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-warehouse_small_10.json"] = (G23, 10, 20000, "1:20000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-warehouse_small_100.json"] = (G23, 100, 20000, "1:20000", 1),
        ["lorr/2023-example/warehouse.domain/EI23-warehouse_small_400.json"] = (G23, 400, 20000, "1:20000", 1),
        ["lorr/2024-dev/random.domain/randomTest_100.json"] = (G24, 100, 50000, "2:50000", 1),
        ["lorr/2024-dev/random.domain/randomTest_400.json"] = (G24, 400, 50000, "2:50000", 1.5),
        ["lorr/2024-dev/random.domain/randomTest_800.json"] = (G24, 800, 50000, "2:50000", 1),
        ["lorr/2024-dev/warehouse.domain/sortationTest_10000.json"] = (G24, 10000, 50000, "2:50000", 2),
        ["lorr/2024-dev/warehouse.domain/sortationTest_2000.json"] = (G24, 2000, 50000, "2:50000", 2),
        ["lorr/2024-dev/warehouse.domain/sortationTest_20000.json"] = (G24, 20000, 50000, "2:50000", 2),
        ["lorr/2024-dev/warehouse.domain/warehouseTest_10000.json"] = (G24, 10000, 50000, "2:50000", 2),
        ["lorr/2024-dev/warehouse.domain/warehouseTest_2000.json"] = (G24, 2000, 50000, "2:50000", 1.5),
        ["lorr/2024-dev/warehouse.domain/warehouseTest_20000.json"] = (G24, 20000, 50000, "2:50000", 2),
        ["lorr/2024-example/random.domain/random_32_32_20_100.json"] = (G24, 100, 100000, "2:100000", 1.5),
        ["lorr/2024-example/warehouse.domain/sortation_large_2000.json"] = (G24, 2000, 100000, "2:100000", 1.5),
        ["lorr/2024-example/warehouse.domain/warehouse_large_5000.json"] = (G24, 5000, 100000, "2:100000", 1.5),
        ["lorr/2026-example/random.domain/random-example_400.json"] = (G26, 400, 3200, "2:1076, 3:1071, 4:1053", 1.5),
        ["lorr/2026-example/warehouse.domain/fulfill-example_2500.json"] = (G26, 2500, 22500, "2:11273, 3:11227", 1.5),
        ["lorr/2026-example/warehouse.domain/warehouse_small_200.json"] = (G26, 200, 20000, "1:20000", 1),
    };

    public static TheoryData<string> AllConfigs() => new(DataFiles.Under("lorr", "*.json").Select(DataFiles.Relative));

    [Theory]
    [MemberData(nameof(AllConfigs))]
    public void Every_real_instance_loads_with_the_generation_team_and_tasks_of_the_readme(string relative)
    {
        Assert.True(Table.TryGetValue(relative, out var e), $"no README row for {relative}");
        var instance = LorrInstance.Load(DataFiles.Full(relative));

        Assert.Equal(e.Gen, instance.Generation);
        Assert.Equal(e.Team, instance.TeamSize);
        Assert.Equal(e.Team, instance.StartCells.Count);
        Assert.Equal(e.Tasks, instance.Tasks.Count);
        Assert.Equal(e.Errands, Histogram(instance.Tasks));
        Assert.Equal(e.Reveal, instance.NumTasksReveal);
        Assert.Equal(Path.GetFileNameWithoutExtension(relative), instance.Name);
        Assert.Equal(e.Gen == G26, instance.DelayConfig is not null);
        Assert.Equal(e.Gen == G23 ? "roundrobin" : null, instance.Config.TaskAssignmentStrategy);

        // Every start is a legal, distinct pose by the project's one validator.
        var validator = new PlanValidator(instance.Map);
        Assert.True(validator.ValidatePoses(instance.CreateStartPoses()));
    }

    [Fact]
    public void Every_readme_row_has_its_config_in_the_data_folder()
    {
        var present = DataFiles.Under("lorr", "*.json").Select(DataFiles.Relative).ToHashSet();
        Assert.Equal(Table.Keys.Order(StringComparer.Ordinal), Table.Keys.Where(present.Contains).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_2024_warehouse_large_5000_instance_has_5000_robots_and_100000_two_errand_tasks()
    {
        var instance = LorrInstance.Load(DataFiles.Full("lorr/2024-example/warehouse.domain/warehouse_large_5000.json"));
        Assert.Equal(5000, instance.StartCells.Count);
        Assert.Equal(100_000, instance.Tasks.Count);
        Assert.All(instance.Tasks, t => Assert.Equal(2, t.Length));
        Assert.Equal("warehouse_large.map", instance.Map.Name);
        Assert.EndsWith("sortation_large_5000.agents", instance.AgentsPath, StringComparison.Ordinal);
        Assert.Equal(1, instance.AgentCounter);
        Assert.Equal("2024 LoRR", instance.Config.Version);
    }

    [Fact]
    public void Tasks_keep_file_order_and_errand_order()
    {
        var instance = LorrInstance.Load(DataFiles.Full("lorr/2026-example/random.domain/random-example_400.json"));
        var lines = File.ReadAllLines(instance.TasksPath);
        Assert.Equal("# version for LoRR 2026", lines[0]);
        Assert.Equal(lines[2], string.Join(',', instance.Tasks[0]));
        Assert.Equal(lines[^1], string.Join(',', instance.Tasks[^1]));
        var agents = File.ReadAllLines(instance.AgentsPath);
        Assert.Equal(int.Parse(agents[2], System.Globalization.CultureInfo.InvariantCulture), instance.StartCells[0]);
        Assert.All(instance.CreateStartPoses(), p => Assert.Equal(Heading.East, p.Heading));
    }

    [Fact]
    public void The_2026_random_example_has_agent_counter_3_and_bernoulli_delays_with_p_0_01()
    {
        var instance = LorrInstance.Load(DataFiles.Full("lorr/2026-example/random.domain/random-example_400.json"));
        Assert.Equal(3, instance.AgentCounter);
        Assert.Equal(1.0, instance.Config.AgentSize);
        Assert.Equal(new LorrDelayConfig(0, 1, 4, DelayEventModel.Bernoulli, 0.01, DelayDurationModel.Uniform, 0.5, 0.22), instance.DelayConfig);
    }

    [Fact]
    public void The_2026_fulfill_example_has_poisson_delays_with_gaussian_durations()
    {
        var instance = LorrInstance.Load(DataFiles.Full("lorr/2026-example/warehouse.domain/fulfill-example_2500.json"));
        var d = Assert.IsType<LorrDelayConfig>(instance.DelayConfig);
        Assert.Equal((DelayEventModel.Poisson, 0.003, 2, 8, DelayDurationModel.Gaussian), (d.EventModel, d.PDelay, d.MinDelay, d.MaxDelay, d.DurationModel));
        Assert.Equal(3, instance.AgentCounter);
    }

    [Fact]
    public void The_2026_warehouse_small_example_has_agent_counter_10_and_ignores_unknown_keys()
    {
        // This config also carries "poissonLambda", which the format documentation does not define.
        var instance = LorrInstance.Load(DataFiles.Full("lorr/2026-example/warehouse.domain/warehouse_small_200.json"));
        Assert.Equal(10, instance.AgentCounter);
        Assert.Equal((DelayEventModel.Bernoulli, 0.02, 5, DelayDurationModel.Gaussian, 0.35), (instance.DelayConfig!.EventModel, instance.DelayConfig.PDelay, instance.DelayConfig.MaxDelay, instance.DelayConfig.DurationModel, instance.DelayConfig.GaussStdRatio));
    }

    private static string Histogram(IReadOnlyList<int[]> tasks) =>
        string.Join(", ", tasks.GroupBy(t => t.Length).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}"));
}
