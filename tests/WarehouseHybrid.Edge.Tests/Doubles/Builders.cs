using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Plans;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Edge.Tests.Doubles;

internal static class Builders
{
    public static readonly GridMap Map = new(10, 10, new CellKind[100], "test");

    public static KinematicLimits Limits => new(
        MaxLinearMps: 1.0, MaxAngularRadps: 2.0, LinearAccel: 1.0, AngularAccel: 4.0, BrakeDecel: 1.5,
        SafetyMarginMetres: 0.25, RobotHalfWidthMetres: 0.35, ObstacleSlowdownMetres: 1.5, RestLinearMps: 0.03);

    public static CompletionTolerances Tolerances => new(0.05, 0.05, 0.03, 0.08);

    public static PlanExecutor Executor() => new(Map, GridGeometry.Default, Tolerances);

    public static PlanStep Step(uint step, PlanAction action, int cell, ProtoHeading heading, bool granted = true) =>
        new() { Step = step, Action = action, TargetCell = cell, TargetHeading = heading, Granted = granted };

    public static PlanSegment Segment(uint firstStep, int startCell, ProtoHeading startHeading, ulong revision, params PlanStep[] steps)
    {
        var s = new PlanSegment
        {
            RobotId = "r1", PlanId = "p1", Revision = revision, FirstStep = firstStep,
            StartCell = startCell, StartHeading = startHeading, TraceId = $"trace-{revision}",
        };
        s.Steps.AddRange(steps);
        return s;
    }
}
