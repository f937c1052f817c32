using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.Tests.Support;

namespace WarehouseHybrid.Domain.Tests.Lorr;

public sealed class LorrMalformedInputTests
{
    // 4 x 3:  cells 0..3 / 4..7 / 8..11; cell 5 and 10 are obstacles.
    private const string MapText = "type octile\nheight 3\nwidth 4\nmap\n....\n.@..\n..T.\n";
    private static readonly GridMap Map = GridMapReader.ParseText(MapText, "tiny.map");

    // ---------- .agents ----------

    [Fact]
    public void Agents_with_comment_count_and_cells_parse_in_order()
    {
        var cells = LorrAgentsReader.ParseText("# version for LoRR 2024\n3\n0\n7\n11\n", "a.agents", Map);
        Assert.Equal(new[] { 0, 7, 11 }, cells);
    }

    [Theory]
    [InlineData("", 1, "holds no count of agents")]
    [InlineData("# only a comment\n", 1, "holds no count of agents")]
    [InlineData("three\n0\n", 1, "expected the number of agents, found 'three'")]
    [InlineData("3\n0\n1\n", 4, "file declares 3 agents but lists only 2")]
    [InlineData("2\n0\n1\n2\n", 4, "file declares 2 agents but lists more")]
    [InlineData("2\n0\nx1\n", 3, "bad start cell id 'x1'")]
    [InlineData("2\n0\n99999999999\n", 3, "bad start cell id")]
    [InlineData("2\n0\n12\n", 3, "start cell 12 is outside the 4x3 map (cells 0..11)")]
    [InlineData("2\n0\n-1\n", 3, "start cell -1 is outside")]
    [InlineData("2\n0\n5\n", 3, "start cell 5 (row 1, column 1) is an obstacle on tiny.map")]
    [InlineData("3\n0\n7\n0\n", 4, "start cell 0 of agent 2 is already the start of another agent (line 2)")]
    [InlineData("2\n0\n\n1\n", 3, "empty line where agents 1 of 2 was expected")]
    public void Malformed_agents_files_name_file_line_and_problem(string text, int line, string detail)
    {
        Located.Throws(() => LorrAgentsReader.ParseText(text, "some/dir/bad.agents", Map), "bad.agents", line, detail);
    }

    [Fact]
    public void A_truncated_real_agents_file_reports_how_many_entries_it_lists()
    {
        var path = DataFiles.Full("lorr/2023-example/random.domain/agents/random_50.agents");
        var lines = File.ReadAllLines(path);
        var truncated = string.Join('\n', lines.Take(31));
        Located.Throws(() => LorrAgentsReader.ParseText(truncated, path, null), "random_50.agents", 32, "file declares 50 agents but lists only 30");
    }

    // ---------- .tasks ----------

    [Fact]
    public void Tasks_of_one_or_many_errands_parse_in_file_and_visiting_order()
    {
        var tasks = LorrTasksReader.ParseText("# version for LoRR 2026\n3\n0\n1,2,3\n 4 , 6 \n", "t.tasks", Map);
        Assert.Equal(new[] { new[] { 0 }, new[] { 1, 2, 3 }, new[] { 4, 6 } }, tasks);
    }

    [Theory]
    [InlineData("2\n0,1\n", 3, null, "file declares 2 tasks but lists only 1")]
    [InlineData("1\n0,1\n2,3\n", 3, null, "file declares 1 tasks but lists more")]
    [InlineData("1\n0,a\n", 2, 3, "bad errand cell id 'a'")]
    [InlineData("1\n0,,1\n", 2, 3, "missing errand cell id")]
    [InlineData("1\n0,1,\n", 2, 5, "missing errand cell id")]
    [InlineData("1\n0, 12\n", 2, 4, "errand cell 12 is outside the 4x3 map")]
    [InlineData("1\n0,1,10\n", 2, 5, "errand cell 10 (row 2, column 2) is an obstacle")]
    [InlineData("1.5\n0\n", 1, null, "expected the number of tasks, found '1.5'")]
    public void Malformed_tasks_files_name_file_line_column_and_problem(string text, int line, int? column, string detail)
    {
        var ex = Located.Throws(() => LorrTasksReader.ParseText(text, "bad.tasks", Map), "bad.tasks", line, detail);
        Assert.Equal(column, ex.Column);
    }

    [Fact]
    public void Tasks_without_a_map_are_not_range_checked()
    {
        Assert.Equal(new[] { new[] { 99999 } }, LorrTasksReader.ParseText("1\n99999\n", "t.tasks"));
    }

    // ---------- .json config ----------

