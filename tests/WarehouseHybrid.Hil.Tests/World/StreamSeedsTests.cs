using WarehouseHybrid.Hil.World;
using Xunit;

namespace WarehouseHybrid.Hil.Tests.World;

/// <summary>A run's seed must give the same random streams in every process (a rig run is reproduced by its seed).</summary>
public sealed class StreamSeedsTests
{
    [Theory]
    [InlineData(1, 0, -1551761096)]
    [InlineData(1, 1, -44460689)]
    [InlineData(-5, 3, -1109522071)]
    public void Stream_seeds_are_fixed_values_of_the_run_seed_and_the_stream_not_of_the_process(int seed, int index, int expected)
    {
        // Pinned constants: a per-process hash (HashCode.Combine) would give other values in every test run.
        Assert.Equal(expected, StreamSeeds.Derive(seed, index));
    }

    [Fact]
    public void Sub_streams_are_fixed_too_and_neighbouring_coordinates_get_distinct_seeds()
    {
        Assert.Equal(-778147374, StreamSeeds.Derive(42, 7, 2));
        var seeds = new HashSet<int>();
        for (var robot = 0; robot < 500; robot++)
        {
            for (var part = 0; part < 3; part++)
            {
                Assert.True(seeds.Add(StreamSeeds.Derive(1, robot, part)), $"robot {robot} part {part} repeats a seed");
            }
        }
    }
}
