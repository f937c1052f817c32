using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.MovingAi;
using WarehouseHybrid.Hil.Cli;
using WarehouseHybrid.Hil.Mapf;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Mapf;

public sealed partial class MapfCommandTests : IDisposable
{
    private const string RandomMap = "movingai/mapf-map/random-32-32-20.map";
    private const string RandomScen = "movingai/scen-random/random-32-32-20-random-1.scen";
    private const string WarehouseMap = "movingai/mapf-map/warehouse-10-20-10-2-1.map";
    private const string WarehouseScen = "movingai/scen-random/warehouse-10-20-10-2-1-random-1.scen";

    // 8x6 open room with a 2-cell pillar; the scenario has three agents.
    private const string RoomMap = "type octile\nheight 6\nwidth 8\nmap\n........\n........\n...@@...\n........\n........\n........\n";
    private const string RoomScen = "version 1\n0\troom.map\t8\t6\t0\t0\t7\t5\t9\n0\troom.map\t8\t6\t7\t0\t0\t5\t9\n0\troom.map\t8\t6\t1\t1\t6\t4\t6\n";

    private readonly string _folder = Directory.CreateTempSubdirectory("mapf-command-tests").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static MapfRunOptions Options(string map, string scen, int agents, int timeMs = 3_000, string? output = null, int seed = 0) =>
        new() { Map = map, Scenario = scen, Agents = agents, TimeMs = timeMs, Output = output, Seed = seed };

