using System.Security.Cryptography;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using Heading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.ModelTool.Training;

/// <summary>Labelled rows: features, rule-policy action targets and obstacle labels.</summary>
public sealed class TrainingSet
{
    /// <summary>Creates an empty set with room for <paramref name="capacity"/> rows.</summary>
    public TrainingSet(int capacity)
    {
        Features = new float[capacity * PolicyFeatures.Count];
        Targets = new float[capacity * 2];
        Labels = new byte[capacity];
    }

    /// <summary>Rows, row-major, <see cref="PolicyFeatures.Count"/> each.</summary>
    public float[] Features { get; }

    /// <summary>Action targets, 2 per row (fractions of the top speeds).</summary>
    public float[] Targets { get; }

    /// <summary>1 when an obstacle is ahead within the slowdown distance, else 0.</summary>
    public byte[] Labels { get; }

    /// <summary>Rows filled.</summary>
    public int Count { get; internal set; }

    /// <summary>Room for rows.</summary>
    public int Capacity => Labels.Length;

    /// <summary>Appends one row; false when the set is full.</summary>
    public bool Add(ReadOnlySpan<float> features, float linearTarget, float angularTarget, byte label)
    {
        if (Count == Capacity)
        {
            return false;
        }

        features[..PolicyFeatures.Count].CopyTo(Features.AsSpan(Count * PolicyFeatures.Count, PolicyFeatures.Count));
        Targets[Count * 2] = linearTarget;
        Targets[(Count * 2) + 1] = angularTarget;
        Labels[Count] = label;
        Count++;
        return true;
    }

    /// <summary>The rows of <paramref name="sets"/> in order, in one set (DAgger's aggregate).</summary>
    public static TrainingSet Concat(params TrainingSet[] sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var all = new TrainingSet(sets.Sum(s => s.Count));
        foreach (var s in sets)
        {
            s.Features.AsSpan(0, s.Count * PolicyFeatures.Count).CopyTo(all.Features.AsSpan(all.Count * PolicyFeatures.Count));
            s.Targets.AsSpan(0, s.Count * 2).CopyTo(all.Targets.AsSpan(all.Count * 2));
            s.Labels.AsSpan(0, s.Count).CopyTo(all.Labels.AsSpan(all.Count));
            all.Count += s.Count;
        }

        return all;
    }

    /// <summary>Row <paramref name="n"/>'s features.</summary>
    public ReadOnlySpan<float> Row(int n) => Features.AsSpan(n * PolicyFeatures.Count, PolicyFeatures.Count);

    /// <summary>SHA-256 over every row, target and label (little-endian floats): the manifest's training data digest.</summary>
    public string Digest()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Features.AsSpan(0, Count * PolicyFeatures.Count)));
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Targets.AsSpan(0, Count * 2)));
        sha.AppendData(Labels.AsSpan(0, Count));
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Bins of the training histogram per feature (deciles; fewer where values repeat, e.g. one-hot features).</summary>
    public const int HistogramBins = 10;

    /// <summary>
    /// Per-feature mean, standard deviation, min and max, and a decile histogram (the manifest's drift reference: z-scores
    /// and the population stability index).
    /// </summary>
    public IReadOnlyList<FeatureStatistics> Statistics()
    {
        var stats = new List<FeatureStatistics>(PolicyFeatures.Count);
        for (var f = 0; f < PolicyFeatures.Count; f++)
        {
            double sum = 0, sumSq = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
            for (var n = 0; n < Count; n++)
            {
                double x = Features[(n * PolicyFeatures.Count) + f];
                sum += x;
                sumSq += x * x;
                min = Math.Min(min, x);
                max = Math.Max(max, x);
            }

            var mean = sum / Count;
            var statistic = new FeatureStatistics
            {
                Name = PolicyFeatures.Names[f],
                Mean = mean,
                StdDev = Math.Sqrt(Math.Max(0, (sumSq / Count) - (mean * mean))),
                Min = min,
                Max = max,
            };
            AddHistogram(statistic, f);
            stats.Add(statistic);
        }

        return stats;
    }

    /// <summary>Decile upper edges (distinct, increasing; the last bin holds everything above) and each bin's share.</summary>
    private void AddHistogram(FeatureStatistics statistic, int feature)
    {
        var column = new float[Count];
        for (var n = 0; n < Count; n++)
        {
            column[n] = Features[(n * PolicyFeatures.Count) + feature];
        }

        Array.Sort(column);
        var edges = new List<double>();
        for (var q = 1; q < HistogramBins; q++)
        {
            double edge = column[Math.Min(Count - 1, (int)((long)q * Count / HistogramBins))];
            if (edge < column[^1] && (edges.Count == 0 || edge > edges[^1]))
            {
                edges.Add(edge);
            }
        }

        var counts = new long[edges.Count + 1];
        var bin = 0;
        foreach (var x in column)
        {
            while (bin < edges.Count && x > edges[bin])
            {
                bin++;
            }

            counts[bin]++;
        }

        statistic.HistogramUpperEdges.AddRange(edges);
        statistic.HistogramFractions.AddRange(counts.Select(c => c / (double)Count));
    }
}

