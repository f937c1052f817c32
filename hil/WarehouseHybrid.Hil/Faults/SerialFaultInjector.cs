namespace WarehouseHybrid.Hil.Faults;

/// <summary>What a noisy serial line does to the bytes crossing it, per byte (each probability in [0, 1]).</summary>
public sealed record SerialNoise
{
    /// <summary>Probability that a byte has one random bit flipped.</summary>
    public double BitFlipRate { get; init; }

    /// <summary>Probability that a byte is lost.</summary>
    public double DropRate { get; init; }

    /// <summary>Probability that a byte arrives twice.</summary>
    public double DuplicateRate { get; init; }

    /// <summary>No noise.</summary>
    public static SerialNoise None { get; } = new();

    /// <summary>Whether any byte can be changed.</summary>
    public bool IsActive => BitFlipRate > 0 || DropRate > 0 || DuplicateRate > 0;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad rate.</summary>
    public void Validate()
    {
        foreach (var (value, name) in new[] { (BitFlipRate, nameof(BitFlipRate)), (DropRate, nameof(DropRate)), (DuplicateRate, nameof(DuplicateRate)) })
        {
            if (!(value >= 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(name, value, $"SerialNoise.{name} must be a probability in [0, 1]");
            }
        }
    }
}

/// <summary>
/// Applies <see cref="SerialNoise"/> to one direction of a serial line, deterministically for a seed: the same
/// bytes and seed give the same damage. Also the line's "unplugged" state (every byte lost) and counters.
/// Not thread-safe: one writer per direction.
/// </summary>
public sealed class SerialFaultInjector
{
    private Random _random;
    private SerialNoise _noise = SerialNoise.None;

    /// <summary>Creates a clean line.</summary>
    public SerialFaultInjector(int seed)
    {
        _random = new Random(seed);
    }

    /// <summary>The noise now applied.</summary>
    public SerialNoise Noise
    {
        get => Volatile.Read(ref _noise);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            Volatile.Write(ref _noise, value);
        }
    }

    /// <summary>While true every byte is lost (a pulled cable, a board that stopped talking).</summary>
    public bool Cut { get; set; }

    /// <summary>Bytes offered.</summary>
    public long BytesIn { get; private set; }

    /// <summary>Bytes lost (dropped or cut).</summary>
    public long BytesDropped { get; private set; }

    /// <summary>Bytes with a flipped bit.</summary>
    public long BytesCorrupted { get; private set; }

    /// <summary>Extra copies delivered.</summary>
    public long BytesDuplicated { get; private set; }

    /// <summary>Restarts the random sequence (replay of a recorded run).</summary>
    public void Reseed(int seed) => _random = new Random(seed);

    /// <summary>
    /// What crosses the line: <paramref name="input"/> itself while the line is clean (no copy: the lock-step fleet's
    /// hot path), else the damaged copy <see cref="Apply"/> writes to <paramref name="scratch"/>. Counts the same.
    /// </summary>
    public ReadOnlySpan<byte> Transmit(ReadOnlySpan<byte> input, Span<byte> scratch)
    {
        if (!Cut && !Noise.IsActive)
        {
            BytesIn += input.Length;
            return input;
        }

        return scratch[..Apply(input, scratch)];
    }

    /// <summary>
    /// Copies <paramref name="input"/> to <paramref name="output"/> (at least twice as long) with the damage applied;
    /// returns the bytes written.
    /// </summary>
    public int Apply(ReadOnlySpan<byte> input, Span<byte> output)
    {
        BytesIn += input.Length;
        if (Cut)
        {
            BytesDropped += input.Length;
            return 0;
        }

        var noise = Noise;
        if (!noise.IsActive)
        {
            input.CopyTo(output);
            return input.Length;
        }

        var n = 0;
        foreach (var b in input)
        {
            if (noise.DropRate > 0 && _random.NextDouble() < noise.DropRate)
            {
                BytesDropped++;
                continue;
            }

            var value = b;
            if (noise.BitFlipRate > 0 && _random.NextDouble() < noise.BitFlipRate)
            {
                value ^= (byte)(1 << _random.Next(8));
                BytesCorrupted++;
            }

            output[n++] = value;
            if (noise.DuplicateRate > 0 && _random.NextDouble() < noise.DuplicateRate)
            {
                output[n++] = value;
                BytesDuplicated++;
            }
        }

        return n;
    }
}
