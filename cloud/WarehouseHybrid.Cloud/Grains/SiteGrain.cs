using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>
/// The site's shell around <see cref="SiteCycle"/> and the optimizer: takes confirmations, starts a
/// planning round when every awaited robot confirmed (or the confirm timeout passed), lets
/// <see cref="PlanningWorker"/> run the optimizer off the grain's scheduler, and publishes the
/// resulting plan segments and task assignments through <see cref="IFleetCommandPublisher"/>.
/// </summary>
public sealed partial class SiteGrain(
    IFleetCommandPublisher publisher,
    FleetPlannerFactory plannerFactory,
    PlanningWorker worker,
    IOptions<SiteCycleOptions> cycleOptions,
    TimeProvider timeProvider,
    CloudMetrics metrics,
    ILogger<SiteGrain> logger) : Grain, ISiteGrain
{
    private readonly SiteCycleOptions _options = cycleOptions.Value;
    private readonly LatencyWindow _planTimes = new();
    private readonly List<PlanningTask> _pendingTasks = new();
    private readonly Dictionary<int, IReadOnlyList<int>> _tasks = new();
    private SiteDefinition? _definition;
    private GridMap? _map;
    private SiteCycle? _cycle;
    private IFleetPlanner? _planner;
    private RobotAssignment[] _assignments = [];
    private IGrainTimer? _timer;
    private long _stepStartedAt;
    private string _planId = string.Empty;

    // Per robot: the trace context of its last step confirmation (its plan segment continues that trace), and the
    // robot whose confirmation completed the round (the optimizer span's parent).
    private ActivityContext[] _confirmTraces = [];
    private int _roundTrigger = -1;

    private long _tasksFinished;
    private long _stepsDispatched;
    private long _segmentsPublished;
    private long _grantsPublished;
    private long _assignmentsPublished;
    private long _confirmTimeouts;
    private long _robotStepsHeld;
    private long _forcedWaits;
    private long _fallbacks;
    private long _invalidPlans;
    private long _planFailures;
    private long _errandsReached;

    private string SiteId => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public Task InitializeAsync(SiteDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (_definition is not null)
        {
            if (SameDefinition(_definition, definition))
            {
                return Task.CompletedTask;
            }

            throw new InvalidOperationException($"site '{SiteId}' already runs map '{_definition.MapName}' with {_definition.Robots.Count} robots; a site cannot be redefined while active");
        }

        definition.Validate();
        var map = definition.ToMap();
        var starts = definition.Robots.Select(r => new RobotPose(r.StartCell, r.StartHeading)).ToArray();
        var planner = plannerFactory(map, starts);
        if (planner.RobotCount != starts.Length)
        {
            throw new InvalidOperationException($"site '{SiteId}': the planner factory made a planner for {planner.RobotCount} robots, the roster has {starts.Length}");
        }

        _definition = definition;
        _map = map;
        _planner = planner;
        _cycle = new SiteCycle(map, definition.Robots);
        _assignments = new RobotAssignment[starts.Length];
        Array.Fill(_assignments, new RobotAssignment(-1, 0, -1));
        _confirmTraces = new ActivityContext[starts.Length];
        _planId = $"{SiteId}-{timeProvider.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
        _stepStartedAt = timeProvider.GetTimestamp();
        _timer = this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions
        {
            DueTime = _options.TickPeriod,
            Period = _options.TickPeriod,
            KeepAlive = true,
        });
        LogInitialized(logger, SiteId, map.Name, map.Width, map.Height, starts.Length);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<TaskSubmissionResult> SubmitTasksAsync(IReadOnlyList<SiteTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (_map is null)
        {
            throw new InvalidOperationException($"site '{SiteId}' has no definition yet: call InitializeAsync first");
        }

        var rejections = new List<string>();
        var accepted = 0;
        for (var i = 0; i < tasks.Count; i++)
        {
            var problem = CheckTask(tasks[i], _map);
            if (problem is not null)
            {
                rejections.Add($"task {i} (id {tasks[i]?.Id.ToString(CultureInfo.InvariantCulture) ?? "null"}): {problem}");
                continue;
            }

            var errands = tasks[i].Errands.ToArray();
            _tasks.Add(tasks[i].Id, errands);
            _pendingTasks.Add(new PlanningTask(tasks[i].Id, errands));
            accepted++;
        }

        return Task.FromResult(new TaskSubmissionResult(accepted, rejections));
    }

    /// <inheritdoc />
    public Task<StepConfirmResult> ConfirmStepAsync(StepConfirmation confirmation)
    {
        ArgumentNullException.ThrowIfNull(confirmation);
        if (_cycle is null)
        {
            return Task.FromResult(StepConfirmResult.SiteNotReady);
        }

        var outcome = _cycle.Confirm(confirmation.RobotId, confirmation.CompletedStep, new RobotPose(confirmation.Cell, confirmation.Heading));
        var robotIndex = _cycle.IndexOf(confirmation.RobotId);
        if (robotIndex >= 0 && confirmation.TraceParent.Length > 0)
        {
            _confirmTraces[robotIndex] = CloudTracing.Parse(confirmation.TraceParent);
        }

        if (outcome == ConfirmOutcome.CaughtUp)
        {
            _roundTrigger = robotIndex;
        }

        var released = _cycle.TakeReleasedGrants();
        if (released.Count > 0)
        {
            PublishGrants(released);
        }

        if (outcome == ConfirmOutcome.CaughtUp)
        {
            TryStartRound();
        }

        return Task.FromResult(outcome switch
        {
            ConfirmOutcome.CaughtUp => StepConfirmResult.Confirmed,
            ConfirmOutcome.AlreadyConfirmed => StepConfirmResult.AlreadyConfirmed,
            ConfirmOutcome.Behind => StepConfirmResult.Behind,
            _ => StepConfirmResult.UnknownRobot,
        });
    }

    /// <inheritdoc />
    public Task<SiteStats> GetStatsAsync()
    {
        var cycle = _cycle;
        return Task.FromResult(new SiteStats
        {
            SiteId = SiteId,
            Initialized = cycle is not null,
            Step = cycle?.Step ?? 0,
            RobotCount = cycle?.RobotCount ?? 0,
            RobotsConfirmed = cycle?.CaughtUpCount ?? 0,
            RobotsAwaited = cycle?.AwaitingCount ?? 0,
            TasksSubmitted = _tasks.Count,
            TasksFinished = _tasksFinished,
            OpenTasks = (_planner?.OpenTaskCount ?? 0) + _pendingTasks.Count,
            ThroughputPerStep = _stepsDispatched == 0 ? 0 : (double)_tasksFinished / _stepsDispatched,
            PlanTimeLastMs = _planTimes.LastMs,
            PlanTimeP50Ms = _planTimes.PercentileMs(50),
            PlanTimeP99Ms = _planTimes.PercentileMs(99),
            PlanTimeMaxMs = _planTimes.MaxMs,
            StepsDispatched = _stepsDispatched,
            SegmentsPublished = _segmentsPublished,
            GrantsPublished = _grantsPublished,
            AssignmentsPublished = _assignmentsPublished,
            ConfirmTimeouts = _confirmTimeouts,
            RobotStepsHeld = _robotStepsHeld,
            ForcedWaits = _forcedWaits,
            PlannerFallbacks = _fallbacks,
            InvalidPlans = _invalidPlans,
            PlanFailures = _planFailures,
            ErrandsReached = _errandsReached,
            Planning = cycle?.IsPlanning ?? false,
            PoseMismatches = cycle?.PoseMismatches ?? 0,
        });
    }

    private Task OnTickAsync(CancellationToken cancellationToken)
    {
        TryStartRound();
        return Task.CompletedTask;
    }

    private void TryStartRound()
    {
        if (_cycle is null || _planner is null || _cycle.IsPlanning)
        {
            return;
        }

        var sinceStepStart = timeProvider.GetElapsedTime(_stepStartedAt);
        if (sinceStepStart < _options.MinStepInterval)
        {
            return;
        }

        var timedOut = sinceStepStart >= _options.ConfirmTimeout;
        if (!_cycle.CanPlan(timedOut))
        {
            return;
        }

        var round = _cycle.BeginRound(timedOut && _cycle.AwaitingCount > 0);
        foreach (var task in _pendingTasks)
        {
            _planner.SubmitTask(task);
        }

        _pendingTasks.Clear();

        // Detached on purpose: the grain turn ends here and the grain keeps taking calls while the
        // worker plans; the continuation comes back on this activation's scheduler.
        _ = RunRoundAsync(round, _planner);
    }

    private async Task RunRoundAsync(PlanningRound round, IFleetPlanner planner)
    {
        using var span = StartPlanStepSpan(round);
        PlanningOutcome outcome;
        try
        {
            outcome = await worker.PlanAsync(planner, round.Poses, _options.PlanBudget, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _planFailures++;
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            _cycle!.AbortRound(round);
            LogPlanFailed(logger, ex, SiteId, round.Step);
            return;
        }

        var result = outcome.Result;
        var dispatch = _cycle!.CompleteRound(round, result.Actions);
        _stepStartedAt = timeProvider.GetTimestamp();
        _planTimes.Add(outcome.Elapsed);
        _stepsDispatched++;
        _tasksFinished += result.FinishedTaskIds.Count;
        _errandsReached += result.ErrandsReached.Count;
        _forcedWaits += dispatch.ForcedWaits;
        _robotStepsHeld += dispatch.Held;
        if (round.TimedOut)
        {
            _confirmTimeouts++;
            LogConfirmTimeout(logger, SiteId, round.Step, dispatch.Held);
        }

        if (result.UsedFallback)
        {
            _fallbacks++;
        }

        if (dispatch.PlanWasInvalid)
        {
            _invalidPlans++;
            LogInvalidPlan(logger, SiteId, round.Step);
        }

        span?.SetTag("wh.plan.ms", outcome.Elapsed.TotalMilliseconds);
        span?.SetTag("wh.plan.fallback", result.UsedFallback);
        span?.SetTag("wh.tasks.finished", result.FinishedTaskIds.Count);
        metrics.StepPlanned(SiteId, outcome.Elapsed, result.FinishedTaskIds.Count, result.UsedFallback, dispatch.Orders.Count);
        try
        {
            await PublishAsync(dispatch, result.Assignments, span?.Context ?? default);
        }
        catch (Exception ex)
        {
            LogPublishFailed(logger, ex, SiteId, dispatch.Step);
        }
    }

    // Followers whose leader has confirmed may now enter the cell it left (docs/plan-contract.md).
    private void PublishGrants(IReadOnlyList<ReleasedGrant> released)
    {
        foreach (var g in released)
        {
            var grant = new GrantUpdate
            {
                RobotId = g.RobotId,
                PlanId = _planId,
                Revision = g.Revision,
                GrantedThroughStep = g.Step,
                TraceId = CloudTracing.Outgoing(null, TraceOf(g.RobotIndex)),
            };
            _grantsPublished++;
            var pending = publisher.PublishGrantAsync(SiteId, grant);
            if (!pending.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(pending);
            }
        }
    }

    private async Task ObserveAsync(ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (Exception ex)
        {
            LogPublishFailed(logger, ex, SiteId, _cycle?.Step ?? 0);
        }
    }

    private async Task PublishAsync(StepDispatch dispatch, RobotAssignment[] assignments, ActivityContext stepContext)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var order in dispatch.Orders)
        {
            // The robot's own trace (from its last confirmation) continues into its plan; the optimizer step is a link.
            var parent = TraceOf(order.RobotIndex) is { } robotTrace && robotTrace != default ? robotTrace : stepContext;
            using var publish = CloudTracing.Source.StartActivity(
                CloudTracing.PlanPublish, ActivityKind.Producer, parent, links: stepContext == default || stepContext == parent ? null : [new ActivityLink(stepContext)]);
            publish?.SetTag("wh.robot", order.RobotId);
            publish?.SetTag("wh.step", dispatch.Step);
            var segment = new PlanSegment
            {
                RobotId = order.RobotId,
                PlanId = _planId,
                Revision = order.Revision,
                FirstStep = dispatch.Step,
                StartCell = order.Start.Cell,
                StartHeading = (ProtoHeading)order.Start.Heading,
                TraceId = CloudTracing.Outgoing(publish, parent),
                IssuedUnixMs = now,
            };
            segment.Steps.Add(new PlanStep
            {
                Step = dispatch.Step,
                Action = (PlanAction)order.Action,
                TargetCell = order.Target.Cell,
                TargetHeading = (ProtoHeading)order.Target.Heading,
                Granted = order.Granted,
            });
            await publisher.PublishPlanAsync(SiteId, segment);
            _segmentsPublished++;
        }

        for (var i = 0; i < assignments.Length && i < _assignments.Length; i++)
        {
            var next = assignments[i];
            var previous = _assignments[i];
            _assignments[i] = next;
            if (next.TaskId < 0 || (next.TaskId == previous.TaskId && next.NextErrandIndex == previous.NextErrandIndex))
            {
                continue;
            }

            var assignment = new TaskAssignment
            {
                RobotId = _cycle!.RobotIdAt(i),
                TaskId = next.TaskId.ToString(CultureInfo.InvariantCulture),
                NextErrandIndex = (uint)Math.Max(0, next.NextErrandIndex),
                TraceId = CloudTracing.Outgoing(null, TraceOf(i)),
                AssignedUnixMs = now,
            };
            if (_tasks.TryGetValue(next.TaskId, out var errands))
            {
                assignment.Errands.AddRange(errands);
            }

            await publisher.PublishTaskAsync(SiteId, assignment);
            _assignmentsPublished++;
        }
    }

    /// <inheritdoc />
    public Task<SiteMapView?> GetMapViewAsync() => Task.FromResult(_definition is not { } d ? null : new SiteMapView
    {
        SiteId = SiteId,
        MapName = d.MapName,
        Width = d.Width,
        Height = d.Height,
        Cells = d.Cells,
        RobotIds = [.. d.Robots.Select(r => r.RobotId)],
    });

    /// <inheritdoc />
    public async Task<SiteLiveView?> GetLiveViewAsync()
    {
        if (_cycle is not { } cycle)
        {
            return null;
        }

        var n = cycle.RobotCount;
        var view = new SiteLiveView
        {
            SiteId = SiteId,
            Cells = new int[n],
            Headings = new byte[n],
            Targets = new int[n],
            Goals = new int[n],
            TaskIds = new int[n],
            Flags = new byte[n],
            Stats = await GetStatsAsync(),
        };
        cycle.CopyRobotView(view.Cells, view.Headings, view.Targets, view.Flags);
        for (var i = 0; i < n; i++)
        {
            var a = i < _assignments.Length ? _assignments[i] : new RobotAssignment(-1, 0, -1);
            view.Goals[i] = a.TaskId < 0 ? -1 : a.GoalCell;
            view.TaskIds[i] = a.TaskId;
        }

        return view;
    }

    private Activity? StartPlanStepSpan(PlanningRound round)
    {
        if (!CloudTracing.Source.HasListeners())
        {
            return null;
        }

        var parent = TraceOf(_roundTrigger);
        var links = new List<ActivityLink>();
        for (var i = 0; i < _confirmTraces.Length && links.Count < CloudTracing.MaxRoundLinks; i++)
        {
            if (i != _roundTrigger && _confirmTraces[i] != default)
            {
                links.Add(new ActivityLink(_confirmTraces[i]));
            }
        }

        var span = CloudTracing.Source.StartActivity(CloudTracing.PlanStep, ActivityKind.Internal, parent, links: links);
        span?.SetTag("wh.site", SiteId);
        span?.SetTag("wh.step", round.Step);
        span?.SetTag("wh.robots", _confirmTraces.Length);
        return span;
    }

    private string? CheckTask(SiteTask? task, GridMap map)
    {
        if (task is null)
        {
            return "task is null";
        }

        if (_tasks.ContainsKey(task.Id))
        {
            return "id already submitted";
        }

        if (task.Errands is null || task.Errands.Count == 0)
        {
            return "no errands";
        }

        for (var e = 0; e < task.Errands.Count; e++)
        {
            if (!map.IsPassable(task.Errands[e]))
            {
                return $"errand {e} (cell {task.Errands[e]}) is off the {map.Width}x{map.Height} map or an obstacle";
            }
        }

        return null;
    }

    private static bool SameDefinition(SiteDefinition a, SiteDefinition b) =>
        a.Width == b.Width && a.Height == b.Height && a.Cells.AsSpan().SequenceEqual(b.Cells) && a.Robots.SequenceEqual(b.Robots);

    private ActivityContext TraceOf(int robotIndex) => (uint)robotIndex < (uint)_confirmTraces.Length ? _confirmTraces[robotIndex] : default;

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Site {SiteId} started on map {Map} ({Width}x{Height}) with {Robots} robots")]
    private static partial void LogInitialized(ILogger logger, string siteId, string map, int width, int height, int robots);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Site {SiteId}: planning step {Step} failed; the step is retried")]
    private static partial void LogPlanFailed(ILogger logger, Exception exception, string siteId, uint step);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Site {SiteId}: confirm timeout, step {Step} planned with {Held} robots held")]
    private static partial void LogConfirmTimeout(ILogger logger, string siteId, uint step, int held);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Site {SiteId}: the optimizer's step {Step} broke a rule; every robot waits")]
    private static partial void LogInvalidPlan(ILogger logger, string siteId, uint step);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Site {SiteId}: publishing step {Step} failed")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string siteId, uint step);
}
