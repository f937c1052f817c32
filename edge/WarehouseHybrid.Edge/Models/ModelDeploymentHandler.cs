using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Tracing;
using WarehouseHybrid.Edge.Control;

namespace WarehouseHybrid.Edge.Models;

/// <summary>What became of one <see cref="ModelDeployment"/> (the <c>result=</c> of its <c>model-deployment</c> event).</summary>
public enum ModelDeploymentResult
{
    /// <summary>Verified, self-tested and staged: live at the next tick, then on probation.</summary>
    Installed = 0,

    /// <summary>The installer refused the package (signature, ONNX hash, schema, self-test): the current model stays.</summary>
    Refused = 1,

    /// <summary>The message itself was refused before any install (wrong robot, bad fields, too large, queue full).</summary>
    Rejected = 2,

    /// <summary>A revert put back the model that ran before the rollout (or found it still running).</summary>
    Reverted = 3,

    /// <summary>The same rollout id and version again (an at-least-once redelivery): nothing was done twice.</summary>
    Duplicate = 4,

    /// <summary>The model of this rollout passed probation (reported later, after <see cref="Installed"/>).</summary>
    Promoted = 5,

    /// <summary>The model of this rollout failed probation and the previous one drives again (reported later).</summary>
    RolledBack = 6,
}

/// <summary>The outcome of one deployment, as reported to the cloud and audited.</summary>
/// <param name="RolloutId">The deployment's rollout id (sanitised; empty when the message could not be read).</param>
/// <param name="Version">The deployment's version (sanitised).</param>
/// <param name="Result">What happened.</param>
/// <param name="Detail">Why, in words (names the field or check that failed).</param>
/// <param name="TraceId">The deployment's W3C traceparent (a new root when it had none).</param>
public sealed record ModelDeploymentOutcome(string RolloutId, string Version, ModelDeploymentResult Result, string Detail, string TraceId)
{
    /// <summary>The event detail: <c>rollout=ID version=V result=R: detail</c> (key=value first, so consumers can parse it).</summary>
    public string EventDetail => string.Create(CultureInfo.InvariantCulture,
        $"rollout={(RolloutId.Length == 0 ? "-" : RolloutId)} version={(Version.Length == 0 ? "-" : Version)} result={ModelDeploymentHandler.ResultText(Result)}: {Detail}");
}

/// <summary>Limits for <c>.../cmd/model</c> messages (from <see cref="Link.CloudLinkOptions.MaxModelDeploymentBytes"/>).</summary>
/// <param name="MaxPayloadBytes">Largest whole message accepted.</param>
/// <param name="MaxManifestBytes">Largest manifest.</param>
/// <param name="MaxSignatureBytes">Largest signature (ECDSA P-256 in IEEE P1363 form is 64 bytes).</param>
/// <param name="QueueCapacity">Deployments waiting to be installed; more are rejected (the cloud counts the canary against the rollout).</param>
public sealed record ModelDeploymentLimits(int MaxPayloadBytes = 8 * 1024 * 1024, int MaxManifestBytes = 256 * 1024, int MaxSignatureBytes = 512, int QueueCapacity = 4);

/// <summary>Counters of the deployment handler.</summary>
/// <param name="Received">Messages on <c>cmd/model</c>.</param>
/// <param name="Installed">Packages staged.</param>
/// <param name="Refused">Packages the installer refused.</param>
/// <param name="Rejected">Messages refused before any install (malformed, misaddressed, oversize, bad fields, queue full).</param>
/// <param name="Reverted">Reverts carried out.</param>
/// <param name="Duplicates">Redeliveries recognised and not acted on again.</param>
public readonly record struct ModelDeploymentCounters(long Received, long Installed, long Refused, long Rejected, long Reverted, long Duplicates);

/// <summary>
/// Takes the cloud rollout's <see cref="ModelDeployment"/> messages (topic <c>.../cmd/model</c>, docs/mqtt-topics.md):
/// checks them (robot id, ids, sizes, the manifest's version against the message's), hands the three files to the
/// <see cref="IModelInstaller"/> (which verifies the signature, self-tests and puts the model on probation) one at a time
/// off the MQTT receive path, and reports every outcome as a <c>model-deployment</c> robot event (and audit record) with
/// the deployment's trace id. Before the first install of a rollout the package that runs now is kept aside
/// (<c>revert/</c> in the model store), so <c>revert=true</c> puts back exactly the model that ran before that rollout
/// (or removes the learned model when none did). A redelivery of the same rollout id and version does nothing twice.
/// Hostile input never throws out of <see cref="Offer"/>: it is rejected, logged with its reason and counted.
/// </summary>
public sealed partial class ModelDeploymentHandler : IAsyncDisposable
{
    /// <summary>The robot event kind of every outcome.</summary>
    public const string EventKind = "model-deployment";

