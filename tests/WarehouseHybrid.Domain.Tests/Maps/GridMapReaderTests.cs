using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Domain.Tests.Support;

namespace WarehouseHybrid.Domain.Tests.Maps;

public sealed class GridMapReaderTests
{
    // Sizes and symbol counts from ../shared/data/README.md ("Every file" table).
    private static readonly Dictionary<string, (int Width, int Height, int Free, int Emitters, int Service)> Expected = new()
    {
        ["random-32-32-20.map"] = (32, 32, 819, 0, 0),
        ["random-64-64-10.map"] = (64, 64, 3687, 0, 0),
        ["warehouse_large.map"] = (500, 140, 38586, 352, 25249),
        ["sortation_large.map"] = (500, 140, 54320, 620, 31296),
        ["warehouse_small.map"] = (57, 33, 1277, 40, 342),
        ["warehouse_long_corridor_large.map"] = (500, 140, 38643, 352, 28144),
        ["warehouse-10-20-10-2-1.map"] = (161, 63, 5699, 0, 0),
        ["warehouse-10-20-10-2-2.map"] = (170, 84, 9776, 0, 0),
        ["warehouse-20-40-10-2-1.map"] = (321, 123, 22599, 0, 0),
        ["warehouse-20-40-10-2-2.map"] = (340, 164, 38756, 0, 0),
    };

    // The 2023 copy of warehouse_large.map shifts one S/. marking in row 121 (README note).
    private static readonly Dictionary<string, (int Width, int Height, int Free, int Emitters, int Service)> ByPath = new()
    {
        ["lorr/2023-example/warehouse.domain/maps/warehouse_large.map"] = (500, 140, 38586, 352, 25250),
    };

    public static TheoryData<string> AllMaps() => new(DataFiles.Under(".", "*.map").Select(DataFiles.Relative));

    private const string Small = "type octile\nheight 3\nwidth 4\nmap\n.@..\nE..S\nT.G.\n";

    [Theory]
    [MemberData(nameof(AllMaps))]
    public void Every_real_map_has_the_size_and_free_cell_count_of_the_data_readme(string relative)
    {
        var map = GridMapReader.Load(DataFiles.Full(relative));
        Assert.True(ByPath.TryGetValue(relative, out var e) || Expected.TryGetValue(Path.GetFileName(relative), out e), $"no expectation for {relative}");
        Assert.Equal((e.Width, e.Height), (map.Width, map.Height));
        Assert.Equal(e.Free, map.PassableCount);
        Assert.Equal(e.Emitters, Count(map, CellKind.Emitter));
        Assert.Equal(e.Service, Count(map, CellKind.Service));
        Assert.Equal(Path.GetFileName(relative), map.Name);
    }

    [Fact]
    public void Every_map_named_in_the_readme_is_present_in_the_data_folder()
    {
        var present = DataFiles.Under(".", "*.map").Select(Path.GetFileName).ToHashSet();
        Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal), Expected.Keys.Where(present.Contains).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Random_32_32_20_reads_its_single_T_at_row_17_column_30_as_an_obstacle()
    {
        var path = DataFiles.Full("movingai/mapf-map/random-32-32-20.map");
        var map = GridMapReader.Load(path);
        var cell = map.CellAt(17, 30);
        Assert.Equal('T', File.ReadAllLines(path)[4 + 17][30]);
        Assert.Equal(CellKind.Obstacle, map.KindOf(cell));
        Assert.False(map.IsPassable(cell));
        Assert.Equal(32 * 32 - 819, map.CellCount - map.PassableCount);
    }

    [Fact]
    public void Symbols_map_to_kinds_in_row_major_order()
    {
        var map = GridMapReader.ParseText(Small, "small.map");
        Assert.Equal(
            new[]
            {
                CellKind.Free, CellKind.Obstacle, CellKind.Free, CellKind.Free,
                CellKind.Emitter, CellKind.Free, CellKind.Free, CellKind.Service,
                CellKind.Obstacle, CellKind.Free, CellKind.Free, CellKind.Free,
            },
            Enumerable.Range(0, map.CellCount).Select(map.KindOf));
        Assert.Equal(10, map.PassableCount);
    }

    [Fact]
    public void Crlf_trailing_blanks_and_blank_lines_after_the_grid_are_tolerated()
    {
        var messy = "type octile \r\nheight 3\r\nwidth\t4\r\nmap\r\n.@..  \r\nE..S\t\r\nT.G.\r\n\r\n   \r\n";
        var a = GridMapReader.ParseText(Small, "a.map");
        var b = GridMapReader.Parse(new StringReader(messy), "b.map");
        Assert.Equal(Kinds(a), Kinds(b));
    }

    [Fact]
    public void Width_may_come_before_height()
    {
        var map = GridMapReader.ParseText("type octile\nwidth 4\nheight 3\nmap\n.@..\nE..S\nT.G.", "w.map");
        Assert.Equal((4, 3), (map.Width, map.Height));
    }

