using Microsoft.Extensions.Logging;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Inference;

namespace WarehouseHybrid.Edge.Models;

/// <summary>A model ready to run: the runnable model and the signed manifest it came with.</summary>
/// <param name="Model">The runnable model.</param>
/// <param name="Manifest">Its manifest (version, feature statistics for drift).</param>
/// <param name="Provider">The execution provider it runs on.</param>
/// <param name="ProviderAttempts">Every provider tried at start, with reasons.</param>
public sealed record ActiveModel(ILearnedModel Model, ModelManifest Manifest, ExecutionProviderKind Provider, IReadOnlyList<ExecutionProviderAttempt> ProviderAttempts);

/// <summary>Outcome of <see cref="ModelManager.TryInstall(string)"/>.</summary>
/// <param name="Installed">Whether the package is now staged (it goes live at the next tick).</param>
/// <param name="Refusal">Why not.</param>
/// <param name="Detail">Reason naming the file and field, or the active provider on success.</param>
public sealed record ModelInstallResult(bool Installed, ModelRefusal Refusal, string Detail);

/// <summary>
/// Holds the active learned model and swaps it atomically between ticks: a new package is verified
/// (<see cref="ModelPackageLoader"/>), started on the best execution provider that passes its self-test, run on
/// recorded inputs (the manifest's feature means when none are given) and only then staged; the control thread
/// picks the staged model up at the start of its next tick (<see cref="AcquireForTick"/>). A failing package
/// leaves the current model in place (last good model); with no valid model the rule policy drives.
/// </summary>
public sealed partial class ModelManager : IDisposable
{
    private readonly ModelPackageLoader _loader;
    private readonly InferenceOptions _inference;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ActiveModel? _staged;
    private ActiveModel? _current;
    private ActiveModel? _retired;
    private bool _removeRequested;
    private ModelInstallResult? _last;

    /// <summary>Creates a manager with no model.</summary>
    public ModelManager(ModelPackageLoader loader, InferenceOptions inference, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _loader = loader;
        _inference = inference;
        _time = time;
        _logger = logger;
    }

    /// <summary>The model the control thread is using (or will use next tick, when one is staged); null when none.</summary>
    public ActiveModel? Current => Volatile.Read(ref _staged) ?? Volatile.Read(ref _current);

    /// <summary>The outcome of the latest install attempt.</summary>
    public ModelInstallResult? LastInstall => Volatile.Read(ref _last);

    /// <summary>Verifies, starts and self-tests the package in <paramref name="directory"/>, then stages it.</summary>
    public ModelInstallResult TryInstall(string directory) => TryInstall(directory, null);

    /// <summary>As <see cref="TryInstall(string)"/>, self-testing on <paramref name="recordedInputs"/> (rows of <see cref="PolicyFeatures.Count"/>).</summary>
    public ModelInstallResult TryInstall(string directory, IReadOnlyList<float[]>? recordedInputs)
    {
        var loaded = _loader.Load(directory);
        if (loaded.Package is not { } package)
        {
            return Refused(directory, loaded.Refusal, loaded.Detail);
        }

        var selfTest = recordedInputs is { Count: > 0 } ? recordedInputs : [FeatureMeans(package.Manifest)];
        OnnxPolicy policy;
        try
        {
            policy = OnnxPolicy.Create(package.Version, package.Onnx, selfTest[0], _inference, _time, _logger);
        }
        catch (InvalidOperationException ex)
        {
            return Refused(directory, ModelRefusal.SelfTestFailed, ex.Message);
        }

        for (var i = 1; i < selfTest.Count; i++)
        {
            if (policy.SelfTest(selfTest[i]) is { } failure)
            {
                policy.Dispose();
                return Refused(directory, ModelRefusal.SelfTestFailed, $"{directory}: recorded input #{i}: {failure}");
            }
        }

        Stage(new ActiveModel(policy, package.Manifest, policy.ActiveProvider, policy.Attempts));
        var result = new ModelInstallResult(true, ModelRefusal.None, $"model {package.Version} on {policy.ActiveProvider}");
        Volatile.Write(ref _last, result);
        LogInstalled(_logger, package.Version, directory, policy.ActiveProvider);
        return result;
    }

    /// <summary>Stages an already started model (tests and benchmarks use fakes); it goes live at the next tick.</summary>
    public void Stage(ActiveModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        DisposeRetired();
        var previous = Interlocked.Exchange(ref _staged, model);
        (previous?.Model as IDisposable)?.Dispose();
    }

    /// <summary>Removes the model: from the next tick the rule policy drives.</summary>
    public void Remove()
    {
        DisposeRetired();
        var staged = Interlocked.Exchange(ref _staged, null);
        (staged?.Model as IDisposable)?.Dispose();
        Volatile.Write(ref _removeRequested, true);
    }

    /// <summary>
    /// Called by the control thread at the start of each tick: promotes a staged model (the swap happens here,
    /// between ticks, so a tick never sees two models) and returns the model for this tick. Allocation-free.
    /// </summary>
    public ActiveModel? AcquireForTick()
    {
        if (Volatile.Read(ref _removeRequested))
        {
            Volatile.Write(ref _removeRequested, false);
            Retire(Interlocked.Exchange(ref _current, null));
        }

        if (Volatile.Read(ref _staged) is not null)
        {
            var next = Interlocked.Exchange(ref _staged, null);
            if (next is not null)
            {
                Retire(Interlocked.Exchange(ref _current, next));
            }
        }

        return _current;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeRetired();
        (Interlocked.Exchange(ref _staged, null)?.Model as IDisposable)?.Dispose();
        (Interlocked.Exchange(ref _current, null)?.Model as IDisposable)?.Dispose();
    }

    /// <summary>The manifest's per-feature training means: a typical input for a self-test.</summary>
    public static float[] FeatureMeans(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var row = new float[PolicyFeatures.Count];
        for (var i = 0; i < row.Length && i < manifest.FeatureStatistics.Count; i++)
        {
            row[i] = (float)manifest.FeatureStatistics[i].Mean;
        }

        return row;
    }

    private void Retire(ActiveModel? old)
    {
        if (old is not null)
        {
            // Disposed later off the control thread (next install or Dispose): the swap itself stays cheap.
            (Interlocked.Exchange(ref _retired, old)?.Model as IDisposable)?.Dispose();
        }
    }

    private void DisposeRetired() => (Interlocked.Exchange(ref _retired, null)?.Model as IDisposable)?.Dispose();

    private ModelInstallResult Refused(string directory, ModelRefusal refusal, string detail)
    {
        var result = new ModelInstallResult(false, refusal, detail);
        Volatile.Write(ref _last, result);
        LogRefused(_logger, directory, refusal, detail);
        return result;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Model {Version} from '{Directory}' staged on {Provider}")]
    private static partial void LogInstalled(ILogger logger, string version, string directory, ExecutionProviderKind provider);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Model package '{Directory}' refused ({Refusal}): {Detail}")]
    private static partial void LogRefused(ILogger logger, string directory, ModelRefusal refusal, string detail);
}