    private const string Good2024 = """
        {
            "mapFile": "maps/tiny.map",
            "agentFile": "agents/tiny.agents",
            "teamSize": 2,
            "taskFile": "tasks/tiny.tasks",
            "numTasksReveal": 1.5,
            "version": "2024 LoRR"
        }
        """;

    [Fact]
    public void A_config_without_version_is_2023_and_keeps_its_assignment_strategy()
    {
        var c = LorrConfig.ParseText("""{"mapFile":"m","agentFile":"a","taskFile":"t","teamSize":1,"numTasksReveal":1,"taskAssignmentStrategy":"roundrobin"}""", "c.json");
        Assert.Equal((LorrGeneration.Lorr2023, "roundrobin", 1, (LorrDelayConfig?)null), (c.Generation, c.TaskAssignmentStrategy, c.AgentCounter, c.DelayConfig));
    }

    [Fact]
    public void A_2026_config_without_agent_counter_gets_the_documented_default_of_10()
    {
        var c = LorrConfig.ParseText(Good2024.Replace("2024 LoRR", "2026 LoRR", StringComparison.Ordinal), "c.json");
        Assert.Equal((LorrGeneration.Lorr2026, 10, 1.0), (c.Generation, c.AgentCounter, c.AgentSize));
    }

    [Theory]
    [InlineData("\"teamSize\": 2,", "", 8, "missing required key \"teamSize\"")]
    [InlineData("\"teamSize\": 2,", "\"teamSize\": \"two\",", 4, "teamSize must be an integer, got string \"two\"")]
    [InlineData("\"teamSize\": 2,", "\"teamSize\": 2.5,", 4, "teamSize must be an integer")]
    [InlineData("\"teamSize\": 2,", "\"teamSize\": 0,", 4, "teamSize must be positive")]
    [InlineData("\"numTasksReveal\": 1.5,", "\"numTasksReveal\": -1,", 6, "numTasksReveal must be a positive number")]
    [InlineData("\"version\": \"2024 LoRR\"", "\"version\": \"2025 LoRR\"", 7, "unknown version '2025 LoRR'")]
    [InlineData("\"mapFile\": \"maps/tiny.map\",", "\"mapFile\": 7,", 2, "mapFile must be a string")]
    [InlineData("\"mapFile\": \"maps/tiny.map\",", "\"mapFile\": \"\",", 2, "mapFile must name a file")]
    public void Bad_config_values_name_the_json_line_of_the_key(string find, string replace, int line, string detail)
    {
        var json = Good2024.Replace(find, replace, StringComparison.Ordinal);
        Located.Throws(() => LorrConfig.ParseText(json, "conf.json"), "conf.json", line, detail);
    }

    [Fact]
    public void Invalid_json_names_line_and_column_of_the_syntax_error()
    {
        var json = Good2024.Replace("\"teamSize\": 2,", "\"teamSize\": 2 ,,", StringComparison.Ordinal);
        var ex = Located.Throws(() => LorrConfig.ParseText(json, "conf.json"), "conf.json", 4, "invalid JSON");
        Assert.NotNull(ex.Column);
        Assert.IsType<System.Text.Json.JsonException>(ex.InnerException, exactMatch: false);
    }

    [Theory]
    [InlineData("[1, 2]", 1, "must be a JSON object")]
    [InlineData("{", 1, "invalid JSON")]
    [InlineData("", 1, "invalid JSON")]
    public void Non_object_or_empty_json_is_rejected(string json, int line, string detail)
    {
        Located.Throws(() => LorrConfig.ParseText(json, "conf.json"), "conf.json", line, detail);
    }

    private const string Delay = """
        {
            "mapFile": "m", "agentFile": "a", "taskFile": "t", "teamSize": 4, "numTasksReveal": 1,
            "version": "2026 LoRR",
            "delayConfig": {
                "seed": 7,
                "minDelay": 1,
                "maxDelay": 4,
                "eventModel": "bernoulli",
                "pDelay": 0.01,
                "durationModel": "uniform",
                "gaussMeanRatio": 0.5,
                "gaussStdRatio": 0.22
            }
        }
        """;

