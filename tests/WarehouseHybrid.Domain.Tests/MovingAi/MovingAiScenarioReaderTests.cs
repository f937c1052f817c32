using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.MovingAi;
using WarehouseHybrid.Domain.Tests.Support;

namespace WarehouseHybrid.Domain.Tests.MovingAi;

public sealed class MovingAiScenarioReaderTests
{
    public static TheoryData<string> AllScenarios() => new(DataFiles.Under("movingai", "*.scen").Select(DataFiles.Relative));

    [Theory]
    [MemberData(nameof(AllScenarios))]
    public void Every_real_scenario_matches_its_map_with_starts_and_goals_on_free_cells(string relative)
    {
        var path = DataFiles.Full(relative);
        var first = MovingAiScenarioReader.Load(path).Entries[0];
        var map = GridMapReader.Load(DataFiles.Full("movingai/mapf-map/" + first.MapFile));
        var scen = MovingAiScenarioReader.Load(path, map);

        // README: random-32-32-20 scenarios hold 409 pairs, the warehouse ones 1000.
        Assert.Equal(first.MapFile.StartsWith("random", StringComparison.Ordinal) ? 409 : 1000, scen.Entries.Count);
        Assert.All(scen.Entries, e =>
        {
            Assert.True(map.IsPassable(e.StartCell(map)));
            Assert.True(map.IsPassable(e.GoalCell(map)));
            Assert.True(e.OptimalLength >= map.Manhattan(e.StartCell(map), e.GoalCell(map)) * 0.7);
        });
    }

    [Fact]
    public void X_is_the_column_and_y_the_row()
    {
        var path = DataFiles.Full("movingai/scen-random/random-32-32-20-random-1.scen");
        var map = GridMapReader.Load(DataFiles.Full("movingai/mapf-map/random-32-32-20.map"));
        var e = MovingAiScenarioReader.Load(path, map).Entries[0];

        // First line: "7  random-32-32-20.map  32  32  5  16  31  24  31.31370850".
        Assert.Equal((7, "random-32-32-20.map", 5, 16, 31, 24, 31.3137085, 2), (e.Bucket, e.MapFile, e.StartX, e.StartY, e.GoalX, e.GoalY, e.OptimalLength, e.Line));
        Assert.Equal((16, 5), (map.Row(e.StartCell(map)), map.Column(e.StartCell(map))));
    }

    private const string Header = "version 1\n";
    private static readonly GridMap Map = GridMapReader.ParseText("type octile\nheight 3\nwidth 4\nmap\n....\n.@..\n....\n", "tiny.map");

    [Theory]
    [InlineData("", 1, null, "empty file")]
    [InlineData("version 2\n", 1, null, "expected 'version 1'")]
    [InlineData("1\ttiny.map\t4\t3\t0\t0\t3\t2\t5\n", 1, null, "expected 'version 1'")]
    [InlineData(Header + "1\ttiny.map\t4\t3\t0\t0\t3\t2\n", 2, null, "expected 9 tab-separated fields, found 8")]
    [InlineData(Header + "1\ttiny.map\t4\t3\t0\t0\t3\t2\t5\t9\n", 2, null, "found more")]
    [InlineData(Header + "1\ttiny.map\t4\t3\tzero\t0\t3\t2\t5\n", 2, 16, "bad start-x 'zero'")]
    [InlineData(Header + "1\ttiny.map\t4\t3\t0\t0\t3\t2\tfar\n", 2, 24, "bad optimal-length 'far'")]
    [InlineData(Header + "1\ttiny.map\t4\t3\t4\t0\t3\t2\t5\n", 2, null, "lies outside the declared 4x3 map")]
    [InlineData(Header + "1\ttiny.map\t5\t3\t0\t0\t3\t2\t5\n", 2, null, "scenario is for a 5x3 map but tiny.map is 4x3")]
    [InlineData(Header + "1\ttiny.map\t4\t3\t0\t0\t3\t2\t5\n1\ttiny.map\t4\t3\t1\t1\t3\t2\t5\n", 3, null, "start (x 1, y 1) is an obstacle")]
    [InlineData(Header + "1\ttiny.map\t4\t3\t0\t0\t1\t1\t5\n", 2, null, "goal (x 1, y 1) is an obstacle")]
    public void Malformed_scenarios_name_file_line_and_problem(string text, int line, int? column, string detail)
    {
        var ex = Located.Throws(() => MovingAiScenarioReader.ParseText(text, "bad.scen", Map), "bad.scen", line, detail);
        Assert.Equal(column, ex.Column);
    }

    [Fact]
    public void A_wrong_map_width_is_caught_on_a_real_scenario()
    {
        var path = DataFiles.Full("movingai/scen-random/warehouse-10-20-10-2-1-random-1.scen");
        var otherMap = GridMapReader.Load(DataFiles.Full("movingai/mapf-map/warehouse-10-20-10-2-2.map"));
        Located.Throws(() => MovingAiScenarioReader.Load(path, otherMap), "warehouse-10-20-10-2-1-random-1.scen", 2, "scenario is for a 161x63 map but warehouse-10-20-10-2-2.map is 170x84");
    }

    [Fact]
    public void Blank_lines_and_crlf_are_tolerated()
    {
        var s = MovingAiScenarioReader.Parse(new StringReader("version 1\r\n1\ttiny.map\t4\t3\t0\t0\t3\t2\t5\r\n\r\n"), "ok.scen", Map);
        Assert.Single(s.Entries);
    }
}