    /// <summary>Folder of the model store where pre-rollout packages are kept for a revert.</summary>
    public const string RevertFolder = "revert";

    private const string NoModelMarker = "no-model";
    private const int RememberedDeployments = 64;
    private const int KeptRevertPackages = 4;

    private readonly string _robotId;
    private readonly IModelInstaller? _installer;
    private readonly Func<ActiveModel?> _current;
    private readonly string? _store;
    private readonly IRobotEventSink _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ModelDeploymentLimits _limits;
    private readonly Channel<ModelDeployment> _queue;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ModelDeploymentOutcome?> _seen = new(StringComparer.Ordinal); // null: queued, not finished
    private readonly Queue<string> _seenOrder = new();
    private readonly SemaphoreSlim _processing = new(1, 1);
    private (string RolloutId, string Version, string TraceId)? _onProbation;
    private CancellationTokenSource? _cts;
    private Task _worker = Task.CompletedTask;
    private long _received;
    private long _installed;
    private long _refused;
    private long _rejected;
    private long _reverted;
    private long _duplicates;
    private int _disposed;

    /// <summary>Creates the handler; nothing runs until <see cref="Start"/> (or a test calls <see cref="HandleAsync"/>).</summary>
    /// <param name="robotId">This robot: a deployment for another is rejected.</param>
    /// <param name="installer">The model installer; null when the robot has no trusted keys or model store (every deployment is then rejected, saying so).</param>
    /// <param name="current">The model in use now (staged or live), for keep-last-good.</param>
    /// <param name="modelStore">The model store directory (pre-rollout packages go to its <see cref="RevertFolder"/>); null without a store.</param>
    /// <param name="events">Where outcomes go (the auditing sink: cloud event and audit record).</param>
    /// <param name="time">Clock.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="limits">Size limits.</param>
    public ModelDeploymentHandler(
        string robotId, IModelInstaller? installer, Func<ActiveModel?> current, string? modelStore, IRobotEventSink events, TimeProvider time, ILogger logger,
        ModelDeploymentLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(robotId);
        _robotId = robotId;
        _installer = installer;
        _current = current ?? throw new ArgumentNullException(nameof(current));
        _store = modelStore;
        _events = events ?? throw new ArgumentNullException(nameof(events));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _limits = limits ?? new ModelDeploymentLimits();
        _queue = Channel.CreateBounded<ModelDeployment>(new BoundedChannelOptions(Math.Max(1, _limits.QueueCapacity)) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>Raised after each outcome is reported (tests and the status page).</summary>
    public event Action<ModelDeploymentOutcome>? Outcome;

    /// <summary>Counters.</summary>
    public ModelDeploymentCounters Counters => new(
        Interlocked.Read(ref _received), Interlocked.Read(ref _installed), Interlocked.Read(ref _refused),
        Interlocked.Read(ref _rejected), Interlocked.Read(ref _reverted), Interlocked.Read(ref _duplicates));

    /// <summary>The limits in force.</summary>
    public ModelDeploymentLimits Limits => _limits;

    /// <summary>Starts the worker that installs queued deployments.</summary>
    public void Start(CancellationToken cancellationToken = default)
    {
        if (_cts is not null)
        {
            throw new InvalidOperationException("the model deployment handler is already started");
        }

        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ct = _cts.Token;
        _worker = Task.Run(() => WorkAsync(ct), CancellationToken.None);
    }

    /// <summary>
    /// One message from <c>cmd/model</c>, on the MQTT receive path: parsed and checked here (quick), installed later on
    /// the worker. Never throws; a refusal is reported, logged and counted.
    /// </summary>
    public void Offer(ReadOnlySpan<byte> payload)
    {
        if (Accept(payload) is { } deployment && !_queue.Writer.TryWrite(deployment))
        {
            Forget(deployment);
            Report(OutcomeOf(deployment, ModelDeploymentResult.Rejected, $"{_limits.QueueCapacity} deployments are already waiting to be installed; this one is dropped"));
        }
    }

    /// <summary>A message the link refused by its size before reading it: reported as rejected (no rollout id can be read).</summary>
    public void OfferOversize(long length)
    {
        Interlocked.Increment(ref _received);
        Report(new ModelDeploymentOutcome(string.Empty, string.Empty, ModelDeploymentResult.Rejected,
            string.Create(CultureInfo.InvariantCulture, $"message of {length} bytes exceeds Edge:Link:MaxModelDeploymentBytes {_limits.MaxPayloadBytes}"), TraceParent.NewRoot()));
    }

    /// <summary>As <see cref="Offer"/>, then installs at once on the caller (tests, and a host without the worker).</summary>
    public async Task<ModelDeploymentOutcome?> HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ModelDeploymentOutcome? reported = null;
        void Capture(ModelDeploymentOutcome o) => reported = o;
        Outcome += Capture;
        try
        {
            if (Accept(payload.Span) is { } deployment)
            {
                return await ProcessAsync(deployment, cancellationToken).ConfigureAwait(false);
            }

            return reported;
        }
        finally
        {
            Outcome -= Capture;
        }
    }

    /// <summary>
    /// The model manager's lifecycle (control thread): the probation verdict on a model this handler installed is
    /// reported with its rollout id. Only events; nothing blocks.
    /// </summary>
    public void OnLifecycle(ModelLifecycleEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Kind is not (ModelLifecycleKind.Promoted or ModelLifecycleKind.RolledBack))
        {
            return;
        }

        (string RolloutId, string Version, string TraceId)? pending;
        lock (_gate)
        {
            pending = _onProbation;
            if (pending is { } p && p.Version == e.Version)
            {
                _onProbation = null;
            }
            else
            {
                return;
            }
        }

        var (rollout, version, trace) = pending.Value;
        Report(new ModelDeploymentOutcome(rollout, version, e.Kind == ModelLifecycleKind.Promoted ? ModelDeploymentResult.Promoted : ModelDeploymentResult.RolledBack, e.Detail, trace));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        if (_cts is not null)
        {
            await _cts.CancelAsync().ConfigureAwait(false);
            try
            {
                await _worker.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }

            _cts.Dispose();
        }

        _processing.Dispose();
    }

