using System.Diagnostics;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Cloud.Rollout;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>
/// Keeps a robot's last telemetry and events, and forwards completed steps to its site grain
/// (again on every record until the site has taken it, so nothing is lost while the site starts).
/// Its state is soft: the robot reports everything again at its telemetry rate, so after a failover the
/// grain reactivates elsewhere on the next record and nothing is persisted.
/// </summary>
public sealed partial class RobotGrain(TimeProvider timeProvider, CloudMetrics metrics, FleetBoardFeed board, ILogger<RobotGrain> logger) : Grain, IRobotGrain
{
    /// <summary>The event kind with which the edge answers a model deployment (edge ModelDeploymentHandler.EventKind).</summary>
    public const string ModelDeploymentEventKind = "model-deployment";

    private readonly ModelHealthTracker _health = new();
    private RobotStatus? _status;
    private long _forwardedStep = -1;
    private StepConfirmResult _lastResult;
    private readonly Bridge.SequenceWindow _sequence = new(); // telemetry and events share the robot's seq space

    /// <inheritdoc />
    public async Task ReportTelemetryAsync(TelemetryReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var incoming = CloudTracing.Incoming(report.TraceId);
        using var span = CloudTracing.Source.StartActivity(CloudTracing.TelemetryIngest, ActivityKind.Consumer, incoming);
        span?.SetTag("wh.robot", report.RobotId);
        span?.SetTag("wh.site", report.SiteId);
        span?.SetTag("wh.telemetry.seq", report.Seq);
        var status = _status ?? new RobotStatus { RobotId = this.GetPrimaryKeyString() };
        // Stream 0: a producer without an outbox (tests, tools): only an immediate repeat counts as a duplicate.
        var verdict = report.StreamId != 0 ? _sequence.Observe(report.StreamId, report.Seq)
            : status.LastTelemetry is { } last && last.Seq == report.Seq && report.Seq != 0 ? Bridge.SequenceVerdict.Duplicate : Bridge.SequenceVerdict.Fresh;
        switch (verdict)
        {
            case Bridge.SequenceVerdict.Duplicate:
                _status = status with { DuplicatesDropped = status.DuplicatesDropped + 1 };
                return;
            case Bridge.SequenceVerdict.Late:
                _status = status with { LateRecords = status.LateRecords + 1 };
                return;
        }

        var now = timeProvider.GetUtcNow();
        metrics.TelemetryAccepted(report);
        _health.Observe(report, now);
        board.Offer(Summary(report, now));

        var siteChanged = status.SiteId != report.SiteId;
        status = status with
        {
            SiteId = report.SiteId,
            LastTelemetry = report,
            LastSeen = now,
            TelemetryCount = status.TelemetryCount + 1,
            LastCompletedStep = report.LastCompletedStep,
        };
        _status = status;

        var mustForward = siteChanged
            || report.LastCompletedStep != _forwardedStep
            || _lastResult is StepConfirmResult.None or StepConfirmResult.SiteNotReady;
        if (!mustForward || string.IsNullOrEmpty(report.SiteId))
        {
            return;
        }

        var site = GrainFactory.GetGrain<ISiteGrain>(report.SiteId);
        var result = await site.ConfirmStepAsync(new StepConfirmation(status.RobotId, report.LastCompletedStep, report.Cell, report.Heading)
        {
            TraceParent = CloudTracing.Outgoing(span, incoming),
        });
        _forwardedStep = report.LastCompletedStep;
        _lastResult = result;
        _status = _status with { LastConfirmResult = result };
        if (result == StepConfirmResult.UnknownRobot)
        {
            LogUnknownRobot(logger, status.RobotId, report.SiteId);
        }
    }

    /// <inheritdoc />
    public Task ReportEventAsync(RobotEventReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var status = _status ?? new RobotStatus { RobotId = this.GetPrimaryKeyString(), SiteId = report.SiteId };
        if (report.StreamId != 0 && _sequence.Observe(report.StreamId, report.Seq) == Bridge.SequenceVerdict.Duplicate)
        {
            _status = status with { EventDuplicatesDropped = status.EventDuplicatesDropped + 1 };
            return Task.CompletedTask;
        }

        _status = status with { EventCount = status.EventCount + 1, LastEventKind = report.Kind, LastEventDetail = report.Detail };
        if (report.Kind == ModelDeploymentEventKind)
        {
            // Kept apart: the next mode change would hide the edge's answer to the rollout in LastEventDetail.
            _status = _status with { LastModelDeployment = report.Detail, LastModelDeploymentTrace = report.TraceId };
        }

        LogRobotEvent(logger, status.RobotId, report.Kind, report.Detail);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<RobotStatus?> GetStatusAsync() => Task.FromResult(_status is null ? null : _status with { Silo = RuntimeIdentity });

    /// <inheritdoc />
    public Task<RobotModelHealth> GetModelHealthAsync() => Task.FromResult(_health.Snapshot(this.GetPrimaryKeyString()));

    private static RobotSummary Summary(TelemetryReport report, DateTimeOffset now) => new()
    {
        RobotId = report.RobotId,
        SiteId = report.SiteId,
        ModelVersion = report.ModelVersion,
        DecisionMode = (byte)report.DecisionMode,
        FallbackReason = report.FallbackReason,
        DriftZ = (float)(report.ModelHealth?.DriftMaxZ ?? 0),
        DriftFeature = report.ModelHealth?.DriftFeature ?? string.Empty,
        Drifting = report.ModelHealth?.Drifting == true || report.FallbackReason == CloudMetrics.DriftReason,
        State = (byte)report.State,
        Battery = report.BatteryFraction,
        LastSeenUnixMs = now.ToUnixTimeMilliseconds(),
    };

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Robot {RobotId} reports for site {SiteId}, whose roster does not list it")]
    private static partial void LogUnknownRobot(ILogger logger, string robotId, string siteId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Robot {RobotId} event {Kind}: {Detail}")]
    private static partial void LogRobotEvent(ILogger logger, string robotId, string kind, string detail);
}