    [Theory]
    [InlineData("\"eventModel\": \"bernoulli\"", "\"eventModel\": \"weibull\"", 8, "eventModel must be \"bernoulli\" or \"poisson\", got \"weibull\"")]
    [InlineData("\"pDelay\": 0.01", "\"pDelay\": 1.5", 9, "pDelay must be in [0, 1]")]
    [InlineData("\"maxDelay\": 4", "\"maxDelay\": 0", 7, "delay range must satisfy")]
    [InlineData("\"seed\": 7,", "", 13, "missing required key \"delayConfig.seed\"")]
    [InlineData("\"durationModel\": \"uniform\"", "\"durationModel\": null", 10, "missing required key \"delayConfig.durationModel\"")]
    public void Bad_delay_config_values_name_their_line(string find, string replace, int line, string detail)
    {
        var json = Delay.Replace(find, replace, StringComparison.Ordinal);
        Located.Throws(() => LorrConfig.ParseText(json, "d.json"), "d.json", line, detail);
    }

    [Fact]
    public void A_valid_delay_config_reads_every_field()
    {
        Assert.Equal(
            new LorrDelayConfig(7, 1, 4, DelayEventModel.Bernoulli, 0.01, DelayDurationModel.Uniform, 0.5, 0.22),
            LorrConfig.ParseText(Delay, "d.json").DelayConfig);
    }

    // ---------- whole instance from files ----------

    private static TempFolder Instance(string agents = "2\n0\n7\n", string tasks = "2\n1,2\n3\n", string json = Good2024, string map = MapText)
    {
        var tmp = new TempFolder();
        tmp.Write("maps/tiny.map", map);
        tmp.Write("agents/tiny.agents", agents);
        tmp.Write("tasks/tiny.tasks", tasks);
        tmp.Write("tiny.json", json);
        return tmp;
    }

    [Fact]
    public void A_small_instance_from_files_loads_with_resolved_paths()
    {
        using var tmp = Instance(agents: "# version for LoRR 2024\n3\n0\n7\n11\n");
        var inst = LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json"));
        Assert.Equal(new[] { 0, 7 }, inst.StartCells);
        Assert.Equal(3, inst.AgentsListed);
        Assert.Equal(2, inst.Tasks.Count);
        Assert.Equal(3, inst.ErrandCount);
        Assert.Equal(Path.Combine(tmp.Path, "maps", "tiny.map"), inst.MapPath);
        Assert.Equal("tiny", inst.Name);
    }

    [Fact]
    public void A_missing_referenced_file_is_reported_at_the_json_line_naming_it()
    {
        using var tmp = Instance(json: Good2024.Replace("tasks/tiny.tasks", "tasks/none.tasks", StringComparison.Ordinal));
        Located.Throws(() => LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json")), "tiny.json", 5, "taskFile 'tasks/none.tasks' not found");
    }

    [Fact]
    public void A_team_larger_than_the_agents_listed_is_reported_at_team_size()
    {
        using var tmp = Instance(json: Good2024.Replace("\"teamSize\": 2", "\"teamSize\": 3", StringComparison.Ordinal));
        Located.Throws(() => LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json")), "tiny.json", 4, "teamSize is 3 but agents/tiny.agents lists only 2 start cells");
    }

    [Fact]
    public void An_obstacle_start_is_reported_in_the_agents_file()
    {
        using var tmp = Instance(agents: "2\n0\n10\n");
        var ex = Located.Throws(() => LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json")), "tiny.agents", 3, "start cell 10 (row 2, column 2) is an obstacle");
        Assert.Equal(Path.Combine(tmp.Path, "agents", "tiny.agents"), ex.File);
    }

    [Fact]
    public void A_duplicate_start_is_reported_in_the_agents_file()
    {
        using var tmp = Instance(agents: "2\n7\n7\n");
        Located.Throws(() => LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json")), "tiny.agents", 3, "already the start of another agent (line 2)");
    }

    [Fact]
    public void An_errand_out_of_range_is_reported_in_the_tasks_file()
    {
        using var tmp = Instance(tasks: "2\n1,2\n3,12\n");
        var ex = Located.Throws(() => LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json")), "tiny.tasks", 3, "errand cell 12 is outside");
        Assert.Equal(3, ex.Column);
    }

    [Fact]
    public void A_map_row_of_the_wrong_width_is_reported_in_the_map_file()
    {
        using var tmp = Instance(map: MapText.Replace(".@..\n", ".@...\n", StringComparison.Ordinal));
        Located.Throws(() => LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json")), "tiny.map", 6, "row 1 has 5 characters, expected 4");
    }

    [Fact]
    public void Bad_json_in_an_instance_file_is_a_domain_format_error()
    {
        using var tmp = Instance(json: "{ \"mapFile\": \"maps/tiny.map\", \n \"teamSize\": }");
        Assert.Equal(2, Assert.Throws<DomainFormatException>(() => LorrInstance.Load(Path.Combine(tmp.Path, "tiny.json"))).Line);
    }
}
