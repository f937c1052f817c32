using System.Collections.Concurrent;
using System.Diagnostics;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Contracts.Fleet;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Cloud.Tests.Observability;

/// <summary>
/// Robots at the discrete level, in process: every plan segment the site publishes is "executed" at once and
/// confirmed with a telemetry record to the robot grain (from a pool thread, never inside the site's turn), so a
/// site with this publisher keeps stepping like one with real robots. Telemetry carries the model version, decision
/// mode and model health that <see cref="Behaviour"/> gives each robot. Model deployments are recorded (and, when
/// <see cref="InstallDeployments"/> is set, installed: the robot reports the new version from then on).
/// </summary>
internal sealed class SimulatedFleet : IFleetCommandPublisher, IModelDeploymentPublisher
{
    private readonly ConcurrentDictionary<string, ulong> _seq = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, uint> _errands = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _installed = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PlanSegment> _plans = new();
    private readonly ConcurrentQueue<(string Site, ModelDeployment Deployment)> _deployments = new();
    private long _telemetrySent;

    /// <summary>The silo's grain factory (set by the fixture once the host runs).</summary>
    public IGrainFactory? Grains { get; set; }

    /// <summary>What a robot reports: model version, decision mode, fallback reason, model health.</summary>
    public Func<string, string, RobotBehaviour> Behaviour { get; set; } = (_, version) => new RobotBehaviour(version, 1, string.Empty, null);

    /// <summary>Whether a deployment makes the robot report its version.</summary>
    public bool InstallDeployments { get; set; } = true;

    /// <summary>When set, each telemetry record carries this traceparent (instead of none).</summary>
    public Func<string, string>? TraceParentFor { get; set; }

    /// <summary>Plans published so far.</summary>
    public IReadOnlyCollection<PlanSegment> Plans => _plans;

    /// <summary>Model deployments published so far.</summary>
    public IReadOnlyCollection<(string Site, ModelDeployment Deployment)> Deployments => _deployments;

    /// <summary>Telemetry records sent to robot grains.</summary>
    public long TelemetrySent => Interlocked.Read(ref _telemetrySent);

    /// <summary>The model version a robot runs now ("" = none).</summary>
    public string VersionOf(string robot) => _installed.TryGetValue(robot, out var v) ? v : string.Empty;

    /// <summary>Sets the model a robot runs (as if installed at the factory).</summary>
    public void Install(string robot, string version) => _installed[robot] = version;

    /// <summary>Reports a robot at a pose for a step (also how a robot announces itself at step 0).</summary>
    public Task ReportAsync(string site, string robot, uint step, int cell, DomainHeading heading)
    {
        var grains = Grains ?? throw new InvalidOperationException("the fleet has no grain factory yet");
        var b = Behaviour(robot, VersionOf(robot));
        var seq = _seq.AddOrUpdate(robot, 1, (_, s) => s + 1);
        Interlocked.Increment(ref _telemetrySent);
        return grains.GetGrain<IRobotGrain>(robot).ReportTelemetryAsync(new TelemetryReport
        {
            RobotId = robot,
            SiteId = site,
            Seq = seq,
            LastCompletedStep = step,
            Cell = cell,
            Heading = heading,
            State = 2,
            BatteryFraction = 0.8f,
            ModelVersion = b.Version,
            DecisionMode = b.Mode,
            FallbackReason = b.FallbackReason,
            ModelHealth = b.Health,
            ErrandsReached = _errands.GetValueOrDefault(robot),
            TraceId = TraceParentFor?.Invoke(robot) ?? string.Empty,
        });
    }

    public ValueTask PublishPlanAsync(string siteId, PlanSegment segment, CancellationToken cancellationToken = default)
    {
        _plans.Enqueue(segment.Clone());
        var step = segment.Steps[^1];
        _ = Task.Run(() => ReportAsync(siteId, segment.RobotId, step.Step, step.TargetCell, (DomainHeading)(int)step.TargetHeading), CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    public ValueTask PublishTaskAsync(string siteId, TaskAssignment assignment, CancellationToken cancellationToken = default)
    {
        // A new errand index means the previous errand was reached.
        if (assignment.NextErrandIndex > 0)
        {
            _errands.AddOrUpdate(assignment.RobotId, 1, (_, n) => n + 1);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask PublishGrantAsync(string siteId, GrantUpdate grant, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask PublishModelAsync(string siteId, ModelDeployment deployment, CancellationToken cancellationToken = default)
    {
        _deployments.Enqueue((siteId, deployment.Clone()));
        if (InstallDeployments)
        {
            if (deployment.Revert)
            {
                _installed.TryRemove(deployment.RobotId, out _);
            }
            else
            {
                _installed[deployment.RobotId] = deployment.Version;
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>A fresh sampled W3C traceparent.</summary>
    public static string NewTraceParent() => $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
}

/// <summary>What a simulated robot reports.</summary>
internal sealed record RobotBehaviour(string Version, int Mode, string FallbackReason, ModelHealthReport? Health);
