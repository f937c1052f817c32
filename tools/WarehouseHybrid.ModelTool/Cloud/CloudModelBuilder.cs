using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.ModelTool.Cloud;

/// <summary>What to build.</summary>
/// <param name="Version">Model version (in the ONNX metadata; every escalation answer names it).</param>
/// <param name="Members">Ensemble members.</param>
/// <param name="Hidden">Width of both hidden layers of each member.</param>
/// <param name="SamplesPerMember">Training rows per member (each member gets its own seeded rows).</param>
/// <param name="HardShare">Share of each member's rows where the edge model is not confident.</param>
/// <param name="Seed">Data seed.</param>
/// <param name="Trainer">Trainer settings (the member index is added to its seed).</param>
/// <param name="Edge">The edge model whose uncertainty picks hard rows (the shipped edge spec by default).</param>
public sealed record CloudModelSpec(
    string Version = "1.0.0",
    int Members = 4,
    int Hidden = 64,
    int SamplesPerMember = 50_000,
    double HardShare = 0.5,
    int Seed = 20261201,
    TrainerSettings? Trainer = null,
    PolicyModelSpec? Edge = null);

/// <summary>Accuracy on a holdout set.</summary>
/// <param name="Rows">Rows.</param>
/// <param name="ClassAccuracy">Obstacle class predicted right.</param>
/// <param name="ActionMae">Mean absolute error of the action (fractions of the top speeds).</param>
public readonly record struct Holdout(int Rows, double ClassAccuracy, double ActionMae);

/// <summary>The trained cloud model and how it compares with the edge model.</summary>
/// <param name="Onnx">The ONNX graph.</param>
/// <param name="Parameters">Trainable parameters in all members.</param>
/// <param name="EdgeParameters">Parameters of the edge model it is compared with.</param>
/// <param name="TrainingDataDigest">SHA-256 over every member's rows.</param>
/// <param name="HardRows">Hard rows found over all members.</param>
/// <param name="General">Cloud model on ordinary holdout rows.</param>
/// <param name="Hard">Cloud model on holdout rows where the edge is not confident.</param>
/// <param name="EdgeGeneral">Edge model on the ordinary holdout.</param>
/// <param name="EdgeHard">Edge model on the hard holdout.</param>
public sealed record CloudModel(byte[] Onnx, int Parameters, int EdgeParameters, string TrainingDataDigest, int HardRows, Holdout General, Holdout Hard, Holdout EdgeGeneral, Holdout EdgeHard);

/// <summary>
/// The <c>train-cloud-model</c> pipeline: trains the reference edge model (the tool's own <see cref="PolicyModelBuilder"/>),
/// samples each member's rows with <see cref="HardCaseSampler"/>, trains each member with the tool's <see cref="Trainer"/>,
/// writes the ensemble with <see cref="EnsembleOnnxWriter"/> and measures it through ONNX Runtime (the graph that ships).
/// Deterministic for a given spec.
/// </summary>
public static class CloudModelBuilder
{
    /// <summary>Builds the model; <paramref name="log"/> gets progress lines.</summary>
    public static CloudModel Build(CloudModelSpec spec, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Members < 2 || spec.Hidden < 4 || spec.SamplesPerMember < 100)
        {
            throw new ArgumentException($"cloud model: at least 2 members of hidden width 4 and 100 rows each (got {spec.Members}, {spec.Hidden}, {spec.SamplesPerMember})");
        }

        var limits = PolicyModelBuilder.DefaultLimits();
        var edgeSpec = spec.Edge ?? new PolicyModelSpec();
        log?.Invoke($"reference edge model: {edgeSpec.Samples} rows, hidden {edgeSpec.Hidden}");
        var edge = PolicyModelBuilder.Build(edgeSpec, DateTimeOffset.UnixEpoch).Network;

