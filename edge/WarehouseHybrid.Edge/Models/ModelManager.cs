using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Inference;

namespace WarehouseHybrid.Edge.Models;

/// <summary>A model ready to run: the runnable model and the signed manifest it came with.</summary>
/// <param name="Model">The runnable model.</param>
/// <param name="Manifest">Its manifest (version, feature statistics for drift).</param>
/// <param name="Provider">The execution provider it runs on.</param>
/// <param name="ProviderAttempts">Every provider tried at start, with reasons.</param>
/// <param name="Source">Where the package came from (its directory; empty for models staged directly).</param>
public sealed record ActiveModel(ILearnedModel Model, ModelManifest Manifest, ExecutionProviderKind Provider, IReadOnlyList<ExecutionProviderAttempt> ProviderAttempts, string Source = "");

/// <summary>Outcome of <see cref="ModelManager.TryInstall(string)"/>.</summary>
/// <param name="Installed">Whether the package is now staged (it goes live at the next tick).</param>
/// <param name="Refusal">Why not.</param>
/// <param name="Detail">Reason naming the file and field, or the active provider on success.</param>
public sealed record ModelInstallResult(bool Installed, ModelRefusal Refusal, string Detail)
{
    /// <summary>The version installed (empty when refused before the manifest was read).</summary>
    public string Version { get; init; } = string.Empty;
}

/// <summary>What happened to a model (raised by <see cref="ModelManager.Lifecycle"/>).</summary>
public enum ModelLifecycleKind
{
    /// <summary>Verified and self-tested; goes live at the next tick.</summary>
    Staged,
    /// <summary>Refused (verification or self-test); the current model stays.</summary>
    Refused,
    /// <summary>Swapped in between two ticks; on probation when it replaced a model or none.</summary>
    Live,
    /// <summary>Passed probation: it is now the last good model.</summary>
    Promoted,
    /// <summary>Failed probation (consecutive faulty ticks): the last good model is back.</summary>
    RolledBack,
    /// <summary>Removed; the rule policy drives.</summary>
    Removed,
}

/// <summary>A model lifecycle event.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Version">The model concerned.</param>
/// <param name="Source">Its package directory (empty when unknown).</param>
/// <param name="Detail">Why, in words.</param>
public sealed record ModelLifecycleEvent(ModelLifecycleKind Kind, string Version, string Source, string Detail);

/// <summary>Probation and self-test rules of <see cref="ModelManager"/> (configuration section <c>Edge:ModelRollout</c>).</summary>
public sealed class ModelRolloutOptions
{
    /// <summary>Ticks a newly live model is on probation (the previous model is kept ready for a rollback meanwhile).</summary>
    public int ProbationTicks { get; init; } = 1000;

    /// <summary>Consecutive faulty ticks (late, NaN/out-of-range, runtime error) during probation that roll the model back.</summary>
    public int ProbationFailureStreak { get; init; } = 5;

    /// <summary>Recent real feature vectors kept for the next candidate's self-test (a ring).</summary>
    public int RecordedInputs { get; init; } = 64;

    /// <summary>One feature vector is recorded every this many ticks (spreads the ring over recent driving).</summary>
    public int RecordEveryTicks { get; init; } = 10;

    /// <summary>A self-test output whose |action| exceeds this (fractions of the top speeds) is out of range.</summary>
    public double SelfTestActionBound { get; init; } = 1.5;

    /// <summary>Errors, each naming the option.</summary>
    public IReadOnlyList<string> Validate(string section = "Edge:ModelRollout")
    {
        var errors = new List<string>();
        if (ProbationTicks < 0 || ProbationTicks > 10_000_000)
        {
            errors.Add($"{section}:ProbationTicks: {ProbationTicks} must be in [0, 10000000] (0: no probation)");
        }

        if (ProbationFailureStreak < 1 || ProbationFailureStreak > 100_000)
        {
            errors.Add($"{section}:ProbationFailureStreak: {ProbationFailureStreak} must be in [1, 100000]");
        }

        if (RecordedInputs < 1 || RecordedInputs > 10_000)
        {
            errors.Add($"{section}:RecordedInputs: {RecordedInputs} must be in [1, 10000]");
        }

        if (RecordEveryTicks < 1 || RecordEveryTicks > 100_000)
        {
            errors.Add($"{section}:RecordEveryTicks: {RecordEveryTicks} must be in [1, 100000]");
        }

        if (!(SelfTestActionBound > 0 && SelfTestActionBound <= 100))
        {
            errors.Add($"{section}:SelfTestActionBound: {SelfTestActionBound} must be in (0, 100]");
        }

        return errors;
    }
}