    /// <summary>The lower-case result word used in event details.</summary>
    public static string ResultText(ModelDeploymentResult result) => result switch
    {
        ModelDeploymentResult.Installed => "installed",
        ModelDeploymentResult.Refused => "refused",
        ModelDeploymentResult.Rejected => "rejected",
        ModelDeploymentResult.Reverted => "reverted",
        ModelDeploymentResult.Duplicate => "duplicate",
        ModelDeploymentResult.Promoted => "promoted",
        ModelDeploymentResult.RolledBack => "rolled-back",
        _ => result.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Checks a message without installing anything: null when it is acceptable, else what is wrong (names the field).
    /// Pure; the handler's first step, and what the property tests drive.
    /// </summary>
    public static string? Check(ModelDeployment deployment, string robotId, ModelDeploymentLimits limits)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(limits);
        if (deployment.RobotId != robotId)
        {
            return deployment.RobotId.Length == 0
                ? "robot_id is empty (a model deployment must name its robot)"
                : $"robot_id '{Printable(deployment.RobotId)}' is not this robot ('{robotId}')";
        }

        if (!IsSafeId(deployment.RolloutId, 128))
        {
            return $"rollout_id '{Printable(deployment.RolloutId)}' must be 1-128 of [A-Za-z0-9._:-]";
        }

        if (deployment.Revert)
        {
            if (!deployment.Manifest.IsEmpty || !deployment.Onnx.IsEmpty || !deployment.Signature.IsEmpty)
            {
                return "revert=true carries package bytes: a revert names no package (it puts back the model that ran before the rollout)";
            }

            return deployment.Version.Length == 0 || IsSafeId(deployment.Version, 64) ? null : $"version '{Printable(deployment.Version)}' must be empty or 1-64 of [A-Za-z0-9._:-]";
        }

        if (!IsSafeId(deployment.Version, 64))
        {
            return $"version '{Printable(deployment.Version)}' must be 1-64 of [A-Za-z0-9._:-]";
        }

        if (deployment.Onnx.IsEmpty)
        {
            return "onnx is empty";
        }

        if (deployment.Manifest.IsEmpty)
        {
            return "manifest is empty";
        }

        if (deployment.Manifest.Length > limits.MaxManifestBytes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"manifest of {deployment.Manifest.Length} bytes exceeds the limit of {limits.MaxManifestBytes}");
        }

