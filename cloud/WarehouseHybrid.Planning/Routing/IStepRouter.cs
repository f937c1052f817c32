using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Planning.Distances;

namespace WarehouseHybrid.Planning.Routing;

/// <summary>One step of collision-free routing for the whole fleet (<see cref="PibtRouter"/>, <see cref="EpibtRouter"/>).</summary>
public interface IStepRouter
{
    /// <summary>
    /// Plans one step. <paramref name="order"/> lists robot indices from highest to lowest priority
    /// (every robot once). <paramref name="tables"/> gives each robot's goal table, or null for a
    /// robot without a goal (it prefers to stay). Robots on impassable or shared cells wait and are
    /// counted in the return value. <paramref name="shouldStop"/> is polled now and then; when it
    /// returns true before every robot has a decision, a router either returns the valid partial
    /// step it has (undecided robots wait) or gives up and returns -1 with every action set to wait.
    /// </summary>
    /// <returns>Number of robots whose pose was illegal (they wait), or -1 when stopped without a step.</returns>
    int Plan(
        ReadOnlySpan<RobotPose> poses,
        ReadOnlySpan<int> order,
        GoalDistanceTable?[] tables,
        Random rng,
        Span<RobotAction> actions,
        Func<bool> shouldStop);
}
