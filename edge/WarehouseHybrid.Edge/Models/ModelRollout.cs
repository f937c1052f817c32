using System.Globalization;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Edge.Control;

namespace WarehouseHybrid.Edge.Models;

/// <summary>The three files of a model package as bytes (how a rollout arrives over MQTT).</summary>
/// <param name="Onnx">model.onnx.</param>
/// <param name="Manifest">manifest.pb, exactly as signed.</param>
/// <param name="Signature">manifest.sig.</param>
public sealed record ModelPackageFiles(byte[] Onnx, byte[] Manifest, byte[] Signature);

/// <summary>
/// Installs model packages at run time: the seam the cloud link calls when a rollout arrives (and the drop-directory
/// watcher uses). A call verifies the signature, self-tests the model on recorded real inputs and stages it; it goes
/// live between two ticks and is on probation after that (a faulty streak rolls it back to the last good model).
/// Calls are serialised; none runs on the control thread. The probation outcome comes later as a
/// <c>model-promoted</c> or <c>model-rollback</c> event (and audit record).
/// </summary>
public interface IModelInstaller
{
    /// <summary>Installs the package in <paramref name="packageDirectory"/> (copied into the model store first); <paramref name="origin"/> names who sent it (audit).</summary>
    Task<ModelInstallResult> InstallAsync(string packageDirectory, string origin, CancellationToken cancellationToken = default);

    /// <summary>Installs a package given as bytes (written into the model store first).</summary>
    Task<ModelInstallResult> InstallAsync(ModelPackageFiles files, string origin, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the learned model (a revert to a robot that ran none): the rule policy drives from the next tick, and
    /// the store no longer names a last good package, so a restart starts the configured package (or none).
    /// </summary>
    Task RemoveAsync(string origin, CancellationToken cancellationToken = default);
}

/// <summary>Where the model store lives and how often the drop directory is looked at.</summary>
/// <param name="StoreDirectory">The store: <c>incoming/</c> (drop packages here), <c>packages/</c>, <c>rejected/</c>, <c>current</c>.</param>
/// <param name="PollInterval">How often <c>incoming/</c> is scanned.</param>
/// <param name="KeepRejected">Rejected packages kept for inspection (oldest deleted first).</param>
public sealed record ModelStoreSettings(string StoreDirectory, TimeSpan PollInterval, int KeepRejected = 10);

/// <summary>
/// The run-time model rollout (docs/adr/0009-edge-audit-metrics.md): a watched drop directory and
/// <see cref="IModelInstaller"/> over a <see cref="ModelManager"/>. A package directory that appears in
/// <c>incoming/</c> (and stays unchanged for one poll, so a copy in progress is never read) is moved into
/// <c>packages/</c>, installed, and either goes live or is moved to <c>rejected/</c> with a <c>reason.txt</c>. A model
/// that passes probation is remembered in the file <c>current</c> (the daemon starts it again after a restart, before
/// the configured package); one that is rolled back moves to <c>rejected/</c>. Every step is a robot event and, through
/// an auditing sink, an audit record. File work never happens on the control thread.
/// </summary>
public sealed partial class ModelRolloutService : IModelInstaller, IDisposable
{
    /// <summary>Where packages are dropped.</summary>
    public const string IncomingFolder = "incoming";

    /// <summary>Where accepted and candidate packages live.</summary>
    public const string PackagesFolder = "packages";

    /// <summary>Where refused and rolled-back packages go.</summary>
    public const string RejectedFolder = "rejected";

    /// <summary>Names the package directory of the last model that passed probation.</summary>
    public const string CurrentFile = "current";

    private readonly ModelManager _models;
    private readonly ModelStoreSettings _settings;
    private readonly IRobotEventSink _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _pollGate = new(1, 1);
    private readonly Dictionary<string, string> _seen = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _installing = new(StringComparer.Ordinal);
    private ITimer? _timer;
    private int _polling;
    private long _sequence;

    /// <summary>Creates the service (nothing is watched until <see cref="Start"/>).</summary>
    public ModelRolloutService(ModelManager models, ModelStoreSettings settings, IRobotEventSink events, TimeProvider time, ILogger logger)
    {
        _models = models ?? throw new ArgumentNullException(nameof(models));
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _events = events ?? throw new ArgumentNullException(nameof(events));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        if (settings.PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.PollInterval, "the drop directory poll interval must be positive");
        }

        _models.Lifecycle += OnLifecycle;
    }

    /// <summary>The drop directory.</summary>
    public string Incoming => Path.Combine(_settings.StoreDirectory, IncomingFolder);

    /// <summary>Where refused and rolled-back packages are kept.</summary>
    public string Rejected => Path.Combine(_settings.StoreDirectory, RejectedFolder);

    /// <summary>Packages taken from the drop directory so far.</summary>
    public long Picked { get; private set; }

