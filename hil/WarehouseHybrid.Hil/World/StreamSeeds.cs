namespace WarehouseHybrid.Hil.World;

/// <summary>
/// Seeds for the rig's random streams (sensor and odometry noise, serial and network fault injectors), derived
/// from a run's seed and the stream's coordinates. <see cref="HashCode.Combine{T1, T2}"/> is seeded at random per
/// process, so a run seeded with it would not repeat in another process; this mix is fixed, so the same seed gives
/// the same streams in every process, on every machine and with any thread count.
/// </summary>
public static class StreamSeeds
{
    /// <summary>The seed of stream <paramref name="index"/> of a run seeded <paramref name="seed"/>.</summary>
    public static int Derive(int seed, int index) => Mix(((ulong)(uint)seed << 32) | (uint)index);

    /// <summary>The seed of sub-stream <paramref name="part"/> of stream <paramref name="index"/>.</summary>
    public static int Derive(int seed, int index, int part) => Mix(((ulong)(uint)Derive(seed, index) << 32) | (uint)part);

    // SplitMix64's finalizer: neighbouring seeds and indices get unrelated streams.
    private static int Mix(ulong value)
    {
        var z = unchecked(value + 0x9E37_79B9_7F4A_7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL);
        return unchecked((int)(z ^ (z >> 31)));
    }
}
