using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Link;
using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Runtime;

/// <summary>A read-only picture of one robot's runtime, for the demo's console and for health checks.</summary>
/// <param name="RobotId">The robot.</param>
/// <param name="Running">Whether the runtime is started.</param>
/// <param name="Localized">Whether the position is anchored.</param>
/// <param name="Pose">Continuous pose estimate.</param>
/// <param name="DiscretePose">Discrete pose after the last completed step (null before localisation).</param>
/// <param name="LastCompletedStep">Last completed global step.</param>
/// <param name="GrantedThroughStep">Highest step granted in order.</param>
/// <param name="Mode">Decision mode.</param>
/// <param name="Reason">Why.</param>
/// <param name="Activity">What the robot is doing.</param>
/// <param name="Command">The last body command sent.</param>
/// <param name="SensorsStale">Whether the serial sensors are stale.</param>
/// <param name="Board">Board link state.</param>
/// <param name="CloudConnected">Whether the MQTT client is connected.</param>
/// <param name="Loop">Control loop counters and timing.</param>
/// <param name="Serial">Board link counters.</param>
/// <param name="Cloud">Cloud link counters (default when the link is off).</param>
public sealed record EdgeStatus(
    string RobotId,
    bool Running,
    bool Localized,
    ContinuousPose Pose,
    RobotPose? DiscretePose,
    uint LastCompletedStep,
    uint GrantedThroughStep,
    DecisionMode Mode,
    DecisionReason Reason,
    RobotActivity Activity,
    DriveCommand Command,
    bool SensorsStale,
    BoardLinkState Board,
    bool CloudConnected,
    ControlLoopCounters Loop,
    BoardLinkCounters Serial,
    CloudLinkCounters Cloud)
{
    /// <summary>Version of the active learned model; empty when none is loaded (the rule policy drives alone).</summary>
    public string ModelVersion { get; init; } = string.Empty;

    /// <summary>The execution provider the active model runs on; null without a model.</summary>
    public ExecutionProviderKind? ExecutionProvider { get; init; }

    /// <summary>Every execution provider tried for the active model, in order, with the reason each failed.</summary>
    public IReadOnlyList<ExecutionProviderAttempt> ProviderAttempts { get; init; } = [];

    /// <summary>Outcome of the latest model package install (with the refusal reason); null when no package is configured.</summary>
    public ModelInstallResult? ModelInstall { get; init; }

    /// <summary>Decision-module counters (learned ticks, fallback ticks per reason, ...); null when no package is configured.</summary>
    public DecisionCounters? Decisions { get; init; }

    /// <summary>Whether the site sensors are configured but stale or missing (speed capped).</summary>
    public bool SiteStale { get; init; }

    /// <summary>Audit log counters (records written, dropped, lost, head seq); null when auditing is off.</summary>
    public AuditCounters? Audit { get; init; }

    /// <summary>Out-of-schedule ticks run because a sensor frame demanded a brake.</summary>
    public long ImmediateTicks { get; init; }

    /// <summary>Bytes the control thread allocated inside ticks after warm-up (0 in steady state).</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Ticks after warm-up that allocated.</summary>
    public long AllocatingTicks { get; init; }

    /// <summary>Whether the live model is on probation.</summary>
    public bool ModelOnProbation { get; init; }

    /// <summary>Models rolled back after failing probation.</summary>
    public long ModelRollbacks { get; init; }

    /// <summary>Model deployments from the cloud rollout (<c>cmd/model</c>): received, installed, refused, rejected, reverted, duplicates.</summary>
    public ModelDeploymentCounters ModelDeployments { get; init; }

    /// <summary>One line for a console table.</summary>
    public override string ToString() =>
        $"{RobotId}: {Activity} {Mode}/{Reason.ToText()} step {LastCompletedStep} " +
        $"cell {(DiscretePose is { } p ? $"{p.Cell} {p.Heading}" : "?")} " +
        $"pose ({Pose.X:F2}, {Pose.Y:F2}, {Pose.Theta:F2}) board {Board} cloud {(CloudConnected ? "up" : "down")}";
}
