using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace WarehouseHybrid.Edge.Inference;

/// <summary>Execution providers the daemon knows how to request, tried in the configured order.</summary>
public enum ExecutionProviderKind
{
    /// <summary>The CPU provider: always available, the final fallback.</summary>
    Cpu = 0,
    /// <summary>NVIDIA CUDA (JetPack's ONNX Runtime on a Jetson).</summary>
    Cuda = 1,
    /// <summary>NVIDIA TensorRT (JetPack's ONNX Runtime on a Jetson).</summary>
    TensorRT = 2,
}

/// <summary>One attempt to start a provider: whether it passed its self-test and, if not, why.</summary>
/// <param name="Provider">The provider tried.</param>
/// <param name="Succeeded">Whether the session was created and the self-test inference passed.</param>
/// <param name="Reason">Why it failed (empty on success).</param>
public sealed record ExecutionProviderAttempt(ExecutionProviderKind Provider, bool Succeeded, string Reason);

/// <summary>How one inference went.</summary>
public enum InferenceStatus : byte
{
    /// <summary>On time with finite outputs.</summary>
    Ok = 0,
    /// <summary>Finished after the per-tick deadline: the result is discarded.</summary>
    Late = 1,
    /// <summary>ONNX Runtime threw.</summary>
    Fault = 2,
    /// <summary>An output was NaN or infinite, or a probability outside [0, 1].</summary>
    NonFinite = 3,
}

/// <summary>The learned policy's output for one tick.</summary>
/// <param name="Status">Whether the output can be used.</param>
/// <param name="LinearFraction">Proposed forward speed over the top speed.</param>
/// <param name="AngularFraction">Proposed yaw rate over the top yaw rate.</param>
/// <param name="ObstacleProbability">Probability of "obstacle ahead".</param>
/// <param name="Confidence">Probability of the predicted obstacle class (max of the softmax).</param>
/// <param name="Elapsed">Inference time.</param>
public readonly record struct LearnedOutput(
    InferenceStatus Status, float LinearFraction, float AngularFraction, float ObstacleProbability, float Confidence, TimeSpan Elapsed);

/// <summary>A learned model the decision module can run once per tick; the ONNX policy is one, tests supply fakes.</summary>
public interface ILearnedModel
{
    /// <summary>Version of the model (from its manifest).</summary>
    string Version { get; }

    /// <summary>The preallocated input row: write <see cref="PolicyFeatures.Count"/> features here, then <see cref="Run"/>.</summary>
    Span<float> Input { get; }

    /// <summary>Runs one inference over <see cref="Input"/> against the per-tick deadline. Must not allocate.</summary>
    LearnedOutput Run();
}

/// <summary>Settings of the ONNX policy.</summary>
public sealed class InferenceOptions
{
    /// <summary>Providers to try, in order; CPU is appended when missing (the final fallback).</summary>
    public IList<ExecutionProviderKind> ExecutionProviders { get; init; } = [ExecutionProviderKind.TensorRT, ExecutionProviderKind.Cuda, ExecutionProviderKind.Cpu];

    /// <summary>Per-tick inference deadline: a result later than this is discarded and the rule policy acts.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Intra-op threads (1: the control loop owns one core and must not fan out).</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Errors, each naming the option.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Deadline <= TimeSpan.Zero || Deadline > TimeSpan.FromSeconds(1))
        {
            errors.Add($"Inference:Deadline: {Deadline} must be in (0, 1 s]");
        }

        if (IntraOpThreads < 1 || IntraOpThreads > 64)
        {
            errors.Add($"Inference:IntraOpThreads: {IntraOpThreads} must be in [1, 64]");
        }

        return errors;
    }
}

