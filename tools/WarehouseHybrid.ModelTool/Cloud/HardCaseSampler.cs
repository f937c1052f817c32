using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.ModelTool.Cloud;

/// <summary>
/// Training data for the cloud model, weighted toward the cases it is asked about: rows come from
/// <see cref="ScenarioSampler"/> in seeded chunks, and a row is "hard" when the edge network is not confident
/// enough to act alone (its obstacle confidence below <see cref="EdgeAcceptConfidence"/>, the edge's default
/// accept threshold, so the edge would escalate or fall back). A set holds <c>hardShare</c> of hard rows (as many as
/// the candidate budget finds) and ordinary rows for the rest.
/// </summary>
public static class HardCaseSampler
{
    /// <summary>The edge's default accept confidence (RuntimeAssuranceOptions.AcceptConfidence).</summary>
    public const float EdgeAcceptConfidence = 0.85f;

    private const int Chunk = 20_000;

    /// <summary>Generates <paramref name="count"/> rows; the same arguments give the same rows.</summary>
    /// <param name="count">Rows wanted.</param>
    /// <param name="seed">Data seed.</param>
    /// <param name="limits">Kinematic limits of the imitated rule policy.</param>
    /// <param name="edge">The edge network whose uncertainty defines hard rows.</param>
    /// <param name="hardShare">Share of hard rows wanted, 0..1.</param>
    /// <param name="maxCandidates">Most candidate rows drawn looking for hard ones.</param>
    public static (TrainingSet Set, int Hard) Generate(int count, int seed, KinematicLimits limits, Mlp edge, double hardShare, int maxCandidates = 4_000_000)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var hardWanted = (int)Math.Round(count * Math.Clamp(hardShare, 0, 1));
        var set = new TrainingSet(count);
        var hard = 0;
        var easy = 0;
        var easyWanted = count - hardWanted;
        Span<float> action = stackalloc float[2];
        Span<float> probs = stackalloc float[2];
        for (var chunk = 0; (hard < hardWanted || easy < easyWanted) && chunk * Chunk < maxCandidates; chunk++)
        {
            var candidates = ScenarioSampler.Generate(Chunk, unchecked((seed * 7919) + chunk), limits);
            for (var n = 0; n < candidates.Count && set.Count < count; n++)
            {
                edge.Forward(candidates.Row(n), action, probs);
                var isHard = Math.Max(probs[0], probs[1]) < EdgeAcceptConfidence;
                if (isHard ? hard >= hardWanted : easy >= easyWanted)
                {
                    continue;
                }

                Copy(candidates, n, set);
                _ = isHard ? hard++ : easy++;
            }
        }

        // Not enough hard rows within the budget: fill up with ordinary ones (reported by the caller).
        for (var chunk = 0; set.Count < count; chunk++)
        {
            var filler = ScenarioSampler.Generate(Chunk, unchecked((seed * 104729) + chunk), limits);
            for (var n = 0; n < filler.Count && set.Count < count; n++)
            {
                Copy(filler, n, set);
            }
        }

        return (set, hard);
    }

    private static void Copy(TrainingSet from, int row, TrainingSet to)
    {
        var at = to.Count;
        from.Row(row).CopyTo(to.Features.AsSpan(at * PolicyFeatures.Count, PolicyFeatures.Count));
        to.Targets[at * 2] = from.Targets[row * 2];
        to.Targets[(at * 2) + 1] = from.Targets[(row * 2) + 1];
        to.Labels[at] = from.Labels[row];
        to.Count = at + 1;
    }
}