    [Fact]
    public void A_short_row_names_file_line_row_and_both_widths()
    {
        var path = DataFiles.Full("lorr/2026-example/warehouse.domain/maps/warehouse_small.map");
        var lines = File.ReadAllLines(path);
        lines[6] = lines[6][..56];
        var ex = Located.Throws(() => GridMapReader.ParseText(string.Join('\n', lines), path), "warehouse_small.map", 7, "row 2 has 56 characters, expected 57");
        Assert.Equal("warehouse_small.map line 7: row 2 has 56 characters, expected 57", ex.Message);
    }

    [Fact]
    public void Too_few_rows_is_reported_at_the_line_after_the_end()
    {
        Located.Throws(() => GridMapReader.ParseText("type octile\nheight 3\nwidth 4\nmap\n....\n....\n", "t.map"), "t.map", 7, "file ends after 2 map rows, expected 3");
    }

    [Fact]
    public void An_extra_row_is_reported_where_it_stands()
    {
        Located.Throws(() => GridMapReader.ParseText(Small + "....\n", "x.map"), "x.map", 8, "text after the 3 map rows");
    }

    [Fact]
    public void An_unknown_character_names_line_and_column()
    {
        var ex = Located.Throws(() => GridMapReader.ParseText(Small.Replace("E..S", "E.xS", StringComparison.Ordinal), "u.map"), "u.map", 6, "unknown map character 'x' at row 1, column 2");
        Assert.Equal(3, ex.Column);
    }

    [Theory]
    [InlineData("", 1, "empty file")]
    [InlineData("height 3\nwidth 4\nmap\n", 1, "expected 'type octile'")]
    [InlineData("type tile\nheight 3\nwidth 4\nmap\n", 1, "unsupported map type 'tile'")]
    [InlineData("type octile\nheight three\nwidth 4\nmap\n", 2, "'height' needs a positive integer, found 'three'")]
    [InlineData("type octile\nheight 3\nwidth 0\nmap\n", 3, "'width' needs a positive integer")]
    [InlineData("type octile\nheight 3\nwidth -4\nmap\n", 3, "'width' needs a positive integer")]
    [InlineData("type octile\nheight 3\nheight 4\nmap\n", 3, "'height' given twice")]
    [InlineData("type octile\nheight 3\ndepth 4\nmap\n", 3, "expected 'height H' or 'width W'")]
    [InlineData("type octile\nheight 3\nwidth 4\n....\n", 4, "expected 'map'")]
    [InlineData("type octile\nheight 3\nwidth 4\n", 4, "file ends before the 'map' line")]
    [InlineData("type octile\nheight 9999\nwidth 9999\nmap\n....\n", 5, "row 0 has 4 characters, expected 9999")]
    public void A_bad_header_is_rejected_with_its_line(string text, int line, string detail)
    {
        Located.Throws(() => GridMapReader.ParseText(text, "h.map"), "h.map", line, detail);
    }

    [Fact]
    public void A_huge_declared_size_is_rejected_without_allocating_the_grid()
    {
        Located.Throws(() => GridMapReader.ParseText("type octile\nheight 2000000000\nwidth 2000000000\nmap\n", "big.map"), "big.map", 4, "too large");
    }

    // The writer spells every obstacle '@', so maps that also use 'T' cannot come back byte for byte.
    public static TheoryData<string> MapsWithoutT() => new(DataFiles.Under(".", "*.map")
        .Where(p => !File.ReadAllLines(p).Skip(4).Any(l => l.Contains('T', StringComparison.Ordinal)))
        .Select(DataFiles.Relative));

    [Theory]
    [MemberData(nameof(MapsWithoutT))]
    public void Writing_a_map_without_T_reproduces_the_file_byte_for_byte(string relative)
    {
        var path = DataFiles.Full(relative);
        var map = GridMapReader.Load(path);
        Assert.Equal(File.ReadAllText(path), GridMapWriter.ToText(map));
    }

    [Theory]
    [MemberData(nameof(AllMaps))]
    public void Writing_then_reading_any_map_keeps_every_cell_kind(string relative)
    {
        var map = GridMapReader.Load(DataFiles.Full(relative));
        var again = GridMapReader.ParseText(GridMapWriter.ToText(map), map.Name);
        Assert.Equal((map.Width, map.Height), (again.Width, again.Height));
        Assert.Equal(Kinds(map), Kinds(again));
    }

    [Fact]
    public void Save_and_load_round_trip_through_a_file()
    {
        using var tmp = new TempFolder();
        var map = GridMapReader.ParseText(Small, "small.map");
        var path = Path.Combine(tmp.Path, "copy.map");
        GridMapWriter.Save(map, path);
        Assert.Equal(Kinds(map), Kinds(GridMapReader.Load(path)));
        Assert.Equal("copy.map", GridMapReader.Load(path).Name);
    }

    private static CellKind[] Kinds(GridMap m) => Enumerable.Range(0, m.CellCount).Select(m.KindOf).ToArray();

    private static int Count(GridMap m, CellKind kind) => Enumerable.Range(0, m.CellCount).Count(c => m.KindOf(c) == kind);
}
