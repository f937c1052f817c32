using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>A robot's report that it completed a step, with the discrete pose it reached.</summary>
/// <param name="RobotId">Robot id.</param>
/// <param name="CompletedStep">Global step number of the last completed action.</param>
/// <param name="Cell">Reported cell (-1 when unknown: the step's target is used).</param>
/// <param name="Heading">Reported heading.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.StepConfirmation")]
public sealed record StepConfirmation(
    [property: Id(0)] string RobotId,
    [property: Id(1)] uint CompletedStep,
    [property: Id(2)] int Cell,
    [property: Id(3)] Heading Heading)
{
    /// <summary>W3C traceparent of the robot grain's ingest span: the robot's next plan segment continues this trace.</summary>
    [Id(4)] public string TraceParent { get; init; } = string.Empty;
}

/// <summary>How the site took a step confirmation.</summary>
[GenerateSerializer, Alias("wh.cloud.StepConfirmResult")]
public enum StepConfirmResult
{
    /// <summary>Nothing was sent yet.</summary>
    None = 0,
    /// <summary>The site has no definition yet: send it again later.</summary>
    SiteNotReady = 1,
    /// <summary>The robot is not on the site's roster.</summary>
    UnknownRobot = 2,
    /// <summary>The robot is now confirmed for the current step.</summary>
    Confirmed = 3,
    /// <summary>The robot had already confirmed.</summary>
    AlreadyConfirmed = 4,
    /// <summary>The robot reports an older step than it was given.</summary>
    Behind = 5,
}

/// <summary>A task for the site: ordered errand cells; finished when the last is reached.</summary>
/// <param name="Id">Unique task id within the site.</param>
/// <param name="Errands">Cells to visit in order.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.SiteTask")]
public sealed record SiteTask(
    [property: Id(0)] int Id,
    [property: Id(1)] IReadOnlyList<int> Errands);

/// <summary>What <see cref="ISiteGrain.SubmitTasksAsync"/> accepted and why it refused the rest.</summary>
/// <param name="Accepted">Tasks added to the pool.</param>
/// <param name="Rejections">One line per refused task, naming the task, its position in the batch and the problem.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.TaskSubmissionResult")]
public sealed record TaskSubmissionResult(
    [property: Id(0)] int Accepted,
    [property: Id(1)] IReadOnlyList<string> Rejections);

/// <summary>A site's statistics.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.SiteStats")]
public sealed record SiteStats
{
    /// <summary>Site id.</summary>
    [Id(0)] public string SiteId { get; init; } = string.Empty;

    /// <summary>Whether the site has a definition and runs its cycle.</summary>
    [Id(1)] public bool Initialized { get; init; }

    /// <summary>The current step S (last dispatched).</summary>
    [Id(2)] public uint Step { get; init; }

    /// <summary>Robots on the roster.</summary>
    [Id(3)] public int RobotCount { get; init; }

    /// <summary>Robots that have confirmed every step they were given.</summary>
    [Id(4)] public int RobotsConfirmed { get; init; }

    /// <summary>Robots given the current step that have not confirmed it yet.</summary>
    [Id(5)] public int RobotsAwaited { get; init; }

    /// <summary>Tasks accepted by <see cref="ISiteGrain.SubmitTasksAsync"/>.</summary>
    [Id(6)] public long TasksSubmitted { get; init; }

    /// <summary>Tasks the optimizer reports finished.</summary>
    [Id(7)] public long TasksFinished { get; init; }

    /// <summary>Open tasks in the optimizer's pool (assigned or not).</summary>
    [Id(8)] public int OpenTasks { get; init; }

    /// <summary>Tasks finished per dispatched step.</summary>
    [Id(9)] public double ThroughputPerStep { get; init; }

    /// <summary>Planning time of the last step (ms).</summary>
    [Id(10)] public double PlanTimeLastMs { get; init; }

    /// <summary>Median planning time over the recent window (ms).</summary>
    [Id(11)] public double PlanTimeP50Ms { get; init; }

    /// <summary>99th percentile planning time over the recent window (ms).</summary>
    [Id(12)] public double PlanTimeP99Ms { get; init; }

    /// <summary>Largest planning time ever (ms).</summary>
    [Id(13)] public double PlanTimeMaxMs { get; init; }

