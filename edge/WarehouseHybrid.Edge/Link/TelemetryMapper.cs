using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Control;

namespace WarehouseHybrid.Edge.Link;

/// <summary>Turns the control loop's <see cref="ControlSample"/> into the protobuf <see cref="Telemetry"/>.</summary>
public static class TelemetryMapper
{
    /// <summary>Builds a telemetry message.</summary>
    public static Telemetry ToTelemetry(in ControlSample sample, string robotId, string siteId, ulong seq, DateTimeOffset now) => new()
    {
        RobotId = robotId,
        SiteId = siteId,
        Seq = seq,
        TimestampUnixMs = now.ToUnixTimeMilliseconds(),
        Pose = new Pose
        {
            XM = sample.Pose.X,
            YM = sample.Pose.Y,
            ThetaRad = sample.Pose.Theta,
            Cell = sample.HasDiscretePose ? sample.DiscretePose.Cell : -1,
            Heading = (Heading)(int)sample.DiscretePose.Heading,
        },
        State = (RobotState)(int)sample.Activity,
        BatteryFraction = sample.BatteryFraction,
        Progress = new PlanProgress
        {
            PlanId = sample.PlanId ?? string.Empty,
            PlanRevision = sample.PlanRevision,
            LastCompletedStep = sample.LastCompletedStep,
            GrantedThroughStep = sample.GrantedThroughStep,
            HasPlan = sample.HasPlan,
        },
        DecisionMode = (Contracts.Fleet.DecisionMode)(int)sample.Mode,
        TraceId = sample.TraceId ?? string.Empty,
        // The proto: why the rule policy or the shield acted, empty while the learned policy drives.
        FallbackReason = sample.Mode == Control.DecisionMode.Learned ? string.Empty : sample.Reason.ToText(),
        MinRangeM = sample.MinRangeMetres, // +infinity when nothing echoes
        ModelVersion = sample.ModelVersion ?? string.Empty,
    };
}