        if (deployment.Signature.IsEmpty)
        {
            return "signature is empty: unsigned packages are refused";
        }

        if (deployment.Signature.Length > limits.MaxSignatureBytes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"signature of {deployment.Signature.Length} bytes exceeds the limit of {limits.MaxSignatureBytes}");
        }

        ModelManifest manifest;
        try
        {
            manifest = ModelManifest.Parser.ParseFrom(deployment.Manifest);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return $"manifest is not a ModelManifest ({ex.Message})";
        }

        return manifest.Version == deployment.Version
            ? null
            : $"version '{deployment.Version}' disagrees with the manifest's version '{Printable(manifest.Version)}'";
    }

    // Parse, size and field checks, and the duplicate check; the refusals are reported here.
    private ModelDeployment? Accept(ReadOnlySpan<byte> payload)
    {
        Interlocked.Increment(ref _received);
        if (payload.Length > _limits.MaxPayloadBytes)
        {
            Report(new ModelDeploymentOutcome(string.Empty, string.Empty, ModelDeploymentResult.Rejected,
                string.Create(CultureInfo.InvariantCulture, $"message of {payload.Length} bytes exceeds Edge:Link:MaxModelDeploymentBytes {_limits.MaxPayloadBytes}"), TraceParent.NewRoot()));
            return null;
        }

        ModelDeployment deployment;
        try
        {
            deployment = ModelDeployment.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            Report(new ModelDeploymentOutcome(string.Empty, string.Empty, ModelDeploymentResult.Rejected,
                string.Create(CultureInfo.InvariantCulture, $"payload of {payload.Length} bytes is not a ModelDeployment ({ex.Message})"), TraceParent.NewRoot()));
            return null;
        }

        if (Check(deployment, _robotId, _limits) is { } problem)
        {
            Report(OutcomeOf(deployment, ModelDeploymentResult.Rejected, problem));
            return null;
        }

        var key = Key(deployment);
        string? duplicate = null;
        lock (_gate)
        {
            if (_seen.TryGetValue(key, out var before))
            {
                duplicate = before is null ? "the first delivery is still being installed" : $"already handled: {ResultText(before.Result)}";
            }
            else
            {
                _seen[key] = null;
                _seenOrder.Enqueue(key);
                while (_seenOrder.Count > RememberedDeployments)
                {
                    _seen.Remove(_seenOrder.Dequeue());
                }
            }
        }

        if (duplicate is not null)
        {
            Interlocked.Increment(ref _duplicates);
            Report(OutcomeOf(deployment, ModelDeploymentResult.Duplicate, $"{duplicate}; nothing done again"));
            return null;
        }

        return deployment;
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var deployment in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await ProcessAsync(deployment, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task<ModelDeploymentOutcome> ProcessAsync(ModelDeployment deployment, CancellationToken ct)
    {
        await _processing.WaitAsync(ct).ConfigureAwait(false);
        ModelDeploymentOutcome outcome;
        try
        {
            outcome = deployment.Revert ? await RevertAsync(deployment, ct).ConfigureAwait(false) : await InstallAsync(deployment, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // A bug or a disk failure here must not end the worker: the deployment is reported as refused.
            LogFailed(_logger, Printable(deployment.RolloutId), ex);
            outcome = OutcomeOf(deployment, ModelDeploymentResult.Refused, $"installing failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            _processing.Release();
        }

        lock (_gate)
        {
            var key = Key(deployment);
            if (_seen.ContainsKey(key))
            {
                _seen[key] = outcome;
            }
        }

        Report(outcome);
        return outcome;
    }

    private async Task<ModelDeploymentOutcome> InstallAsync(ModelDeployment d, CancellationToken ct)
    {
        if (_installer is null)
        {
            return OutcomeOf(d, ModelDeploymentResult.Rejected, "this robot takes no model packages at run time (no Edge:TrustedModelKeys or no model store)");
        }

        if (_current() is { } running && running.Manifest.Version == d.Version)
        {
            return OutcomeOf(d, ModelDeploymentResult.Installed, $"model {d.Version} is already the one in use; nothing to install");
        }

        KeepForRevert(d.RolloutId);
        var origin = $"cloud rollout {d.RolloutId}";
        var result = await _installer.InstallAsync(new ModelPackageFiles(d.Onnx.ToByteArray(), d.Manifest.ToByteArray(), d.Signature.ToByteArray()), origin, ct).ConfigureAwait(false);
        if (!result.Installed)
        {
            return OutcomeOf(d, ModelDeploymentResult.Refused, $"{result.Refusal}: {result.Detail}; the current model stays");
        }

        lock (_gate)
        {
            _onProbation = (d.RolloutId, d.Version, TraceOf(d));
        }

        return OutcomeOf(d, ModelDeploymentResult.Installed, $"{result.Detail}; live at the next tick, then on probation");
    }

    private async Task<ModelDeploymentOutcome> RevertAsync(ModelDeployment d, CancellationToken ct)
    {
        if (_installer is null)
        {
            return OutcomeOf(d, ModelDeploymentResult.Rejected, "this robot takes no model packages at run time (no Edge:TrustedModelKeys or no model store)");
        }

        var kept = RevertDirectory(d.RolloutId);
        var running = _current();
        if (kept is null || !Directory.Exists(kept))
        {
            // Nothing was installed by this rollout here (never arrived, refused, or a restart lost nothing: the store has it).
            return OutcomeOf(d, ModelDeploymentResult.Reverted, $"this robot installed nothing from rollout {d.RolloutId}; model {VersionText(running)} stays");
        }

        if (File.Exists(Path.Combine(kept, NoModelMarker)))
        {
            if (running is null)
            {
                return OutcomeOf(d, ModelDeploymentResult.Reverted, "no learned model ran before the rollout and none runs now");
            }

            await _installer.RemoveAsync($"revert of cloud rollout {d.RolloutId}", ct).ConfigureAwait(false);
            Interlocked.Increment(ref _reverted);
            return OutcomeOf(d, ModelDeploymentResult.Reverted, $"no learned model ran before the rollout: model {running.Manifest.Version} removed, the rule policy drives from the next tick");
        }

        var previous = ReadManifestVersion(kept);
        if (running is not null && previous is not null && running.Manifest.Version == previous)
        {
            return OutcomeOf(d, ModelDeploymentResult.Reverted, $"model {previous}, which ran before the rollout, is the one in use; nothing to do");
        }

        var result = await _installer.InstallAsync(kept, $"revert of cloud rollout {d.RolloutId}", ct).ConfigureAwait(false);
        if (!result.Installed)
        {
            return OutcomeOf(d, ModelDeploymentResult.Refused, $"putting back model {previous ?? "(unreadable manifest)"}: {result.Refusal}: {result.Detail}; model {VersionText(running)} stays");
        }

        Interlocked.Increment(ref _reverted);
        return OutcomeOf(d, ModelDeploymentResult.Reverted, $"model {previous} put back ({result.Detail}); live at the next tick");
    }

    // Keeps the package in use now aside, once per rollout (the first deployment of a rollout decides what "before" was).
    private void KeepForRevert(string rolloutId)
    {
        if (RevertDirectory(rolloutId) is not { } target || Directory.Exists(target))
        {
            return;
        }

        var temp = target + ".tmp";
        try
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            Directory.CreateDirectory(temp);
            File.WriteAllText(Path.Combine(temp, "rollout.txt"), rolloutId + Environment.NewLine);
            if (_current() is not { } running)
            {
                File.WriteAllText(Path.Combine(temp, NoModelMarker), "no learned model ran before this rollout" + Environment.NewLine);
            }
            else if (running.Source is { } source && Directory.Exists(source))
            {
                foreach (var file in new[] { ModelPackageLayout.OnnxFile, ModelPackageLayout.ManifestFile, ModelPackageLayout.SignatureFile })
                {
                    File.Copy(Path.Combine(source, file), Path.Combine(temp, file));
                }
            }
            else
            {
                LogNotKept(_logger, rolloutId, running.Manifest.Version, "its package directory is unknown or gone");
                Directory.Delete(temp, recursive: true);
                return;
            }

            Directory.Move(temp, target);
            PruneRevertFolder(target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogNotKept(_logger, rolloutId, VersionText(_current()), ex.Message);
        }
    }

    private void PruneRevertFolder(string keep)
    {
        var folder = Path.GetDirectoryName(keep)!;
        var dirs = Directory.GetDirectories(folder).Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal))
            .OrderBy(Directory.GetCreationTimeUtc).ThenBy(d => d, StringComparer.Ordinal).ToList();
        while (dirs.Count > KeptRevertPackages)
        {
            if (dirs[0] != keep)
            {
                Directory.Delete(dirs[0], recursive: true);
            }

            dirs.RemoveAt(0);
        }
    }

    private string? RevertDirectory(string rolloutId)
    {
        if (_store is null)
        {
            return null;
        }

        // Rollout ids are checked, but a hash keeps any id a single safe path segment.
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rolloutId)))[..24];
        return Path.Combine(_store, RevertFolder, name);
    }

    private static string? ReadManifestVersion(string directory)
    {
        try
        {
            return ModelManifest.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(directory, ModelPackageLayout.ManifestFile))).Version;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private void Report(ModelDeploymentOutcome outcome)
    {
        switch (outcome.Result)
        {
            case ModelDeploymentResult.Installed:
                Interlocked.Increment(ref _installed);
                break;
            case ModelDeploymentResult.Refused:
                Interlocked.Increment(ref _refused);
                break;
            case ModelDeploymentResult.Rejected:
                Interlocked.Increment(ref _rejected);
                break;
        }

        if (outcome.Result is ModelDeploymentResult.Rejected or ModelDeploymentResult.Refused)
        {
            LogRefused(_logger, outcome.RolloutId, outcome.Version, ResultText(outcome.Result), outcome.Detail);
        }
        else
        {
            LogOutcome(_logger, outcome.RolloutId, outcome.Version, ResultText(outcome.Result), outcome.Detail);
        }

        _events.Offer(new RobotEventRecord(EventKind, outcome.EventDetail, _time.GetUtcNow(), outcome.TraceId));
        Outcome?.Invoke(outcome);
    }

    private static ModelDeploymentOutcome OutcomeOf(ModelDeployment d, ModelDeploymentResult result, string detail) =>
        new(Printable(d.RolloutId), Printable(d.Version), result, detail, TraceOf(d));

    private void Forget(ModelDeployment d)
    {
        lock (_gate)
        {
            _seen.Remove(Key(d));
        }
    }

    private static string TraceOf(ModelDeployment d) => TraceParent.IsValid(d.TraceId) ? d.TraceId : TraceParent.NewRoot();

    private static string Key(ModelDeployment d) => $"{d.RolloutId}\n{d.Version}\n{(d.Revert ? 1 : 0)}";

    private static string VersionText(ActiveModel? model) => model?.Manifest.Version ?? "none (the rule policy)";

    private static bool IsSafeId(string value, int maxLength)
    {
        if (value.Length is 0 || value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    // Hostile strings go into logs and events: control characters escaped, length capped.
    private static string Printable(string value)
    {
        const int Max = 80;
        var sb = new StringBuilder(Math.Min(value.Length, Max) + 8);
        foreach (var c in value.AsSpan(0, Math.Min(value.Length, Max)))
        {
            if (char.IsControl(c) || char.IsSurrogate(c))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return value.Length > Max ? sb.Append("...").ToString() : sb.ToString();
    }

    [LoggerMessage(EventId = 4121, Level = LogLevel.Information, Message = "Model deployment rollout={RolloutId} version={Version}: {Result}: {Detail}")]
    private static partial void LogOutcome(ILogger logger, string rolloutId, string version, string result, string detail);

    [LoggerMessage(EventId = 4122, Level = LogLevel.Warning, Message = "Model deployment rollout={RolloutId} version={Version}: {Result}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string rolloutId, string version, string result, string detail);

    [LoggerMessage(EventId = 4123, Level = LogLevel.Error, Message = "Model deployment of rollout {RolloutId} failed")]
    private static partial void LogFailed(ILogger logger, string rolloutId, Exception ex);

    [LoggerMessage(EventId = 4124, Level = LogLevel.Warning, Message = "Rollout {RolloutId}: model {Version} that runs now could not be kept for a revert: {Why}")]
    private static partial void LogNotKept(ILogger logger, string rolloutId, string version, string why);
}