        var trainer = spec.Trainer ?? new TrainerSettings(Epochs: 15);
        var members = new List<Mlp>(spec.Members);
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var hardRows = 0;
        for (var k = 0; k < spec.Members; k++)
        {
            var (data, hard) = HardCaseSampler.Generate(spec.SamplesPerMember, spec.Seed + (1000 * k), limits, edge, spec.HardShare);
            hardRows += hard;
            digest.AppendData(Encoding.ASCII.GetBytes(data.Digest()));
            var net = new Mlp(PolicyFeatures.Count, spec.Hidden, spec.Hidden, new Random(trainer.Seed + k));
            Trainer.Train(net, data, trainer with { Seed = trainer.Seed + k }, (epoch, fit) =>
            {
                if (epoch == trainer.Epochs - 1)
                {
                    log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"member {k + 1}/{spec.Members}: {data.Count} rows ({hard} hard), action MAE {fit.ActionMae:F4}, class accuracy {fit.ClassAccuracy:P2}"));
                }
            });
            members.Add(net);
        }

        var dataDigest = "sha256:" + Convert.ToHexStringLower(digest.GetHashAndReset());
        var general = ScenarioSampler.Generate(10_000, spec.Seed - 1, limits);
        var (hardSet, _) = HardCaseSampler.Generate(5_000, spec.Seed - 2, limits, edge, hardShare: 1.0);
        var parameters = members.Sum(m => m.Parameters.Sum(p => p.Length));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["members"] = spec.Members.ToString(CultureInfo.InvariantCulture),
            ["hidden"] = spec.Hidden.ToString(CultureInfo.InvariantCulture),
            ["samples_per_member"] = spec.SamplesPerMember.ToString(CultureInfo.InvariantCulture),
            ["hard_share"] = spec.HardShare.ToString(CultureInfo.InvariantCulture),
            ["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = trainer.Epochs.ToString(CultureInfo.InvariantCulture),
            ["parameters"] = parameters.ToString(CultureInfo.InvariantCulture),
            ["training_data_digest"] = dataDigest,
            ["feature_names"] = string.Join(',', PolicyFeatures.Names),
        };
        var onnx = EnsembleOnnxWriter.Write(members, spec.Version, metadata);
        return new CloudModel(
            onnx, parameters, edge.Parameters.Sum(p => p.Length), dataDigest, hardRows,
            MeasureOnnx(onnx, general), MeasureOnnx(onnx, hardSet), Measure(edge, general), Measure(edge, hardSet));
    }

    /// <summary>Accuracy of a single network (the edge model) on <paramref name="data"/>.</summary>
    public static Holdout Measure(Mlp net, TrainingSet data)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        var fit = Trainer.Evaluate(net, data);
        return new Holdout(data.Count, fit.ClassAccuracy, fit.ActionMae);
    }

    /// <summary>Accuracy of an ONNX model with the policy's inputs and outputs, run by ONNX Runtime, on <paramref name="data"/>.</summary>
    public static Holdout MeasureOnnx(byte[] onnx, TrainingSet data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        var input = new float[PolicyFeatures.Count];
        var shape = new long[] { 1, PolicyFeatures.Count };
        double correct = 0, mae = 0;
        for (var n = 0; n < data.Count; n++)
        {
            data.Row(n).CopyTo(input);
            using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var outputs = session.Run(new RunOptions(), [PolicyFeatures.InputName], [value], [PolicyFeatures.ActionOutputName, PolicyFeatures.ObstacleOutputName]);
            var action = outputs[0].GetTensorDataAsSpan<float>();
            var probs = outputs[1].GetTensorDataAsSpan<float>();
            correct += (probs[1] > probs[0] ? 1 : 0) == data.Labels[n] ? 1 : 0;
            mae += Math.Abs(action[0] - data.Targets[n * 2]) + Math.Abs(action[1] - data.Targets[(n * 2) + 1]);
        }

        return new Holdout(data.Count, correct / data.Count, mae / (2.0 * data.Count));
    }
}