/// <summary>
/// Generates labelled data from simulated situations: a robot near a plan step (move, rotate or hold) with
/// random pose error, velocities and range scans (open floor, shelves to the sides, an obstacle ahead at a random
/// distance). The label is the deterministic <see cref="RulePolicy"/>'s setpoint in that situation (what it aims at
/// before acceleration limiting; the learned policy imitates it and the decision module applies the same limit) and
/// whether an obstacle lies ahead within the slowdown distance.
/// </summary>
public static class ScenarioSampler
{
    /// <summary>Generates <paramref name="count"/> rows with a seeded generator (same seed, same data).</summary>
    public static TrainingSet Generate(int count, int seed, KinematicLimits limits)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var random = new Random(seed);
        var rule = new RulePolicy(limits);
        var set = new TrainingSet(count);
        for (var n = 0; n < count; n++)
        {
            var input = Sample(random, limits);
            rule.Setpoint(input, out var command);
            PolicyFeatures.Extract(input, limits, set.Features.AsSpan(n * PolicyFeatures.Count, PolicyFeatures.Count));
            set.Targets[n * 2] = (float)(command.LinearMps / limits.MaxLinearMps);
            set.Targets[(n * 2) + 1] = (float)(command.AngularRadps / limits.MaxAngularRadps);
            set.Labels[n] = ObstacleAhead(input, limits) ? (byte)1 : (byte)0;
        }

        set.Count = count;
        return set;
    }

    /// <summary>The class label: an echo inside the robot's corridor ahead closer than the slowdown distance.</summary>
    public static bool ObstacleAhead(in PolicyInput input, in KinematicLimits limits) =>
        RangeGeometry.FreeDistance(input.Sensors.Frame.Ranges, forward: true, limits.RobotHalfWidthMetres) < limits.ObstacleSlowdownMetres;

    /// <summary>One random situation.</summary>
    public static PolicyInput Sample(Random random, in KinematicLimits limits)
    {
        ArgumentNullException.ThrowIfNull(random);
        var heading = (Heading)random.Next(4);
        var h = GridGeometry.Angle(heading);
        var kindRoll = random.NextDouble();
        var kind = kindRoll < 0.1 ? TargetKind.Hold : kindRoll < 0.35 ? TargetKind.Rotate : TargetKind.Move;
        double along = 0, lateral = 0, theta = h;
        double prevV = 0, prevW = 0;
        switch (kind)
        {
            case TargetKind.Move:
                along = (random.NextDouble() * 1.3) - 0.1;
                lateral = Gaussian(random) * 0.05;
                theta = h + (random.NextDouble() < 0.15 ? (random.NextDouble() * 2 - 1) * Math.PI : Gaussian(random) * 0.12);
                prevV = random.NextDouble() * limits.MaxLinearMps;
                prevW = (random.NextDouble() * 2 - 1) * 0.5 * limits.MaxAngularRadps;
                break;
            case TargetKind.Rotate:
                theta = h + ((random.NextDouble() * 2 - 1) * Math.PI);
                prevV = random.NextDouble() * 0.2 * limits.MaxLinearMps;
                prevW = (random.NextDouble() * 2 - 1) * limits.MaxAngularRadps;
                break;
            default:
                theta = h + (Gaussian(random) * 0.1);
                prevV = random.NextDouble() * 0.5 * limits.MaxLinearMps;
                prevW = (random.NextDouble() * 2 - 1) * 0.5 * limits.MaxAngularRadps;
                break;
        }

        var (sinH, cosH) = Math.SinCos(h);
        var x = (-along * cosH) - (lateral * sinH);
        var y = (-along * sinH) + (lateral * cosH);
        var target = new StepTarget(kind, 1, 0, heading, 0, 0, h);
        var snapshot = new SensorSnapshot { FrameCount = 1 };
        snapshot.Frame.HeadingRad = (float)theta;
        FillRanges(random, ref snapshot.Frame.Ranges);
        var measuredV = prevV + (Gaussian(random) * 0.03);
        var measuredW = prevW + (Gaussian(random) * 0.05);
        snapshot.Frame.LeftWheelMps = (float)measuredV;
        snapshot.Frame.RightWheelMps = (float)measuredV;
        return new PolicyInput(new ContinuousPose(x, y, theta), target, snapshot, measuredV, measuredW, new DriveCommand(prevV, prevW), 0.01);
    }

    private static void FillRanges(Random random, ref RangeScan ranges)
    {
        var scene = random.NextDouble();
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            // Shelves along an aisle: echoes to the sides, open ahead and behind; or scattered clutter.
            var angle = i * RangeScanLayout.BeamSpacingRad;
            var side = Math.Abs(Math.Sin(angle));
            double metres;
            if (scene < 0.5 && side > 0.3)
            {
                metres = (0.6 + (random.NextDouble() * 0.6)) / side;
            }
            else
            {
                metres = random.NextDouble() < 0.5 ? double.PositiveInfinity : 0.4 + (random.NextDouble() * 5.0);
            }

            ranges[i] = double.IsFinite(metres) && metres < 8.0 ? (ushort)(metres * 1000) : RangeScanLayout.NoEchoMillimetres;
        }

        if (random.NextDouble() < 0.4)
        {
            // Something in the aisle ahead (a person, a dropped item): the class the model must see.
            var distance = 0.3 + (random.NextDouble() * 2.7);
            var beam = random.Next(3) - 1;
            ranges[(beam + RangeScanLayout.BeamCount) % RangeScanLayout.BeamCount] = (ushort)(distance * 1000);
        }
    }

    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
