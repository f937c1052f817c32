using WarehouseHybrid.Hil.Demo;

namespace WarehouseHybrid.Hil.Tests.Demo;

/// <summary>
/// The walking skeleton end to end, in one process: in-process MQTT broker (MQTTnet.Server), one Orleans
/// silo, the optimizer, the simulated world and real edge runtimes over in-memory serial lines.
/// </summary>
public sealed class DemoEndToEndTests
{
    [Fact]
    public async Task Robots_finish_tasks_without_collisions_and_every_component_shuts_down()
    {
        var output = new StringWriter();
        var options = new DemoOptions
        {
            Robots = 8,
            StopAfterTasks = 4,
            Duration = TimeSpan.FromMinutes(4), // upper bound only: the run ends when the tasks are done
            Seed = 7,
        };

        var result = await DemoRunner.RunAsync(options, TextWriter.Synchronized(output), CancellationToken.None);

        var log = output.ToString();
        Assert.True(result.TasksFinished >= 4, $"only {result.TasksFinished} tasks finished in {result.Elapsed}:\n{log}");
        Assert.Equal(0, result.Violations);
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.TelemetryAccepted > 0, log);
        Assert.True(result.SegmentsReceived > 0, log);
        Assert.True(result.EdgesStopped, "edge runtimes did not stop:\n" + log);
        Assert.True(result.WorldStopped, "world driver did not stop");
        Assert.True(result.CloudStopped, "silo did not stop");
        Assert.True(result.BrokerStopped, "broker did not stop");
        Assert.Contains("tasks finished", log, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_cells_are_distinct_and_free()
    {
        var (map, _) = DemoMap.Resolve(null);
        var cells = DemoRunner.PickStartCells(map, 50, 3);
        Assert.Equal(50, cells.Distinct().Count());
        Assert.All(cells, c => Assert.True(map.IsPassable(c)));
        Assert.Equal(cells, DemoRunner.PickStartCells(map, 50, 3));
    }

    [Fact]
    public void The_generated_fallback_map_is_connected()
    {
        var map = DemoMap.GenerateWarehouse(57, 33);
        var start = Enumerable.Range(0, map.CellCount).First(map.IsPassable);
        var seen = new bool[map.CellCount];
        var queue = new Queue<int>([start]);
        seen[start] = true;
        var reached = 1;
        while (queue.Count > 0)
        {
            var c = queue.Dequeue();
            foreach (var h in Enum.GetValues<WarehouseHybrid.Domain.Grid.Heading>())
            {
                var n = map.Neighbour(c, h);
                if (n >= 0 && !seen[n])
                {
                    seen[n] = true;
                    reached++;
                    queue.Enqueue(n);
                }
            }
        }

        Assert.Equal(map.PassableCount, reached);
    }

    [Fact]
    public void Generated_tasks_pick_up_at_service_cells_and_drop_at_emitters()
    {
        var (map, _) = DemoMap.Resolve(null);
        var feeder = new TaskFeeder(map, 2, 1);
        var tasks = feeder.Next(100);
        Assert.Equal(100, tasks.Select(t => t.Id).Distinct().Count());
        Assert.All(tasks, t =>
        {
            Assert.Equal(WarehouseHybrid.Domain.Grid.CellKind.Service, map.KindOf(t.Errands[0]));
            Assert.Equal(WarehouseHybrid.Domain.Grid.CellKind.Emitter, map.KindOf(t.Errands[1]));
        });
    }

    [Theory]
    [InlineData("30", 30)]
    [InlineData("30s", 30)]
    [InlineData("1500ms", 1.5)]
    [InlineData("2m", 120)]
    [InlineData("00:01:30", 90)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(WarehouseHybrid.Hil.Cli.DurationParser.TryParse(text, out var value, out _));
        Assert.Equal(seconds, value.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5s")]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("1e300h")]
    public void Bad_durations_are_refused_with_the_text_named(string text)
    {
        Assert.False(WarehouseHybrid.Hil.Cli.DurationParser.TryParse(text, out _, out var error));
        Assert.Contains($"'{text}'", error, StringComparison.Ordinal);
    }
}