    /// <summary>Steps dispatched.</summary>
    [Id(14)] public long StepsDispatched { get; init; }

    /// <summary>Plan segments handed to the publisher.</summary>
    [Id(15)] public long SegmentsPublished { get; init; }

    /// <summary>Task assignments handed to the publisher.</summary>
    [Id(16)] public long AssignmentsPublished { get; init; }

    /// <summary>Steps planned after the confirm timeout with some robots held.</summary>
    [Id(17)] public long ConfirmTimeouts { get; init; }

    /// <summary>Robot-steps held back because the robot had not confirmed.</summary>
    [Id(18)] public long RobotStepsHeld { get; init; }

    /// <summary>Moves turned into waits because a held robot may occupy the target cell.</summary>
    [Id(19)] public long ForcedWaits { get; init; }

    /// <summary>Steps where the optimizer used its fallback.</summary>
    [Id(20)] public long PlannerFallbacks { get; init; }

    /// <summary>Steps where the optimizer's actions broke a rule (all robots waited).</summary>
    [Id(21)] public long InvalidPlans { get; init; }

    /// <summary>Planning calls that threw (the step was retried).</summary>
    [Id(22)] public long PlanFailures { get; init; }

    /// <summary>Errands reached (not counting last errands).</summary>
    [Id(23)] public long ErrandsReached { get; init; }

    /// <summary>Whether a step is being planned right now.</summary>
    [Id(24)] public bool Planning { get; init; }

    /// <summary>Confirmations whose reported pose differed from the planned target.</summary>
    [Id(25)] public long PoseMismatches { get; init; }

    /// <summary>Grant updates published to followers whose leader confirmed.</summary>
    [Id(26)] public long GrantsPublished { get; init; }

    /// <summary>The silo the site's grain runs on now.</summary>
    [Id(27)] public string Silo { get; init; } = string.Empty;

    /// <summary>Tasks that failed (e.g. expired in the queue).</summary>
    [Id(28)] public long TasksFailed { get; init; }

    /// <summary>Open tasks not yet given to the optimizer.</summary>
    [Id(29)] public int TasksQueued { get; init; }

    /// <summary>Times the site resumed from its persisted state (after its silo died or it was deactivated).</summary>
    [Id(30)] public long Resumes { get; init; }

    /// <summary>Step checkpoints whose write failed (the step went out anyway).</summary>
    [Id(31)] public long CheckpointFailures { get; init; }

    /// <summary>Duration of the last step checkpoint write (ms).</summary>
    [Id(32)] public double CheckpointLastMs { get; init; }

    /// <summary>Map columns.</summary>
    [Id(33)] public int MapWidth { get; init; }

    /// <summary>Map rows.</summary>
    [Id(34)] public int MapHeight { get; init; }
}

/// <summary>One robot of a site's roster as the site sees it.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.SiteRobotView")]
public sealed record SiteRobotView
{
    /// <summary>Robot id.</summary>
    [Id(0)] public string RobotId { get; init; } = string.Empty;

    /// <summary>Last confirmed cell.</summary>
    [Id(1)] public int Cell { get; init; }

    /// <summary>Last confirmed heading.</summary>
    [Id(2)] public Heading Heading { get; init; }

    /// <summary>Last step it confirmed (-1 before the first).</summary>
    [Id(3)] public long ConfirmedStep { get; init; }

    /// <summary>Last step it was given.</summary>
    [Id(4)] public uint DispatchedStep { get; init; }

    /// <summary>Whether it has confirmed every step it was given.</summary>
    [Id(5)] public bool CaughtUp { get; init; }

    /// <summary>Whether the site holds it (it missed the confirm timeout and gets no steps until it confirms).</summary>
    [Id(6)] public bool Held { get; init; }

    /// <summary>Plan revision of its last step.</summary>
    [Id(7)] public ulong Revision { get; init; }

    /// <summary>Site-local id of its task, or -1.</summary>
    [Id(8)] public int TaskId { get; init; } = -1;

    /// <summary>Index of the errand it heads for.</summary>
    [Id(9)] public int ErrandIndex { get; init; }

    /// <summary>Cell it heads for, or -1.</summary>
    [Id(10)] public int GoalCell { get; init; } = -1;
}
