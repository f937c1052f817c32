using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>A request to start a rollout.</summary>
/// <param name="SiteId">Site whose robots take part.</param>
/// <param name="Version">A stored package's version.</param>
/// <param name="Percentage">Canary share, (0, 100).</param>
/// <param name="Actor">Who asked (the authenticated caller).</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.RolloutStart")]
public sealed record RolloutStart(
    [property: Id(0)] string SiteId,
    [property: Id(1)] string Version,
    [property: Id(2)] double Percentage,
    [property: Id(3)] string Actor);

/// <summary>
/// One model rollout (key: rollout id): picks the canary robots, sends them the package, compares them with the rest
/// on every evaluation and promotes or rolls back by <see cref="RolloutEvaluator"/>. State and audit trail are persisted;
/// the cohort accumulators are not (a reactivated rollout restarts its comparison window from its next poll).
/// Evaluations are driven by <see cref="RolloutSupervisor"/> on every silo (a tick that is not due does nothing).
/// </summary>
[Alias("wh.cloud.IRolloutGrain")]
public interface IRolloutGrain : IGrainWithStringKey
{
    /// <summary>Starts the rollout; throws <see cref="RolloutRefusedException"/> naming why it cannot.</summary>
    [Alias("Start")]
    Task<RolloutState> StartAsync(RolloutStart start);

    /// <summary>The rollout, or null when it was never started.</summary>
    [Alias("Get")]
    Task<RolloutState?> GetAsync();

    /// <summary>Evaluates when due (the supervisor calls this).</summary>
    [Alias("Tick")]
    Task TickAsync();

    /// <summary>Rolls back now (an operator's decision, audited with <paramref name="actor"/> and <paramref name="reason"/>).</summary>
    [Alias("RollBack")]
    Task<RolloutState> RollBackAsync(string actor, string reason);
}

/// <summary>Why a rollout cannot start or change; the API answers 4xx with the message.</summary>
[GenerateSerializer, Alias("wh.cloud.RolloutRefusedException")]
public sealed class RolloutRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RolloutRefusedException(int statusCode, string message)
        : base(message) => StatusCode = statusCode;

    /// <summary>Creates the exception.</summary>
    public RolloutRefusedException() { }

    /// <summary>Creates the exception.</summary>
    public RolloutRefusedException(string message)
        : base(message) { }

    /// <summary>Creates the exception.</summary>
    public RolloutRefusedException(string message, Exception innerException)
        : base(message, innerException) { }

    /// <summary>The HTTP status the API answers with (400, 404, 409).</summary>
    [Id(0)] public int StatusCode { get; init; } = 400;
}

