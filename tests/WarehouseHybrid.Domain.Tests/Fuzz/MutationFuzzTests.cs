using System.Text;
using CsCheck;
using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.MovingAi;
using WarehouseHybrid.Domain.Tests.Support;

namespace WarehouseHybrid.Domain.Tests.Fuzz;

/// <summary>
/// Random character, line and byte mutations of real files: a parser may accept the result or
/// reject it with <see cref="DomainFormatException"/> (located at a line inside the text), never
/// anything else.
/// </summary>
public sealed class MutationFuzzTests
{
    private const string Alphabet = "0123456789,,,#.@TSEGOWx- \t\r\n\n{}[]\":.eE+";

    private static readonly string MapText = File.ReadAllText(DataFiles.Full("lorr/2026-example/warehouse.domain/maps/warehouse_small.map"));
    private static readonly GridMap Map = GridMapReader.ParseText(MapText, "warehouse_small.map");
    private static readonly string RandomMapText = File.ReadAllText(DataFiles.Full("lorr/2026-example/random.domain/maps/random-64-64-10.map"));
    private static readonly GridMap RandomMap = GridMapReader.ParseText(RandomMapText, "random-64-64-10.map");
    private static readonly string AgentsText = File.ReadAllText(DataFiles.Full("lorr/2026-example/warehouse.domain/agents/warehouse_small_200.agents"));
    private static readonly string TasksText = FirstTasks("lorr/2026-example/random.domain/tasks/random-example_400.tasks", 398);
    private static readonly string ConfigText = File.ReadAllText(DataFiles.Full("lorr/2026-example/random.domain/random-example_400.json"));
    private static readonly string ScenText = File.ReadAllText(DataFiles.Full("movingai/scen-random/random-32-32-20-random-1.scen"));
    private static readonly GridMap Random32 = GridMapReader.Load(DataFiles.Full("movingai/mapf-map/random-32-32-20.map"));

    [Fact]
    public void The_unmutated_fixtures_parse()
    {
        GridMapReader.ParseText(MapText, "m.map");
        Assert.Equal(200, LorrAgentsReader.ParseText(AgentsText, "a.agents", Map).Count);
        Assert.Equal(398, LorrTasksReader.ParseText(TasksText, "t.tasks", RandomMap).Count);
        Assert.Equal(LorrGeneration.Lorr2026, LorrConfig.ParseText(ConfigText, "c.json").Generation);
        Assert.Equal(409, MovingAiScenarioReader.ParseText(ScenText, "s.scen", Random32).Entries.Count);
    }

    [Fact]
    public void Mutated_maps_never_fail_with_anything_but_a_located_format_error() =>
        Fuzz(MapText, t => GridMapReader.ParseText(t, "m.map"));

    [Fact]
    public void Mutated_agents_files_never_fail_with_anything_but_a_located_format_error() =>
        Fuzz(AgentsText, t => LorrAgentsReader.ParseText(t, "a.agents", Map));

    [Fact]
    public void Mutated_tasks_files_never_fail_with_anything_but_a_located_format_error() =>
        Fuzz(TasksText, t => LorrTasksReader.ParseText(t, "t.tasks", RandomMap));

    [Fact]
    public void Mutated_instance_configs_never_fail_with_anything_but_a_located_format_error() =>
        Fuzz(ConfigText, t => LorrConfig.ParseText(t, "c.json"));

    [Fact]
    public void Mutated_scenarios_never_fail_with_anything_but_a_located_format_error() =>
        Fuzz(ScenText, t => MovingAiScenarioReader.ParseText(t, "s.scen", Random32));

    [Fact]
    public void Mutated_bytes_decoded_as_utf8_never_break_the_map_reader()
    {
        var bytes = Encoding.UTF8.GetBytes(MapText);
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var copy = (byte[])bytes.Clone();
            for (var k = rng.Next(1, 6); k > 0; k--)
            {
                copy[rng.Next(copy.Length)] = (byte)rng.Next(256);
            }

            Attempt(Encoding.UTF8.GetString(copy), t => GridMapReader.Parse(new StringReader(t), "m.map"));
        }, iter: 300);
    }

    /// <summary>The comment line, a count of n, and the first n tasks of a real tasks file (keeps each run fast).</summary>
    private static string FirstTasks(string relative, int n)
    {
        var lines = File.ReadAllLines(DataFiles.Full(relative));
        return $"{lines[0]}\n{n}\n{string.Join('\n', lines.Skip(2).Take(n))}\n";
    }

    private static void Fuzz(string original, Action<string> parse) =>
        Gen.Int.Sample(seed => Attempt(Mutate(original, new Random(seed)), parse), iter: 400);

    private static void Attempt(string text, Action<string> parse)
    {
        try
        {
            parse(text);
        }
        catch (DomainFormatException ex)
        {
            var lines = text.Split('\n').Length;
            Assert.InRange(ex.Line, 1, lines + 1);
            Assert.False(string.IsNullOrWhiteSpace(ex.Detail));
        }
    }

    private static string Mutate(string text, Random rng)
    {
        var sb = new StringBuilder(text);
        for (var k = rng.Next(1, 5); k > 0 && sb.Length > 0; k--)
        {
            var at = rng.Next(sb.Length);
            switch (rng.Next(7))
            {
                case 0:
                    sb[at] = Alphabet[rng.Next(Alphabet.Length)];
                    break;
                case 1:
                    sb.Insert(at, Alphabet[rng.Next(Alphabet.Length)]);
                    break;
                case 2:
                    sb.Remove(at, 1);
                    break;
                case 3:
                    sb.Length = at; // truncation
                    break;
                case 4:
                    sb[at] = (char)rng.Next(0x20, 0xFFFF);
                    break;
                case 5:
                    // Delete or duplicate the line around `at`.
                    var s = sb.ToString();
                    var start = s.LastIndexOf('\n', Math.Max(at - 1, 0)) + 1;
                    var end = s.IndexOf('\n', at);
                    end = end < 0 ? s.Length : end + 1;
                    if (rng.Next(2) == 0)
                    {
                        sb.Remove(start, end - start);
                    }
                    else
                    {
                        sb.Insert(start, s[start..end]);
                    }

                    break;
                default:
                    // Replace a digit run with a large or negative number.
                    if (char.IsAsciiDigit(sb[at]))
                    {
                        sb.Insert(at, rng.Next(3) switch { 0 => "-", 1 => "99999999999", _ => "0" });
                    }

                    break;
            }
        }

        return sb.ToString();
    }
}