    private static async Task<(MapfRunOutcome Outcome, string Stdout, string Stderr)> Run(MapfRunOptions options)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var outcome = await MapfRunner.RunAsync(options, stdout, stderr);
        return (outcome, stdout.ToString(), stderr.ToString());
    }

    private static JsonElement LastLine(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return JsonDocument.Parse(lines[^1]).RootElement.Clone();
    }

    [Fact]
    public async Task Random_map_with_50_agents_is_solved_validly_within_1_5_times_the_lower_bound()
    {
        var (outcome, stdout, _) = await Run(Options(RepoPaths.Data(RandomMap), RepoPaths.Data(RandomScen), 50));

        Assert.Equal(0, outcome.ExitCode);
        var s = LastLine(stdout);
        Assert.True(s.GetProperty("solved").GetBoolean());
        Assert.True(s.GetProperty("valid").GetBoolean());
        Assert.Equal("random-32-32-20.map", s.GetProperty("map").GetString());
        Assert.Equal("random-32-32-20-random-1.scen", s.GetProperty("scen").GetString());
        Assert.Equal(50, s.GetProperty("agents").GetInt32());
        Assert.Equal(0, s.GetProperty("generatedAgents").GetInt32());
        var soc = s.GetProperty("sumOfCosts").GetInt64();
        var lb = s.GetProperty("lowerBound").GetInt64();
        Assert.InRange(s.GetProperty("ratio").GetDouble(), 1.0, 1.5);
        Assert.Equal((double)soc / lb, s.GetProperty("ratio").GetDouble(), 3);
        foreach (var key in new[] { "makespan", "runtimeMs", "initialSumOfCosts", "firstSolutionMs", "peakMemoryMb" })
        {
            Assert.Equal(JsonValueKind.Number, s.GetProperty(key).ValueKind);
        }

        Assert.Contains("sum of costs:", stdout, StringComparison.Ordinal);
        Assert.Contains("verified: valid", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warehouse_with_100_agents_is_solved_validly_and_the_lower_bound_is_the_4_connected_one()
    {
        var output = Path.Combine(_folder, "w.txt");
        var (outcome, stdout, _) = await Run(Options(RepoPaths.Data(WarehouseMap), RepoPaths.Data(WarehouseScen), 100, output: output));

        Assert.Equal(0, outcome.ExitCode);
        var s = LastLine(stdout);
        Assert.True(s.GetProperty("valid").GetBoolean());
        Assert.InRange(s.GetProperty("ratio").GetDouble(), 1.0, 1.5);

        // The lower bound is the sum of BFS distances, which the scenario's octile lengths only bound from below.
        var map = GridMapReader.Load(RepoPaths.Data(WarehouseMap));
        var scen = MovingAiScenarioReader.Load(RepoPaths.Data(WarehouseScen), map);
        var octile = scen.Entries.Take(100).Sum(e => e.OptimalLength);
        Assert.True(s.GetProperty("lowerBound").GetInt64() >= (long)Math.Floor(octile));
    }

    [Fact]
    public async Task Agents_beyond_the_scenario_are_generated_distinct_and_deterministic()
    {
        var map = Write("room.map", RoomMap);
        var scen = Write("room.scen", RoomScen);
        var outA = Path.Combine(_folder, "a.txt");
        var outB = Path.Combine(_folder, "b.txt");
        var outC = Path.Combine(_folder, "c.txt");

        var (a, stdout, _) = await Run(Options(map, scen, 20, output: outA, seed: 4));
        var (b, _, _) = await Run(Options(map, scen, 20, output: outB, seed: 4));
        var (c, _, _) = await Run(Options(map, scen, 20, output: outC, seed: 5));

        Assert.Equal(0, a.ExitCode);
        Assert.Equal(17, LastLine(stdout).GetProperty("generatedAgents").GetInt32());
        Assert.Contains("3 from the scenario, 17 generated with seed 4", stdout, StringComparison.Ordinal);
        var fileA = SolutionFile.Read(outA);
        var starts = fileA.Starts;
        var goals = fileA.Goals;
        Assert.Equal(20, starts.Count);
        Assert.Equal(starts.Count, starts.Distinct().Count());
        Assert.Equal(goals.Count, goals.Distinct().Count());
        Assert.Equal([(0, 0), (7, 0), (1, 1)], starts.Take(3));
        Assert.Equal([(7, 5), (0, 5), (6, 4)], goals.Take(3));
        Assert.DoesNotContain((3, 2), starts);
        Assert.Equal(starts, SolutionFile.Read(outB).Starts);
        Assert.NotEqual(starts, SolutionFile.Read(outC).Starts);
        Assert.Equal(0, b.ExitCode + c.ExitCode);
    }

    [Fact]
    public async Task Solution_file_has_the_lacam_result_format_and_replays_to_the_goals()
    {
        var map = Write("room.map", RoomMap);
        var scen = Write("room.scen", RoomScen);
        var output = Path.Combine(_folder, "sol.txt");
        var (outcome, stdout, _) = await Run(Options(map, scen, 3, output: output));

        Assert.Equal(0, outcome.ExitCode);
        var s = LastLine(stdout);
        var file = SolutionFile.Read(output);
        Assert.Equal("3", file.Header["agents"]);
        Assert.Equal("room.map", file.Header["map_file"]);
        Assert.Equal("1", file.Header["solved"]);
        Assert.Equal(s.GetProperty("sumOfCosts").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), file.Header["soc"]);
        Assert.Equal(s.GetProperty("makespan").GetInt32() + 1, file.Steps.Count);
        Assert.Equal(file.Starts, file.Steps[0]);
        Assert.Equal(file.Goals, file.Steps[^1]);
        Assert.All(file.Steps, step => Assert.Equal(3, step.Count));
    }

    [Fact]
    public async Task Unsolvable_instance_exits_1_and_says_so()
    {
        var map = Write("line.map", "type octile\nheight 1\nwidth 5\nmap\n.....\n");
        var scen = Write("line.scen", "version 1\n0\tline.map\t5\t1\t0\t0\t4\t0\t4\n0\tline.map\t5\t1\t4\t0\t0\t0\t4\n");
        var (outcome, stdout, stderr) = await Run(Options(map, scen, 2, timeMs: 30_000));

        Assert.Equal(1, outcome.ExitCode);
        var s = LastLine(stdout);
        Assert.False(s.GetProperty("solved").GetBoolean());
        Assert.Equal("unsolvable", s.GetProperty("status").GetString());
        Assert.False(s.GetProperty("valid").GetBoolean());
        Assert.Contains("no solution", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing-map", "--map")]
    [InlineData("missing-scen", "--scen")]
    [InlineData("zero-agents", "--agents must be positive")]
    [InlineData("zero-time", "--time-ms must be positive")]
    [InlineData("no-output-folder", "--output folder")]
    public async Task Bad_arguments_exit_2_naming_the_option(string which, string expected)
    {
        var map = Write("room.map", RoomMap);
        var scen = Write("room.scen", RoomScen);
        var o = which switch
        {
            "missing-map" => Options(Path.Combine(_folder, "nope.map"), scen, 3),
            "missing-scen" => Options(map, Path.Combine(_folder, "nope.scen"), 3),
            "zero-agents" => Options(map, scen, 0),
            "zero-time" => Options(map, scen, 3, timeMs: 0),
            _ => Options(map, scen, 3, output: Path.Combine(_folder, "no", "such", "x.txt")),
        };
        var (outcome, stdout, stderr) = await Run(o);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Theory]
    [InlineData("type octile\nheight 3\nwidth 8\nmap\n........\n.......\n........\n", RoomScen, "room.map line 6: row 1 has 7 characters, expected 8")]
    [InlineData(RoomMap, "version 1\n0\troom.map\t8\t6\t0\t0\t7\tx\t9\n", "room.scen line 2, column")]
    [InlineData(RoomMap, "version 1\n0\troom.map\t9\t6\t0\t0\t7\t5\t9\n", "room.scen line 2: scenario is for a 9x6 map")]
    [InlineData(RoomMap, "version 1\n0\troom.map\t8\t6\t3\t2\t7\t5\t9\n", "room.scen line 2: start (x 3, y 2) is an obstacle")]
    [InlineData(RoomMap, "version 1\n0\troom.map\t8\t6\t0\t0\t7\t5\t9\n0\troom.map\t8\t6\t0\t0\t6\t5\t9\n", "room.scen line 3: start (x 0, y 0) is also the start on line 2")]
    public async Task Malformed_files_exit_2_naming_file_and_line(string mapText, string scenText, string expected)
    {
        var (outcome, _, stderr) = await Run(Options(Write("room.map", mapText), Write("room.scen", scenText), 2));

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_agents_than_the_map_can_hold_is_an_argument_error()
    {
        var (outcome, _, stderr) = await Run(Options(Write("room.map", RoomMap), Write("room.scen", RoomScen), 47));

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--agents: 47 agents do not fit", stderr, StringComparison.Ordinal);
        Assert.Contains("46 cells", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_command_line_parses_the_documented_options()
    {
        var map = Write("room.map", RoomMap);
        var scen = Write("room.scen", RoomScen);
        var command = new RootCommand { MapfCommand.Create() };

        var ok = await command.Parse(["mapf", "--map", map, "--scen", scen, "--agents", "3", "--time-ms", "2000", "--seed", "1", "--threads", "1"]).InvokeAsync();
        var missing = await command.Parse(["mapf", "--map", map, "--scen", scen]).InvokeAsync();

        Assert.Equal(0, ok);
        Assert.NotEqual(0, missing);
    }

    [Fact]
    public void Largest_component_ignores_smaller_islands()
    {
        var map = GridMapReader.ParseText("type octile\nheight 2\nwidth 6\nmap\n..@...\n..@...\n", "islands.map");
        var cells = MapfInstanceBuilder.LargestComponent(map);
        Assert.Equal([3, 4, 5, 9, 10, 11], cells);
    }

    /// <summary>Reads the solution file format the command documents.</summary>
    private sealed partial record SolutionFile(Dictionary<string, string> Header, List<(int X, int Y)> Starts, List<(int X, int Y)> Goals, List<List<(int X, int Y)>> Steps)
    {
        public static SolutionFile Read(string path)
        {
            var header = new Dictionary<string, string>();
            var steps = new List<List<(int, int)>>();
            var inSolution = false;
            foreach (var line in File.ReadAllLines(path))
            {
                if (inSolution)
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    Assert.Equal(steps.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), line[..colon]);
                    steps.Add(Cells(line[(colon + 1)..]));
                }
                else if (line == "solution=")
                {
                    inSolution = true;
                }
                else
                {
                    var eq = line.IndexOf('=', StringComparison.Ordinal);
                    header[line[..eq]] = line[(eq + 1)..];
                }
            }

            return new SolutionFile(header, Cells(header["starts"]), Cells(header["goals"]), steps);
        }

        private static List<(int, int)> Cells(string text) =>
            [.. CellPattern().Matches(text).Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))];

        [GeneratedRegex(@"\((\d+),(\d+)\),")]
        private static partial Regex CellPattern();
    }
}
