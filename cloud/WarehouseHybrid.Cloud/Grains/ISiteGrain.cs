using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Sites;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>
/// One warehouse site (key: site id): map, robot roster, task pool and the optimizer's step cycle
/// (docs/plan-contract.md).
/// </summary>
[Alias("wh.cloud.ISiteGrain")]
public interface ISiteGrain : IGrainWithStringKey
{
    /// <summary>
    /// Gives the site its map and roster and starts the cycle at step 0. Calling it again with the
    /// same definition does nothing; a different definition is refused (<see cref="InvalidOperationException"/>).
    /// </summary>
    [Alias("Initialize")]
    Task InitializeAsync(SiteDefinition definition);

    /// <summary>Adds tasks to the pool; refuses (with a reason each) tasks with a repeated id or an errand off the map or on an obstacle.</summary>
    [Alias("SubmitTasks")]
    Task<TaskSubmissionResult> SubmitTasksAsync(IReadOnlyList<SiteTask> tasks);

    /// <summary>A robot completed a step (sent by its robot grain).</summary>
    [Alias("ConfirmStep")]
    Task<StepConfirmResult> ConfirmStepAsync(StepConfirmation confirmation);

    /// <summary>The site's statistics.</summary>
    [Alias("GetStats")]
    Task<SiteStats> GetStatsAsync();

    /// <summary>The grid and roster for the dashboard; null before <see cref="InitializeAsync"/>.</summary>
    [Alias("GetMapView")]
    Task<SiteMapView?> GetMapViewAsync();

    /// <summary>Every robot's pose, target, goal, task and flags, with the statistics; null before <see cref="InitializeAsync"/>.</summary>
    [Alias("GetLiveView")]
    Task<SiteLiveView?> GetLiveViewAsync();
}
