using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Cloud.Sites;

/// <summary>
/// Makes the optimizer of one site when the site starts its cycle. The host registers one
/// (the demo and Program.cs inject the real optimizer; tests inject a small one).
/// </summary>
/// <param name="map">The site's map.</param>
/// <param name="startPoses">One start pose per robot, in roster order; the planner's robot count is their number.</param>
/// <returns>A planner with <see cref="IFleetPlanner.RobotCount"/> equal to <c>startPoses.Count</c>.</returns>
public delegate IFleetPlanner FleetPlannerFactory(GridMap map, IReadOnlyList<RobotPose> startPoses);
