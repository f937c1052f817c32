using WarehouseHybrid.Domain.Lorr;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// The 2026 seeded delay generator: each tick, robots not already delayed may start a delay
/// (Bernoulli per robot with <c>pDelay</c>, or a Poisson number of robots with mean
/// <c>teamSize x pDelay</c>), whose length is drawn uniform or Gaussian in [minDelay, maxDelay].
/// Uses the Start-Kit's engine (MT19937 seeded with <c>seed</c>) and the same draw order; the
/// Bernoulli and uniform draws follow libstdc++'s algorithms, the Gaussian one its polar method,
/// Poisson its small-mean method (mean below 12; larger means use the same method in pieces) and
/// the Poisson robot pick a plain Fisher-Yates shuffle, so sequences may differ from the
/// Start-Kit's where noted (statistically the same model).
/// </summary>
public sealed class LorrDelayGenerator
{
    private readonly LorrDelayConfig _config;
    private readonly int[] _remaining;
    private readonly Mt19937 _rng;
    private int _tick;

    /// <summary>Creates a generator for <paramref name="robots"/> robots.</summary>
    public LorrDelayGenerator(LorrDelayConfig config, int robots)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _remaining = new int[robots];
        _rng = new Mt19937(unchecked((uint)config.Seed));
        Intervals = new List<(int, int)>[robots];
        for (var i = 0; i < robots; i++)
        {
            Intervals[i] = new List<(int, int)>();
        }
    }

    /// <summary>Per robot: [start, end] tick of every delay drawn so far.</summary>
    public List<(int Start, int End)>[] Intervals { get; }

    /// <summary>Whether <paramref name="robot"/> is delayed after the last <see cref="NextTick"/>.</summary>
    public bool InDelay(int robot) => _remaining[robot] > 0;

    /// <summary>Advances one tick: counts down running delays, then draws new ones.</summary>
    public void NextTick()
    {
        for (var i = 0; i < _remaining.Length; i++)
        {
            if (_remaining[i] > 0)
            {
                _remaining[i]--;
            }
        }

        var available = new List<int>();
        for (var i = 0; i < _remaining.Length; i++)
        {
            if (_remaining[i] == 0)
            {
                available.Add(i);
            }
        }

        foreach (var robot in PickRobots(available))
        {
            var d = SampleDuration();
            _remaining[robot] = d;
            Intervals[robot].Add((_tick, _tick + d));
        }

        _tick++;
    }

    private List<int> PickRobots(List<int> available)
    {
        var picked = new List<int>();
        if (available.Count == 0)
        {
            return picked;
        }

        if (_config.EventModel == DelayEventModel.Bernoulli)
        {
            foreach (var robot in available)
            {
                if (Canonical() < _config.PDelay)
                {
                    picked.Add(robot);
                }
            }

            return picked;
        }

        var count = Math.Min(Poisson(_remaining.Length * _config.PDelay), available.Count);
        if (count <= 0)
        {
            return picked;
        }

        for (var i = available.Count - 1; i > 0; i--)
        {
            var j = (int)UniformInt(0, (uint)i);
            (available[i], available[j]) = (available[j], available[i]);
        }

        picked.AddRange(available.Take(count));
        return picked;
    }

    private int SampleDuration()
    {
        int min = _config.MinDelay, max = _config.MaxDelay;
        if (min == max)
        {
            return min;
        }

        if (_config.DurationModel == DelayDurationModel.Uniform)
        {
            return (int)(min + UniformInt(0, (uint)(max - min)));
        }

        var span = (double)(max - min);
        var mean = min + (span * _config.GaussMeanRatio);
        var std = span * _config.GaussStdRatio;
        if (std <= 0)
        {
            return Math.Clamp((int)Math.Round(mean, MidpointRounding.AwayFromZero), min, max);
        }

        double x, y, r2;
        do
        {
            x = (2.0 * Canonical()) - 1.0;
            y = (2.0 * Canonical()) - 1.0;
            r2 = (x * x) + (y * y);
        }
        while (r2 > 1.0 || r2 == 0.0);

        var value = (y * Math.Sqrt(-2.0 * Math.Log(r2) / r2) * std) + mean;
        return Math.Clamp((int)Math.Round(value, MidpointRounding.AwayFromZero), min, max);
    }

    private int Poisson(double mean)
    {
        var total = 0;
        while (mean > 0)
        {
            var part = Math.Min(mean, 10.0);
            mean -= part;
            var limit = Math.Exp(-part);
            var prod = 1.0;
            var x = 0;
            do
            {
                x++;
                prod *= Canonical();
            }
            while (prod > limit);
            total += x - 1;
        }

        return total;
    }

    // libstdc++ generate_canonical<double, 53> over a 32-bit engine: two draws.
    private double Canonical()
    {
        var lo = (double)_rng.Next();
        var hi = (double)_rng.Next();
        var r = (lo + (hi * 4294967296.0)) / 18446744073709551616.0;
        return r >= 1.0 ? Math.BitDecrement(1.0) : r;
    }

    // libstdc++ uniform_int_distribution (Lemire's nearly divisionless method) for ranges below 2^32.
    private uint UniformInt(uint min, uint max)
    {
        var range = (ulong)(max - min) + 1;
        var product = _rng.Next() * range;
        var low = (uint)product;
        if (low < range)
        {
            var threshold = (uint)((0x1_0000_0000UL - range) % range);
            while (low < threshold)
            {
                product = _rng.Next() * range;
                low = (uint)product;
            }
        }

        return min + (uint)(product >> 32);
    }
}

/// <summary>The 32-bit Mersenne Twister (std::mt19937), bit-identical to the C++ standard's.</summary>
public sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;

    /// <summary>Seeds the engine as <c>std::mt19937(seed)</c>.</summary>
    public Mt19937(uint seed)
    {
        _mt[0] = seed;
        for (var i = 1; i < N; i++)
        {
            _mt[i] = unchecked((1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30))) + (uint)i);
        }

        _index = N;
    }

    /// <summary>The next 32-bit output.</summary>
    public uint Next()
    {
        if (_index >= N)
        {
            for (var i = 0; i < N; i++)
            {
                var y = (_mt[i] & 0x8000_0000u) | (_mt[(i + 1) % N] & 0x7fff_ffffu);
                _mt[i] = _mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908_b0dfu : 0u);
            }

            _index = 0;
        }

        var z = _mt[_index++];
        z ^= z >> 11;
        z ^= (z << 7) & 0x9d2c_5680u;
        z ^= (z << 15) & 0xefc6_0000u;
        z ^= z >> 18;
        return z;
    }
}
