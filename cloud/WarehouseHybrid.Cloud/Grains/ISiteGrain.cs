using Orleans.Concurrency;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tasks;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>
/// One warehouse site (key: site id): map, robot roster, task pool and the optimizer's step cycle
/// (docs/plan-contract.md). Its definition, step checkpoint, task intake and task history are persisted,
/// so after a silo dies the site reactivates elsewhere and resumes where it was.
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

    /// <summary>Adds tasks with caller-chosen ids to the pool; refuses (with a reason each) tasks with a repeated id or an errand off the map or on an obstacle.</summary>
    [Alias("SubmitTasks")]
    Task<TaskSubmissionResult> SubmitTasksAsync(IReadOnlyList<SiteTask> tasks);

    /// <summary>
    /// Submits one task order (the HTTP and MQTT intake): checks it field by field against the map, honours its
    /// idempotency key, and answers only once the task is persisted.
    /// </summary>
    [Alias("SubmitOrder")]
    Task<TaskSubmitOutcome> SubmitOrderAsync(TaskOrder order);

    /// <summary>A task's status by its site-local id, or null when the site does not know it (or forgot it).</summary>
    [Alias("GetTask"), AlwaysInterleave]
    Task<TaskView?> GetTaskAsync(int taskId);

    /// <summary>Every robot of the roster as the site sees it (confirmed pose, step, task).</summary>
    [Alias("GetRobots"), AlwaysInterleave]
    Task<IReadOnlyList<SiteRobotView>> GetRobotsAsync();

    /// <summary>A robot completed a step (sent by its robot grain).</summary>
    [Alias("ConfirmStep")]
    Task<StepConfirmResult> ConfirmStepAsync(StepConfirmation confirmation);

    /// <summary>The site's statistics.</summary>
    [Alias("GetStats"), AlwaysInterleave]
    Task<SiteStats> GetStatsAsync();

    /// <summary>The grid and roster for the dashboard; null before <see cref="InitializeAsync"/>.</summary>
    [Alias("GetMapView"), AlwaysInterleave]
    Task<SiteMapView?> GetMapViewAsync();

    /// <summary>Every robot's pose, target, goal, task and flags, with the statistics; null before <see cref="InitializeAsync"/>.</summary>
    [Alias("GetLiveView"), AlwaysInterleave]
    Task<SiteLiveView?> GetLiveViewAsync();

    /// <summary>Keeps the site active (the silos' keeper calls it, so a site whose silo died resumes without waiting for a robot).</summary>
    [Alias("Ping"), AlwaysInterleave, OneWay]
    Task PingAsync();
}
