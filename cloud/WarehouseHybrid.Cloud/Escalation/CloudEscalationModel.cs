using Microsoft.ML.OnnxRuntime;

namespace WarehouseHybrid.Cloud.Escalation;

/// <summary>One answer of the model: mean class probabilities, their spread over the ensemble, and the mean action.</summary>
/// <param name="Clear">Probability of a clear corridor.</param>
/// <param name="Obstacle">Probability of an obstacle ahead within the slowdown distance.</param>
/// <param name="ClearStd">Standard deviation of <paramref name="Clear"/> over the members (0 for a single network).</param>
/// <param name="ObstacleStd">Standard deviation of <paramref name="Obstacle"/> over the members.</param>
/// <param name="Linear">Proposed forward speed, fraction of the top speed.</param>
/// <param name="Angular">Proposed yaw rate, fraction of the top rate.</param>
public readonly record struct EscalationInference(float Clear, float Obstacle, float ClearStd, float ObstacleStd, float Linear, float Angular);

/// <summary>
/// The cloud escalation model in ONNX Runtime (CPU): input <c>features</c> [1, N], outputs <c>action</c>,
/// <c>obstacle_prob</c> and, for an ensemble, <c>obstacle_std</c>. The version and feature count come from the
/// model file (its metadata and input shape). <see cref="Infer"/> is thread-safe.
/// </summary>
public sealed class CloudEscalationModel : IDisposable
{
    private const string Input = "features";
    private const string ActionOutput = "action";
    private const string ProbabilityOutput = "obstacle_prob";
    private const string StdOutput = "obstacle_std";

    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly string[] _outputs;
    private readonly long[] _shape;

    /// <summary>Loads the model; throws <see cref="InvalidDataException"/> naming the file when it is not a model of this kind.</summary>
    public CloudEscalationModel(string path, int intraOpThreads = 1)
    {
        _options = new SessionOptions { IntraOpNumThreads = intraOpThreads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
            _session = new InferenceSession(path, _options);
        }
        catch (OnnxRuntimeException ex)
        {
            _options.Dispose();
            throw new InvalidDataException($"escalation model '{path}' does not load: {ex.Message}", ex);
        }

        try
        {
            if (!_session.InputMetadata.TryGetValue(Input, out var input) || input.Dimensions.Length != 2 || input.Dimensions[1] <= 0)
            {
                throw new InvalidDataException($"escalation model '{path}' needs an input '{Input}' of shape [1, N]");
            }

            foreach (var name in new[] { ActionOutput, ProbabilityOutput })
            {
                if (!_session.OutputMetadata.ContainsKey(name))
                {
                    throw new InvalidDataException($"escalation model '{path}' has no output '{name}'");
                }
            }

            FeatureCount = input.Dimensions[1];
            _shape = [1, FeatureCount];
            HasSpread = _session.OutputMetadata.ContainsKey(StdOutput);
            _outputs = HasSpread ? [ActionOutput, ProbabilityOutput, StdOutput] : [ActionOutput, ProbabilityOutput];
            var meta = _session.ModelMetadata.CustomMetadataMap;
            Version = meta.TryGetValue("version", out var v) && v.Length > 0 ? "cloud-" + v : "cloud-unversioned";
            Members = meta.TryGetValue("members", out var m) && int.TryParse(m, System.Globalization.CultureInfo.InvariantCulture, out var members) ? members : 1;
        }
        catch
        {
            _session.Dispose();
            _options.Dispose();
            throw;
        }
    }

    /// <summary>The model's version as answers name it (<c>cloud-</c> + the file's version metadata).</summary>
    public string Version { get; }

    /// <summary>Inputs the model takes.</summary>
    public int FeatureCount { get; }

    /// <summary>Ensemble members (metadata; 1 when not given).</summary>
    public int Members { get; }

    /// <summary>Whether the model reports its members' disagreement.</summary>
    public bool HasSpread { get; }

    /// <summary>Runs one row (<see cref="FeatureCount"/> values).</summary>
    public EscalationInference Infer(ReadOnlySpan<float> features)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"the model takes {FeatureCount} features, got {features.Length}", nameof(features));
        }

        var input = features.ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(input, _shape);
        using var run = new RunOptions();
        using var results = _session.Run(run, [Input], [value], _outputs);
        var action = results[0].GetTensorDataAsSpan<float>();
        var probs = results[1].GetTensorDataAsSpan<float>();
        var std = HasSpread ? results[2].GetTensorDataAsSpan<float>() : [0f, 0f];
        return new EscalationInference(probs[0], probs[1], std[0], std[1], action[0], action[1]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