/// <summary>
/// The learned driving policy on ONNX Runtime: one session with one intra-op thread and sequential execution,
/// input and outputs in arrays pinned once as <see cref="OrtValue"/>s and bound with <see cref="OrtIoBinding"/>,
/// so an inference allocates nothing managed. Providers are tried in the configured order, each with a self-test
/// inference; failures are kept with their reasons and CPU is the final fallback.
/// Not thread-safe: the control thread owns it.
/// </summary>
public sealed partial class OnnxPolicy : ILearnedModel, IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _sessionOptions;
    private readonly RunOptions _runOptions;
    private readonly OrtIoBinding _binding;
    private readonly OrtValue _inputValue;
    private readonly OrtValue _actionValue;
    private readonly OrtValue _obstacleValue;
    private readonly float[] _input = new float[PolicyFeatures.Count];
    private readonly float[] _action = new float[2];
    private readonly float[] _obstacle = new float[2];
    private readonly TimeProvider _time;
    private readonly TimeSpan _deadline;
    private long _runs;
    private long _late;
    private long _faults;
    private bool _disposed;

    private OnnxPolicy(string version, InferenceSession session, SessionOptions options, ExecutionProviderKind active, IReadOnlyList<ExecutionProviderAttempt> attempts, TimeProvider time, TimeSpan deadline)
    {
        Version = version;
        _session = session;
        _sessionOptions = options;
        ActiveProvider = active;
        Attempts = attempts;
        _time = time;
        _deadline = deadline;
        _runOptions = new RunOptions();
        _inputValue = OrtValue.CreateTensorValueFromMemory(_input, [1, PolicyFeatures.Count]);
        _actionValue = OrtValue.CreateTensorValueFromMemory(_action, [1, 2]);
        _obstacleValue = OrtValue.CreateTensorValueFromMemory(_obstacle, [1, 2]);
        _binding = session.CreateIoBinding();
        _binding.BindInput(PolicyFeatures.InputName, _inputValue);
        _binding.BindOutput(PolicyFeatures.ActionOutputName, _actionValue);
        _binding.BindOutput(PolicyFeatures.ObstacleOutputName, _obstacleValue);
        _binding.SynchronizeBoundInputs();
    }

    /// <inheritdoc />
    public string Version { get; }

    /// <summary>The provider that passed its self-test.</summary>
    public ExecutionProviderKind ActiveProvider { get; }

    /// <summary>Every provider tried, in order, with the reason of each failure.</summary>
    public IReadOnlyList<ExecutionProviderAttempt> Attempts { get; }

    /// <inheritdoc />
    public Span<float> Input => _input;

    /// <summary>Inferences run.</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>Inferences that finished past the deadline.</summary>
    public long DeadlineOverruns => Interlocked.Read(ref _late);

    /// <summary>Inferences that threw or produced non-finite outputs.</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>The output of the latest <see cref="Run"/> (self-tests read it).</summary>
    public LearnedOutput LastOutput { get; private set; }

    /// <summary>The underlying session (benchmarks compare binding styles over it).</summary>
    internal InferenceSession Session => _session;

    /// <summary>
    /// Creates a session for <paramref name="onnx"/>, trying each configured provider with a self-test inference
    /// on <paramref name="selfTestInput"/> (finite outputs required) and then <paramref name="accept"/> (the model
    /// manager's replay of recorded inputs: ranges and latency), so a provider that runs but is too slow or wrong falls
    /// back to the next one. Throws <see cref="InvalidOperationException"/> listing every attempt when even CPU fails
    /// (an unloadable graph, a schema the daemon cannot bind, outputs that fail the checks everywhere).
    /// </summary>
    public static OnnxPolicy Create(string version, byte[] onnx, ReadOnlySpan<float> selfTestInput, InferenceOptions options, TimeProvider time, ILogger logger, Func<OnnxPolicy, string?>? accept = null)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid inference options: " + string.Join("; ", errors), nameof(options));
        }

        var order = options.ExecutionProviders.Distinct().ToList();
        if (!order.Contains(ExecutionProviderKind.Cpu))
        {
            order.Add(ExecutionProviderKind.Cpu);
        }

        var attempts = new List<ExecutionProviderAttempt>();
        foreach (var provider in order)
        {
            SessionOptions? sessionOptions = null;
            InferenceSession? session = null;
            OnnxPolicy? policy = null;
            try
            {
                sessionOptions = NewSessionOptions(options);
                Append(sessionOptions, provider);
                session = new InferenceSession(onnx, sessionOptions);
                attempts.Add(new ExecutionProviderAttempt(provider, true, string.Empty));
                policy = new OnnxPolicy(version, session, sessionOptions, provider, attempts.ToArray(), time, options.Deadline);
                var failure = policy.SelfTest(selfTestInput) ?? accept?.Invoke(policy);
                if (failure is not null)
                {
                    attempts.RemoveAt(attempts.Count - 1);
                    throw new InvalidOperationException(failure);
                }

                policy.ResetCounters();
                LogProviderActive(logger, version, provider);
                return policy;
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or InvalidOperationException or ArgumentException or NotSupportedException)
            {
                var reason = $"{ex.GetType().Name}: {FirstLine(ex.Message)}";
                attempts.Add(new ExecutionProviderAttempt(provider, false, reason));
                LogProviderFailed(logger, version, provider, reason);
                if (policy is not null)
                {
                    policy.Dispose();
                }
                else
                {
                    session?.Dispose();
                    sessionOptions?.Dispose();
                }
            }
        }

        throw new InvalidOperationException(
            $"model {version}: no execution provider passed its self-test: " +
            string.Join("; ", attempts.Select(a => $"{a.Provider}: {a.Reason}")));
    }

    /// <summary>Runs <paramref name="input"/> through the model without a deadline; null when the outputs are usable, else why not.</summary>
    public string? SelfTest(ReadOnlySpan<float> input)
    {
        if (input.Length != PolicyFeatures.Count)
        {
            return $"self-test input has {input.Length} features, expected {PolicyFeatures.Count}";
        }

        input.CopyTo(_input);
        var output = Run();
        return output.Status switch
        {
            InferenceStatus.Ok => null,
            InferenceStatus.Late => null,
            _ => $"self-test inference returned {output.Status} (action [{_action[0]}, {_action[1]}], obstacle_prob [{_obstacle[0]}, {_obstacle[1]}])",
        };
    }

    /// <inheritdoc />
    public LearnedOutput Run()
    {
        var output = RunCore();
        LastOutput = output;
        return output;
    }

    private LearnedOutput RunCore()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var start = _time.GetTimestamp();
        try
        {
            _session.RunWithBinding(_runOptions, _binding);
        }
        catch (OnnxRuntimeException)
        {
            Interlocked.Increment(ref _faults);
            return new LearnedOutput(InferenceStatus.Fault, 0, 0, 0, 0, _time.GetElapsedTime(start));
        }

        var elapsed = _time.GetElapsedTime(start);
        Interlocked.Increment(ref _runs);
        var v = _action[0];
        var w = _action[1];
        var pClear = _obstacle[0];
        var pObstacle = _obstacle[1];
        if (!float.IsFinite(v) || !float.IsFinite(w) || !(pObstacle >= 0f && pObstacle <= 1f) || !(pClear >= 0f && pClear <= 1f))
        {
            Interlocked.Increment(ref _faults);
            return new LearnedOutput(InferenceStatus.NonFinite, v, w, pObstacle, 0, elapsed);
        }

        var status = InferenceStatus.Ok;
        if (elapsed > _deadline)
        {
            Interlocked.Increment(ref _late);
            status = InferenceStatus.Late;
        }

        return new LearnedOutput(status, v, w, pObstacle, Math.Max(pClear, pObstacle), elapsed);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _binding.Dispose();
        _inputValue.Dispose();
        _actionValue.Dispose();
        _obstacleValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _sessionOptions.Dispose();
    }

    private void ResetCounters()
    {
        _runs = 0;
        _late = 0;
        _faults = 0;
    }

    private static SessionOptions NewSessionOptions(InferenceOptions options) => new()
    {
        IntraOpNumThreads = options.IntraOpThreads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        // Spinning worker threads would burn the core the control loop shares; with one thread there are none anyway.
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };

    private static void Append(SessionOptions options, ExecutionProviderKind provider)
    {
        switch (provider)
        {
            case ExecutionProviderKind.TensorRT:
                options.AppendExecutionProvider_Tensorrt(0);
                break;
            case ExecutionProviderKind.Cuda:
                options.AppendExecutionProvider_CUDA(0);
                break;
            case ExecutionProviderKind.Cpu:
                break;
            default:
                throw new NotSupportedException($"execution provider {provider} is not supported");
        }
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Model {Version}: execution provider {Provider} active")]
    private static partial void LogProviderActive(ILogger logger, string version, ExecutionProviderKind provider);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Model {Version}: execution provider {Provider} unavailable: {Reason}")]
    private static partial void LogProviderFailed(ILogger logger, string version, ExecutionProviderKind provider, string reason);
}