/// <summary>
/// Holds the active learned model and swaps it atomically between ticks: a new package is verified
/// (<see cref="ModelPackageLoader"/>), started on the best execution provider that passes its self-test, replayed on
/// recorded inputs (recent real feature vectors from <see cref="RecordInput"/>, plus the manifest's feature means)
/// whose outputs must be finite and in range and whose median latency must meet the deadline, and only then staged;
/// the control thread picks the staged model up at the start of its next tick (<see cref="AcquireForTick"/>). A
/// model that replaces another is on probation for <see cref="ModelRolloutOptions.ProbationTicks"/>: the previous one
/// stays ready, and <see cref="ModelRolloutOptions.ProbationFailureStreak"/> consecutive faulty ticks
/// (<see cref="ReportTick"/>) roll it back between ticks. A refused package leaves the current model in place (last
/// good model); with no valid model the rule policy drives. Every step is a <see cref="Lifecycle"/> event.
/// </summary>
public sealed partial class ModelManager : IDisposable
{
    private readonly ModelPackageLoader _loader;
    private readonly InferenceOptions _inference;
    private readonly ModelRolloutOptions _rollout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _recordGate = new();
    private readonly float[] _recorded;
    private readonly Lock _installGate = new();
    private int _recordedNext;
    private int _recordedCount;
    private ActiveModel? _staged;
    private ActiveModel? _current;
    private ActiveModel? _lastGood;
    private readonly ConcurrentQueue<ActiveModel> _retired = new();
    private bool _removeRequested;
    private ModelInstallResult? _last;
    private bool _probation;
    private int _probationTicks;
    private int _streak;
    private long _rollbacks;
    private long _promotions;
    private long _swaps;
    private long _refusals;

    /// <summary>Creates a manager with no model and the default rollout rules.</summary>
    public ModelManager(ModelPackageLoader loader, InferenceOptions inference, TimeProvider time, ILogger logger)
        : this(loader, inference, new ModelRolloutOptions(), time, logger)
    {
    }

    /// <summary>Creates a manager with no model.</summary>
    public ModelManager(ModelPackageLoader loader, InferenceOptions inference, ModelRolloutOptions rollout, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        var errors = rollout.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid model rollout options: " + string.Join("; ", errors), nameof(rollout));
        }