    /// <summary>Creates the store folders and starts watching <see cref="Incoming"/>. Throws <see cref="IOException"/> naming the folder when it cannot be created.</summary>
    public void Start()
    {
        foreach (var folder in new[] { IncomingFolder, PackagesFolder, RejectedFolder })
        {
            Directory.CreateDirectory(Path.Combine(_settings.StoreDirectory, folder));
        }

        _timer = _time.CreateTimer(static s => ((ModelRolloutService)s!).PollSafely(), this, _settings.PollInterval, _settings.PollInterval);
    }

    /// <summary>The package of the last model that passed probation (from <c>current</c>), or null.</summary>
    public string? LastGoodPackage()
    {
        try
        {
            var path = File.ReadAllText(Path.Combine(_settings.StoreDirectory, CurrentFile)).Trim();
            return path.Length > 0 && Directory.Exists(path) ? path : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>One scan of the drop directory now (the timer calls it; tests call it with a FakeTimeProvider).</summary>
    public async Task PollAsync(CancellationToken cancellationToken = default)
    {
        await _pollGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await PollCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pollGate.Release();
        }
    }

    private async Task PollCoreAsync(CancellationToken cancellationToken)
    {
        _models.DisposeRetired();
        string[] candidates;
        try
        {
            candidates = Directory.GetDirectories(Incoming);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogPollFailed(_logger, Incoming, ex.Message);
            return;
        }

        foreach (var dir in candidates.Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith('.'))
            {
                continue; // being written: the producer renames it into place when done
            }

            // A package is taken once it looks the same on two polls in a row (a copy in progress keeps changing).
            var signature = Signature(dir);
            if (!_seen.TryGetValue(name, out var previous) || previous != signature)
            {
                _seen[name] = signature;
                continue;
            }

            _seen.Remove(name);
            Picked++;
            var target = NewPackagePath(name);
            try
            {
                Directory.Move(dir, target);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogPollFailed(_logger, dir, ex.Message);
                _installing.TryRemove(Path.GetFullPath(target), out _);
                continue;
            }

            await InstallStoredAsync(target, $"drop directory ({name})", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<ModelInstallResult> InstallAsync(string packageDirectory, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(packageDirectory);
        var target = NewPackagePath(Path.GetFileName(Path.TrimEndingDirectorySeparator(packageDirectory)));
        var temp = TempPath(target);
        try
        {
            Directory.CreateDirectory(temp);
            foreach (var file in new[] { ModelPackageLayout.OnnxFile, ModelPackageLayout.ManifestFile, ModelPackageLayout.SignatureFile })
            {
                var source = Path.Combine(packageDirectory, file);
                if (File.Exists(source))
                {
                    File.Copy(source, Path.Combine(temp, file));
                }
            }

            Directory.Move(temp, target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            _installing.TryRemove(Path.GetFullPath(target), out _);
            return Refuse(packageDirectory, origin, ModelRefusal.Missing, $"copying package '{packageDirectory}' into the model store: {ex.Message}");
        }

        return await InstallStoredAsync(target, origin, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ModelInstallResult> InstallAsync(ModelPackageFiles files, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var target = NewPackagePath("rollout");
        var temp = TempPath(target);
        try
        {
            Directory.CreateDirectory(temp);
            await File.WriteAllBytesAsync(Path.Combine(temp, ModelPackageLayout.OnnxFile), files.Onnx, cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(temp, ModelPackageLayout.ManifestFile), files.Manifest, cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(temp, ModelPackageLayout.SignatureFile), files.Signature, cancellationToken).ConfigureAwait(false);
            Directory.Move(temp, target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            _installing.TryRemove(Path.GetFullPath(target), out _);
            return Refuse(target, origin, ModelRefusal.Missing, $"writing the rollout into the model store: {ex.Message}");
        }

        return await InstallStoredAsync(target, origin, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string origin, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var version = _models.Current?.Manifest.Version ?? "none";
            _models.Remove();
            var current = Path.Combine(_settings.StoreDirectory, CurrentFile);
            try
            {
                File.Delete(current);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogPollFailed(_logger, current, ex.Message);
            }

            Event("model-removed", $"model {version} removed (from {origin}); the rule policy drives from the next tick");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _timer?.Dispose();
        _models.Lifecycle -= OnLifecycle;
        _gate.Dispose();
        _pollGate.Dispose();
    }

    private async Task<ModelInstallResult> InstallStoredAsync(string package, string origin, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Verification, session start and replay are CPU work of milliseconds: off the caller's and the control thread.
            var result = await Task.Run(() => _models.TryInstall(package), cancellationToken).ConfigureAwait(false);
            if (result.Installed)
            {
                Event("model-staged", $"{result.Detail}; from {origin}; goes live at the next tick");
            }
            else
            {
                MoveToRejected(package, $"{result.Refusal}: {result.Detail}");
                Event("model-refused", $"{result.Refusal}: {result.Detail} (from {origin}); the current model stays");
            }

            return result;
        }
        finally
        {
            _installing.TryRemove(Path.GetFullPath(package), out _);
            _gate.Release();
        }
    }

    private ModelInstallResult Refuse(string source, string origin, ModelRefusal refusal, string detail)
    {
        Event("model-refused", $"{refusal}: {detail} (from {origin}); the current model stays");
        return new ModelInstallResult(false, refusal, detail);
    }

    /// <summary>Model lifecycle on the control thread: events only; file work is queued off it.</summary>
    private void OnLifecycle(ModelLifecycleEvent e)
    {
        switch (e.Kind)
        {
            case ModelLifecycleKind.Promoted:
                Event("model-promoted", $"model {e.Version}: {e.Detail}");
                if (InStore(e.Source))
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.RememberCurrent(s.Source), (Self: this, e.Source), preferLocal: false);
                }

                break;
            case ModelLifecycleKind.RolledBack:
                Event("model-rollback", $"model {e.Version}: {e.Detail}");
                if (InStore(e.Source))
                {
                    var reason = $"rolled back after going live: {e.Detail}";
                    ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.MoveToRejected(s.Source, s.Reason), (Self: this, e.Source, Reason: reason), preferLocal: false);
                }

                break;
        }
    }

    private void RememberCurrent(string package)
    {
        try
        {
            var file = Path.Combine(_settings.StoreDirectory, CurrentFile);
            File.WriteAllText(file + ".tmp", package);
            File.Move(file + ".tmp", file, overwrite: true);

            // Older accepted packages are no longer needed: the current one is the rollback target from now on.
            foreach (var dir in Directory.GetDirectories(Path.Combine(_settings.StoreDirectory, PackagesFolder)))
            {
                // A package being copied (a dot directory) or installed right now (a rollout just after a promotion) is not old.
                if (!string.Equals(Path.GetFullPath(dir), Path.GetFullPath(package), StringComparison.Ordinal) && _models.Current?.Source != dir
                    && !_installing.ContainsKey(Path.GetFullPath(dir)) && !Path.GetFileName(dir).StartsWith('.'))
                {
                    TryDelete(dir);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogPollFailed(_logger, _settings.StoreDirectory, ex.Message);
        }
    }

    private void MoveToRejected(string package, string reason)
    {
        try
        {
            if (!Directory.Exists(package))
            {
                return;
            }

            var target = Path.Combine(Rejected, Path.GetFileName(package));
            Directory.Move(package, target);
            File.WriteAllText(Path.Combine(target, "reason.txt"), reason + Environment.NewLine);
            var rejected = Directory.GetDirectories(Rejected).Order(StringComparer.Ordinal).ToList();
            while (rejected.Count > _settings.KeepRejected)
            {
                TryDelete(rejected[0]);
                rejected.RemoveAt(0);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogPollFailed(_logger, package, ex.Message);
        }
    }

    private void PollSafely()
    {
        if (Interlocked.Exchange(ref _polling, 1) != 0)
        {
            return;
        }

        _ = PollAsync().ContinueWith(
            static (t, s) =>
            {
                var self = (ModelRolloutService)s!;
                if (t.Exception is { } ex)
                {
                    LogPollFailed(self._logger, self.Incoming, ex.GetBaseException().Message);
                }

                Interlocked.Exchange(ref self._polling, 0);
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private bool InStore(string path) =>
        path.Length > 0 && Path.GetFullPath(path).StartsWith(Path.GetFullPath(Path.Combine(_settings.StoreDirectory, PackagesFolder)) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private string NewPackagePath(string name)
    {
        var stamp = _time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray()).TrimStart('.');
        var path = Path.Combine(_settings.StoreDirectory, PackagesFolder, $"{stamp}-{Interlocked.Increment(ref _sequence)}-{(safe.Length == 0 ? "package" : safe)}");
        _installing[Path.GetFullPath(path)] = 0; // until its install ends (InstallStoredAsync or a failed copy)
        return path;
    }

    private static string TempPath(string target) => Path.Combine(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".tmp");

    private static string Signature(string dir)
    {
        try
        {
            return string.Join('|', Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(f =>
            {
                var info = new FileInfo(f);
                return string.Create(CultureInfo.InvariantCulture, $"{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}");
            }));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: harmless, cleaned with the next promotion.
        }
    }

    private void Event(string kind, string detail)
    {
        LogEvent(_logger, kind, detail);
        _events.Offer(new RobotEventRecord(kind, detail, _time.GetUtcNow(), string.Empty));
    }

    [LoggerMessage(EventId = 4111, Level = LogLevel.Information, Message = "Model rollout: {Kind}: {Detail}")]
    private static partial void LogEvent(ILogger logger, string kind, string detail);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "Model store {Path}: {Error}")]
    private static partial void LogPollFailed(ILogger logger, string path, string error);
}
