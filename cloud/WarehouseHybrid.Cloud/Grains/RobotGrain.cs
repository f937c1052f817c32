using Microsoft.Extensions.Logging;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>
/// Keeps a robot's last telemetry and events, and forwards completed steps to its site grain
/// (again on every record until the site has taken it, so nothing is lost while the site starts).
/// Its state is soft: the robot reports everything again at its telemetry rate, so after a failover the
/// grain reactivates elsewhere on the next record and nothing is persisted.
/// </summary>
public sealed partial class RobotGrain(TimeProvider timeProvider, ILogger<RobotGrain> logger) : Grain, IRobotGrain
{
    private RobotStatus? _status;
    private long _forwardedStep = -1;
    private StepConfirmResult _lastResult;

    /// <inheritdoc />
    public async Task ReportTelemetryAsync(TelemetryReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var status = _status ?? new RobotStatus { RobotId = this.GetPrimaryKeyString() };
        if (status.LastTelemetry is { } last && last.Seq == report.Seq && report.Seq != 0)
        {
            _status = status with { DuplicatesDropped = status.DuplicatesDropped + 1 };
            return;
        }

        var siteChanged = status.SiteId != report.SiteId;
        status = status with
        {
            SiteId = report.SiteId,
            LastTelemetry = report,
            LastSeen = timeProvider.GetUtcNow(),
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
        var result = await site.ConfirmStepAsync(new StepConfirmation(status.RobotId, report.LastCompletedStep, report.Cell, report.Heading));
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
        _status = status with { EventCount = status.EventCount + 1, LastEventKind = report.Kind, LastEventDetail = report.Detail };
        LogRobotEvent(logger, status.RobotId, report.Kind, report.Detail);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<RobotStatus?> GetStatusAsync() => Task.FromResult(_status is null ? null : _status with { Silo = RuntimeIdentity });

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Robot {RobotId} reports for site {SiteId}, whose roster does not list it")]
    private static partial void LogUnknownRobot(ILogger logger, string robotId, string siteId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Robot {RobotId} event {Kind}: {Detail}")]
    private static partial void LogRobotEvent(ILogger logger, string robotId, string kind, string detail);
}