        _loader = loader;
        _inference = inference;
        _rollout = rollout;
        _time = time;
        _logger = logger;
        _recorded = new float[rollout.RecordedInputs * PolicyFeatures.Count];
    }

    /// <summary>
    /// Raised on every install, refusal, swap, promotion and rollback: on the installing thread for staged and refused,
    /// on the control thread for live, promoted and rolled back (handlers must not block or touch the disk there).
    /// </summary>
    public event Action<ModelLifecycleEvent>? Lifecycle;

    /// <summary>The model the control thread is using (or will use next tick, when one is staged); null when none.</summary>
    public ActiveModel? Current => Volatile.Read(ref _staged) ?? Volatile.Read(ref _current);

    /// <summary>The outcome of the latest install attempt.</summary>
    public ModelInstallResult? LastInstall => Volatile.Read(ref _last);

    /// <summary>The rollout rules.</summary>
    public ModelRolloutOptions Rollout => _rollout;

    /// <summary>Whether the live model is on probation.</summary>
    public bool OnProbation => Volatile.Read(ref _probation);

    /// <summary>Models rolled back after failing probation.</summary>
    public long Rollbacks => Interlocked.Read(ref _rollbacks);

    /// <summary>Models that passed probation.</summary>
    public long Promotions => Interlocked.Read(ref _promotions);

    /// <summary>Models swapped in between ticks.</summary>
    public long Swaps => Interlocked.Read(ref _swaps);

    /// <summary>Packages refused.</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    /// <summary>Verifies, starts and self-tests the package in <paramref name="directory"/> on the recorded inputs, then stages it.</summary>
    public ModelInstallResult TryInstall(string directory) => TryInstall(directory, null);

    /// <summary>As <see cref="TryInstall(string)"/>, self-testing on <paramref name="recordedInputs"/> (rows of <see cref="PolicyFeatures.Count"/>) instead of the recorded ring.</summary>
    public ModelInstallResult TryInstall(string directory, IReadOnlyList<float[]>? recordedInputs)
    {
        // One install at a time: the drop-directory watcher and the cloud link may both deliver packages.
        lock (_installGate)
        {
            return Install(directory, recordedInputs);
        }
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
    /// between ticks, so a tick never sees two models) and returns the model for this tick. Allocation-free
    /// unless a swap happens.
    /// </summary>
    public ActiveModel? AcquireForTick()
    {
        if (Volatile.Read(ref _removeRequested))
        {
            Volatile.Write(ref _removeRequested, false);
            var removed = Interlocked.Exchange(ref _current, null);
            EndProbation();
            Retire(removed);
            if (removed is not null)
            {
                Raise(ModelLifecycleKind.Removed, removed, "removed; the rule policy drives");
            }
        }

        if (Volatile.Read(ref _staged) is not null)
        {
            var next = Interlocked.Exchange(ref _staged, null);
            if (next is not null)
            {
                SwapIn(next);
            }
        }

        return _current;
    }

    /// <summary>
    /// The control thread reports how the live model's inference went this tick. During probation a streak of
    /// <see cref="ModelRolloutOptions.ProbationFailureStreak"/> faulty ticks rolls back to the last good model (or to no
    /// model, when the candidate was the first); <see cref="ModelRolloutOptions.ProbationTicks"/> ticks promote it.
    /// Allocation-free unless the probation ends.
    /// </summary>
    public void ReportTick(InferenceStatus status)
    {
        if (!_probation)
        {
            return;
        }

        if (status == InferenceStatus.Ok)
        {
            _streak = 0;
        }
        else if (++_streak >= _rollout.ProbationFailureStreak)
        {
            RollBack(status);
            return;
        }

        if (++_probationTicks >= _rollout.ProbationTicks)
        {
            var promoted = _current!;
            EndProbation();
            Interlocked.Increment(ref _promotions);
            Raise(ModelLifecycleKind.Promoted, promoted, string.Create(CultureInfo.InvariantCulture, $"passed probation ({_rollout.ProbationTicks} ticks); now the last good model"));
        }
    }

    /// <summary>
    /// Keeps <paramref name="features"/> (one tick's real input) in the ring the next candidate is self-tested on.
    /// The control thread calls it every <see cref="ModelRolloutOptions.RecordEveryTicks"/> ticks; allocation-free.
    /// </summary>
    public void RecordInput(ReadOnlySpan<float> features)
    {
        if (features.Length < PolicyFeatures.Count)
        {
            return;
        }

        lock (_recordGate)
        {
            features[..PolicyFeatures.Count].CopyTo(_recorded.AsSpan(_recordedNext * PolicyFeatures.Count, PolicyFeatures.Count));
            _recordedNext = (_recordedNext + 1) % _rollout.RecordedInputs;
            _recordedCount = Math.Min(_recordedCount + 1, _rollout.RecordedInputs);
        }
    }

    /// <summary>A copy of the recorded inputs, oldest first.</summary>
    public IReadOnlyList<float[]> RecordedInputs()
    {
        lock (_recordGate)
        {
            var rows = new float[_recordedCount][];
            var first = (_recordedNext - _recordedCount + _rollout.RecordedInputs) % _rollout.RecordedInputs;
            for (var i = 0; i < rows.Length; i++)
            {
                rows[i] = _recorded.AsSpan(((first + i) % _rollout.RecordedInputs) * PolicyFeatures.Count, PolicyFeatures.Count).ToArray();
            }

            return rows;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeRetired();
        (Interlocked.Exchange(ref _staged, null)?.Model as IDisposable)?.Dispose();
        (Interlocked.Exchange(ref _current, null)?.Model as IDisposable)?.Dispose();
        (Interlocked.Exchange(ref _lastGood, null)?.Model as IDisposable)?.Dispose();
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

    private ModelInstallResult Install(string directory, IReadOnlyList<float[]>? recordedInputs)
    {
        var loaded = _loader.Load(directory);
        if (loaded.Package is not { } package)
        {
            return Refused(directory, string.Empty, loaded.Refusal, loaded.Detail);
        }

        var replay = new List<float[]> { FeatureMeans(package.Manifest) };
        replay.AddRange(recordedInputs ?? RecordedInputs());
        OnnxPolicy policy;
        try
        {
            // The replay runs per provider: a GPU provider too slow for the deadline falls back to the next one.
            policy = OnnxPolicy.Create(package.Version, package.Onnx, replay[0], _inference, _time, _logger, p => SelfTest(p, replay));
        }
        catch (InvalidOperationException ex)
        {
            return Refused(directory, package.Version, ModelRefusal.SelfTestFailed, $"{directory}: {ex.Message}");
        }

        var model = new ActiveModel(policy, package.Manifest, policy.ActiveProvider, policy.Attempts, directory);
        Stage(model);
        var result = new ModelInstallResult(true, ModelRefusal.None,
            string.Create(CultureInfo.InvariantCulture, $"model {package.Version} on {policy.ActiveProvider}, self-tested on {replay.Count} inputs ({replay.Count - 1} recorded)"))
        { Version = package.Version };
        Volatile.Write(ref _last, result);
        LogInstalled(_logger, package.Version, directory, policy.ActiveProvider, replay.Count);
        Raise(ModelLifecycleKind.Staged, model, result.Detail);
        return result;
    }

    /// <summary>Replays the inputs: every output finite and in range, median latency within the deadline. Null when it passes.</summary>
    private string? SelfTest(OnnxPolicy policy, IReadOnlyList<float[]> replay)
    {
        var elapsed = new double[replay.Count];
        for (var i = 0; i < replay.Count; i++)
        {
            if (policy.SelfTest(replay[i]) is { } failure)
            {
                return $"self-test input #{i}{(i == 0 ? " (feature means)" : " (recorded)")}: {failure}";
            }

            var output = policy.LastOutput;
            if (Math.Abs(output.LinearFraction) > _rollout.SelfTestActionBound || Math.Abs(output.AngularFraction) > _rollout.SelfTestActionBound)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"self-test input #{i}: action ({output.LinearFraction:G4}, {output.AngularFraction:G4}) is outside +-{_rollout.SelfTestActionBound} of the top speeds");
            }

            elapsed[i] = output.Elapsed.TotalMilliseconds;
        }

        Array.Sort(elapsed);
        var median = elapsed[elapsed.Length / 2];
        return median > _inference.Deadline.TotalMilliseconds
            ? string.Create(CultureInfo.InvariantCulture, $"too slow: median inference {median:F3} ms over {replay.Count} self-test inputs exceeds the {_inference.Deadline.TotalMilliseconds:F3} ms deadline on {policy.ActiveProvider}")
            : null;
    }

    private void SwapIn(ActiveModel next)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        Interlocked.Increment(ref _swaps);
        if (_probation || _rollout.ProbationTicks == 0)
        {
            // A candidate replaced while on probation never became good: the last good model stays the fallback.
            Retire(previous);
        }
        else
        {
            Retire(Interlocked.Exchange(ref _lastGood, previous));
        }

        var probation = _rollout.ProbationTicks > 0;
        Volatile.Write(ref _probation, probation);
        _probationTicks = 0;
        _streak = 0;
        var fallback = _lastGood is { } good ? good.Manifest.Version : "none (the rule policy)";
        Raise(ModelLifecycleKind.Live, next, probation
            ? string.Create(CultureInfo.InvariantCulture, $"live on {next.Provider}; on probation for {_rollout.ProbationTicks} ticks, rollback to {fallback}")
            : $"live on {next.Provider}");
    }

    private void RollBack(InferenceStatus status)
    {
        var failed = _current!;
        var restored = Interlocked.Exchange(ref _lastGood, null);
        Volatile.Write(ref _current, restored);
        Volatile.Write(ref _probation, false);
        Retire(failed);
        Interlocked.Increment(ref _rollbacks);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{_streak} consecutive {status} ticks after {_probationTicks} on probation; back to {restored?.Manifest.Version ?? "no model (the rule policy)"}");
        _streak = 0;
        LogRolledBack(_logger, failed.Manifest.Version, detail);
        Raise(ModelLifecycleKind.RolledBack, failed, detail);
    }

    /// <summary>Ends probation; the model kept for a rollback is no longer needed.</summary>
    private void EndProbation()
    {
        Volatile.Write(ref _probation, false);
        _probationTicks = 0;
        _streak = 0;
        Retire(Interlocked.Exchange(ref _lastGood, null));
    }

    private void Raise(ModelLifecycleKind kind, ActiveModel model, string detail) =>
        Lifecycle?.Invoke(new ModelLifecycleEvent(kind, model.Manifest.Version, model.Source, detail));

    private void Retire(ActiveModel? old)
    {
        if (old is not null)
        {
            // Disposed later off the control thread (DisposeRetired: next install, the rollout service, Dispose): the swap stays cheap.
            _retired.Enqueue(old);
        }
    }

    /// <summary>Releases models the control thread retired (ONNX sessions); call from any thread but the control thread.</summary>
    public void DisposeRetired()
    {
        while (_retired.TryDequeue(out var old))
        {
            (old.Model as IDisposable)?.Dispose();
        }
    }

    private ModelInstallResult Refused(string directory, string version, ModelRefusal refusal, string detail)
    {
        var result = new ModelInstallResult(false, refusal, detail) { Version = version };
        Volatile.Write(ref _last, result);
        Interlocked.Increment(ref _refusals);
        LogRefused(_logger, directory, refusal, detail);
        Lifecycle?.Invoke(new ModelLifecycleEvent(ModelLifecycleKind.Refused, version, directory, $"{refusal}: {detail}"));
        return result;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Model {Version} from '{Directory}' staged on {Provider} (self-tested on {Inputs} inputs)")]
    private static partial void LogInstalled(ILogger logger, string version, string directory, ExecutionProviderKind provider, int inputs);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Model package '{Directory}' refused ({Refusal}): {Detail}")]
    private static partial void LogRefused(ILogger logger, string directory, ModelRefusal refusal, string detail);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Model {Version} rolled back: {Detail}")]
    private static partial void LogRolledBack(ILogger logger, string version, string detail);
}