/// <summary>The rollout grain.</summary>
public sealed partial class RolloutGrain(
    [PersistentState("rollout", CloudHost.StorageName)] IPersistentState<RolloutState> state,
    IServiceProvider services,
    IOptions<RolloutOptions> options,
    CloudMetrics metrics,
    TimeProvider timeProvider,
    ILogger<RolloutGrain> logger) : Grain, IRolloutGrain
{
    /// <summary>The actor of automatic decisions in the audit trail.</summary>
    public const string PolicyActor = "rollout-policy";

    private const int PollConcurrency = 256;

    private CohortAccumulator? _canary;
    private CohortAccumulator? _baseline;

    private string Id => this.GetPrimaryKeyString();

    private IModelRegistryGrain Registry => GrainFactory.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key);

    /// <inheritdoc />
    public async Task<RolloutState> StartAsync(RolloutStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (state.RecordExists)
        {
            throw new RolloutRefusedException(409, $"rollout '{Id}' was already started");
        }

        if (double.IsNaN(start.Percentage) || start.Percentage is <= 0 or >= 100)
        {
            throw new RolloutRefusedException(400, $"percentage must be more than 0 and less than 100 (a canary needs the rest to compare with), got {start.Percentage}");
        }

        var publisher = services.GetService<IModelDeploymentPublisher>()
            ?? throw new RolloutRefusedException(409, "this silo has no MQTT bridge (Cloud:Mqtt:Enabled is false): model packages cannot reach robots");
        var package = await Registry.GetPackageAsync(start.Version)
            ?? throw new RolloutRefusedException(404, $"no model package version '{start.Version}' was uploaded (POST /api/models)");
        var map = await GrainFactory.GetGrain<ISiteGrain>(start.SiteId).GetMapViewAsync()
            ?? throw new RolloutRefusedException(404, $"site '{start.SiteId}' is not running (no map and roster)");
        var (canary, baseline) = CanarySelector.Split(map.RobotIds, start.Percentage);
        if (baseline.Length == 0)
        {
            throw new RolloutRefusedException(409, $"site '{start.SiteId}' has {map.RobotIds.Length} robot(s): a canary needs at least two robots to compare");
        }

        var previous = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (robot, health) in await PollAsync(canary))
        {
            previous[robot] = health.CurrentVersion;
        }

        if (await Registry.TryBeginRolloutAsync(start.SiteId, Id) is { } active)
        {
            throw new RolloutRefusedException(409, $"site '{start.SiteId}' already has rollout '{active}' in progress");
        }

        var now = timeProvider.GetUtcNow();
        var rules = options.Value.Rules.Clone();
        state.State = new RolloutState
        {
            Id = Id,
            SiteId = start.SiteId,
            Version = start.Version,
            Percentage = start.Percentage,
            Phase = RolloutPhase.Canary,
            CanaryRobots = canary,
            BaselineRobots = baseline,
            StartedAt = now,
            LastEvaluatedAt = now,
            Rules = rules,
            PreviousVersions = previous,
        };
        Audit(start.Actor, "started", string.Create(CultureInfo.InvariantCulture,
            $"version {start.Version} to {start.Percentage}% of site {start.SiteId}: {canary.Length} canary, {baseline.Length} baseline robots; rules: min {rules.MinSamples} records, fallback +{rules.MaxFallbackRateIncrease}, drift +{rules.MaxDriftRateIncrease}, latency x{rules.MaxLatencyRatio}, throughput -{rules.MaxThroughputDrop:P0}, window {rules.ObservationWindow}"));
        var sent = await DeployAsync(publisher, canary, start.Version, package);
        Audit(start.Actor, "deployed", $"version {start.Version} sent to {sent} canary robots");
        metrics.RolloutTransition(nameof(RolloutPhase.Canary));
        LogStarted(logger, Id, start.Version, start.SiteId, canary.Length, baseline.Length, start.Actor);
        await state.WriteStateAsync();
        return state.State;
    }

    /// <inheritdoc />
    public Task<RolloutState?> GetAsync() => Task.FromResult(state.RecordExists ? state.State : null);

    /// <inheritdoc />
    public async Task TickAsync()
    {
        if (!state.RecordExists || state.State.Phase != RolloutPhase.Canary)
        {
            if (state.RecordExists)
            {
                await Registry.EndRolloutAsync(state.State.SiteId, Id);
            }

            return;
        }

        var now = timeProvider.GetUtcNow();
        var s = state.State;

        // Ticks come from every silo: evaluate at most once per interval (a little early is fine).
        if (_canary is not null && now - s.LastEvaluatedAt < options.Value.EvaluationInterval * 0.9)
        {
            return;
        }

        _canary ??= new CohortAccumulator(s.CanaryRobots.Length);
        _baseline ??= new CohortAccumulator(s.BaselineRobots.Length);
        var adopted = 0;
        foreach (var (robot, health) in await PollAsync(s.CanaryRobots))
        {
            adopted += health.CurrentVersion == s.Version ? 1 : 0;
            _canary.Observe(robot, health.For(s.Version), countFromZero: true);
        }

        foreach (var (robot, health) in await PollAsync(s.BaselineRobots))
        {
            if (health.CurrentVersion != s.Version)
            {
                _baseline.Observe(robot, health.For(health.CurrentVersion), countFromZero: false);
            }
        }

        var verdict = RolloutEvaluator.Evaluate(s.Rules, _canary.Total, _baseline.Total, adopted, now - s.StartedAt);
        state.State = s with
        {
            LastEvaluatedAt = now,
            LastChecks = [.. verdict.Checks],
            Canary = _canary.Total,
            Baseline = _baseline.Total,
            Adopted = adopted,
        };
        switch (verdict.Action)
        {
            case RolloutAction.Promote:
                await PromoteAsync(verdict.Reason);
                break;
            case RolloutAction.RollBack:
                await RollBackCoreAsync(PolicyActor, verdict.Reason);
                break;
            default:
                await state.WriteStateAsync();
                break;
        }
    }

    /// <inheritdoc />
    public async Task<RolloutState> RollBackAsync(string actor, string reason)
    {
        if (!state.RecordExists)
        {
            throw new RolloutRefusedException(404, $"rollout '{Id}' does not exist");
        }

        if (state.State.Phase != RolloutPhase.Canary)
        {
            throw new RolloutRefusedException(409, $"rollout '{Id}' is {state.State.Phase}: only a running canary can be rolled back");
        }

        await RollBackCoreAsync(actor, string.IsNullOrWhiteSpace(reason) ? "operator's decision" : reason);
        return state.State;
    }

    private async Task PromoteAsync(string reason)
    {
        var s = state.State;
        var publisher = services.GetRequiredService<IModelDeploymentPublisher>();
        var package = await Registry.GetPackageAsync(s.Version) ?? throw new InvalidOperationException($"package {s.Version} vanished from the registry");
        Audit(PolicyActor, "promoted", reason);
        var sent = await DeployAsync(publisher, s.BaselineRobots, s.Version, package);
        Audit(PolicyActor, "deployed", $"version {s.Version} sent to {sent} remaining robots");
        await FinishAsync(RolloutPhase.Promoted);
    }

    private async Task RollBackCoreAsync(string actor, string reason)
    {
        var s = state.State;
        var publisher = services.GetRequiredService<IModelDeploymentPublisher>();
        Audit(actor, "rolled-back", reason);

        // Robots go back to the package they ran before when the registry has it, else the edge reverts by itself.
        var sent = 0;
        foreach (var group in s.CanaryRobots.GroupBy(r => s.PreviousVersions.GetValueOrDefault(r, string.Empty), StringComparer.Ordinal))
        {
            var previous = group.Key.Length > 0 && group.Key != s.Version ? await Registry.GetPackageAsync(group.Key) : null;
            sent += await DeployAsync(publisher, [.. group], previous is null ? string.Empty : group.Key, previous);
        }

        Audit(actor, "deployed", $"{sent} canary robots sent back to their previous model");
        LogRolledBack(logger, Id, s.Version, actor, reason);
        await FinishAsync(RolloutPhase.RolledBack);
    }

    private async Task FinishAsync(RolloutPhase phase)
    {
        state.State = state.State with { Phase = phase, FinishedAt = timeProvider.GetUtcNow() };
        await state.WriteStateAsync();
        await Registry.EndRolloutAsync(state.State.SiteId, Id);
        metrics.RolloutTransition(phase.ToString());
    }

    // Sends a package (or, without one, a revert) to each robot, in one trace per batch.
    private async Task<int> DeployAsync(IModelDeploymentPublisher publisher, string[] robots, string version, ModelPackageBytes? package)
    {
        using var span = CloudTracing.Source.StartActivity(CloudTracing.ModelDeploy, ActivityKind.Producer);
        span?.SetTag("wh.rollout", Id);
        span?.SetTag("wh.model.version", version);
        span?.SetTag("wh.robots", robots.Length);
        var trace = CloudTracing.Outgoing(span, default);
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var manifest = package is null ? ByteString.Empty : ByteString.CopyFrom(package.Manifest);
        var onnx = package is null ? ByteString.Empty : ByteString.CopyFrom(package.Onnx);
        var signature = package is null ? ByteString.Empty : ByteString.CopyFrom(package.Signature);
        foreach (var robot in robots)
        {
            await publisher.PublishModelAsync(state.State.SiteId, new ModelDeployment
            {
                RobotId = robot,
                RolloutId = Id,
                Version = version,
                Manifest = manifest,
                Onnx = onnx,
                Signature = signature,
                Revert = package is null,
                TraceId = trace,
                IssuedUnixMs = now,
            });
        }

        state.State = state.State with { DeploymentsSent = state.State.DeploymentsSent + robots.Length };
        metrics.DeploymentsSent(robots.Length, package is null ? "revert" : "package");
        return robots.Length;
    }

    private async Task<List<(string Robot, RobotModelHealth Health)>> PollAsync(string[] robots)
    {
        var results = new List<(string, RobotModelHealth)>(robots.Length);
        for (var i = 0; i < robots.Length; i += PollConcurrency)
        {
            var batch = robots.Skip(i).Take(PollConcurrency).ToArray();
            var health = await Task.WhenAll(batch.Select(r => GrainFactory.GetGrain<IRobotGrain>(r).GetModelHealthAsync()));
            for (var k = 0; k < batch.Length; k++)
            {
                results.Add((batch[k], health[k]));
            }
        }

        return results;
    }

    private void Audit(string actor, string action, string detail) =>
        state.State.Audit.Add(new AuditEntry(timeProvider.GetUtcNow(), actor, action, detail));

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Rollout {RolloutId}: version {Version} to site {SiteId}, {Canary} canary / {Baseline} baseline robots, started by {Actor}")]
    private static partial void LogStarted(ILogger logger, string rolloutId, string version, string siteId, int canary, int baseline, string actor);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Rollout {RolloutId}: version {Version} rolled back by {Actor}: {Reason}")]
    private static partial void LogRolledBack(ILogger logger, string rolloutId, string version, string actor, string reason);
}
