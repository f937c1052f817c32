using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tasks;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>
/// The site's shell around <see cref="SiteCycle"/>, <see cref="SiteTaskPool"/> and the optimizer: takes confirmations,
/// starts a planning round when every awaited robot confirmed (or the confirm timeout passed), lets
/// <see cref="PlanningWorker"/> run the optimizer off the grain's scheduler, writes the step checkpoint, then
/// publishes the plan segments and task assignments through <see cref="IFleetCommandPublisher"/>.
/// Persisted: the definition (once), the checkpoint (every step, before its plans go out), the intake (before a
/// submitter is answered) and the history (ended tasks, idempotency keys; coalesced). On activation with a
/// definition it resumes: the optimizer is rebuilt from the checkpoint's poses and open tasks, robots still awaited
/// are asked for their last report and sent their step again.
/// </summary>
public sealed partial class SiteGrain(
    [PersistentState("definition", Hosting.CloudHost.StorageName)] IPersistentState<SiteDefinitionState> definitionState,
    [PersistentState("checkpoint", Hosting.CloudHost.StorageName)] IPersistentState<SiteCheckpointState> checkpointState,
    [PersistentState("intake", Hosting.CloudHost.StorageName)] IPersistentState<SiteIntakeState> intakeState,
    [PersistentState("history", Hosting.CloudHost.StorageName)] IPersistentState<SiteHistoryState> historyState,
    IFleetCommandPublisher publisher,
    FleetPlannerFactory plannerFactory,
    PlanningWorker worker,
    IOptions<SiteCycleOptions> cycleOptions,
    IOptions<TaskOptions> taskOptions,
    TimeProvider timeProvider,
    CloudMetrics metrics,
    ILogger<SiteGrain> logger) : Grain, ISiteGrain
{
    private static readonly TimeSpan ResyncTimeout = TimeSpan.FromSeconds(5);
    private readonly SiteCycleOptions _options = cycleOptions.Value;
    private readonly LatencyWindow _planTimes = new();
    private readonly SiteTaskPool _pool = new(taskOptions.Value, timeProvider);
    private SiteCounters _counters = new();
    private SiteDefinition? _definition;
    private GridMap? _map;
    private SiteCycle? _cycle;
    private IFleetPlanner? _planner;
    private TaskOrderValidator? _validator;
    private RobotAssignment[] _assignments = [];
    private IGrainTimer? _timer;
    private long _stepStartedAt;
    private long _historyWrittenAt;
    private double _checkpointLastMs;
    private Task _round = Task.CompletedTask;

    // Per robot: the trace context of its last step confirmation (its plan segment continues that trace), and the
    // robot whose confirmation completed the round (the optimizer span's parent).
    private ActivityContext[] _confirmTraces = [];
    private int _roundTrigger = -1;

    private string SiteId => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (definitionState.State.Definition is not { } definition)
        {
            return;
        }

        Start(definition, resume: true);
        _counters.Resumes++;
        try
        {
            await ResyncAsync().WaitAsync(ResyncTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Robots that did not answer rejoin when they next confirm (or are held after the confirm timeout).
            LogResyncSlow(logger, SiteId, ResyncTimeout.TotalSeconds);
        }

        LogResumed(logger, SiteId, _cycle!.Step, _pool.OpenCount, RuntimeIdentity);
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Let a step in flight finish (its checkpoint makes the next activation resume after it).
        try
        {
            await _round.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Deactivation is being forced; the next activation resumes from the last checkpoint.
        }

        (_planner as IDisposable)?.Dispose();
    }

    /// <inheritdoc />
    public async Task InitializeAsync(SiteDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (_definition is not null)
        {
            if (SameDefinition(_definition, definition))
            {
                return;
            }

            throw new InvalidOperationException($"site '{SiteId}' already runs map '{_definition.MapName}' with {_definition.Robots.Count} robots; a site cannot be redefined while active");
        }

        definition.Validate();
        definitionState.State.Definition = definition;
        definitionState.State.PlanId = $"{SiteId}-{timeProvider.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
        definitionState.State.DefinedAt = timeProvider.GetUtcNow();
        Start(definition, resume: false);
        await definitionState.WriteStateAsync();
        await GrainFactory.GetGrain<ISiteDirectoryGrain>(SiteDirectoryGrain.Key).RegisterAsync(SiteId);
        LogInitialized(logger, SiteId, _map!.Name, _map.Width, _map.Height, definition.Robots.Count);
    }

    /// <inheritdoc />
    public async Task<TaskSubmissionResult> SubmitTasksAsync(IReadOnlyList<SiteTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (_map is null || _validator is null)
        {
            throw new InvalidOperationException($"site '{SiteId}' has no definition yet: call InitializeAsync first");
        }

        var rejections = new List<string>();
        var accepted = new List<int>();
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            var errors = new List<FieldError>();
            var cells = task?.Errands is { Count: > 0 } errands
                ? _validator.Resolve(new TaskOrder { Errands = errands.Select(ErrandRef.AtCell).ToArray() }, errors)
                : null;
            var problem = task is null ? "task is null"
                : task.Errands is null || task.Errands.Count == 0 ? "no errands"
                : cells is null ? string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}"))
                : _pool.AdmitWithId(task.Id, cells, "grain");
            if (problem is not null)
            {
                rejections.Add($"task {i} (id {task?.Id.ToString(CultureInfo.InvariantCulture) ?? "null"}): {problem}");
                continue;
            }

            accepted.Add(task!.Id);
        }

        if (accepted.Count > 0)
        {
            try
            {
                await WriteIntakeAsync();
            }
            catch
            {
                _pool.WithdrawIds(accepted);
                throw;
            }

            _pool.Persisted(accepted);
        }

        return new TaskSubmissionResult(accepted.Count, rejections);
    }

    /// <inheritdoc />
    public async Task<TaskSubmitOutcome> SubmitOrderAsync(TaskOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (_validator is null)
        {
            return new TaskSubmitOutcome(SubmitStatus.UnknownSite, null, [new FieldError("site", $"site '{SiteId}' is not defined in this cluster")]);
        }

        var errors = new List<FieldError>();
        var cells = _validator.Resolve(order, errors);
        if (cells is null)
        {
            return new TaskSubmitOutcome(SubmitStatus.Invalid, null, errors);
        }

        var admission = _pool.Admit(order, cells);
        if (admission.Status != SubmitStatus.Created)
        {
            var conflict = admission.Status == SubmitStatus.KeyConflict
                ? [new FieldError("Idempotency-Key", $"was used for a different request (task {SiteId}.{admission.Task?.Id.ToString(CultureInfo.InvariantCulture) ?? "?"}); use a new key for a new task")]
                : Array.Empty<FieldError>();
            return new TaskSubmitOutcome(admission.Status, admission.Task is null ? null : ViewOf(admission.Task), conflict);
        }

        try
        {
            await WriteIntakeAsync();
        }
        catch
        {
            _pool.Withdraw(admission);
            throw;
        }

        _pool.Persisted([admission.Task!.Id]);
        return new TaskSubmitOutcome(SubmitStatus.Created, ViewOf(admission.Task), []);
    }

    /// <inheritdoc />
    public Task<TaskView?> GetTaskAsync(int taskId) =>
        Task.FromResult(_pool.Find(taskId) is { } r ? ViewOf(r) : null);

    /// <inheritdoc />
    public Task<IReadOnlyList<SiteRobotView>> GetRobotsAsync()
    {
        if (_cycle is null)
        {
            return Task.FromResult<IReadOnlyList<SiteRobotView>>([]);
        }

        var views = new SiteRobotView[_cycle.RobotCount];
        for (var i = 0; i < views.Length; i++)
        {
            var t = _cycle.TrackAt(i);
            var a = i < _assignments.Length ? _assignments[i] : new RobotAssignment(-1, 0, -1);
            var task = a.TaskId >= 0 ? _pool.Find(a.TaskId) : null;
            var caughtUp = t.ConfirmedStep >= t.DispatchedStep;
            views[i] = new SiteRobotView
            {
                RobotId = _cycle.RobotIdAt(i),
                Cell = t.Pose.Cell,
                Heading = t.Pose.Heading,
                ConfirmedStep = t.ConfirmedStep,
                DispatchedStep = t.DispatchedStep,
                CaughtUp = caughtUp,
                Held = !caughtUp && !t.Awaited,
                Revision = t.Revision,
                TaskId = a.TaskId,
                ErrandIndex = task is null ? a.NextErrandIndex : task.ErrandOffset + a.NextErrandIndex,
                GoalCell = a.GoalCell,
            };
        }

        return Task.FromResult<IReadOnlyList<SiteRobotView>>(views);
    }

    /// <inheritdoc />
    public Task<StepConfirmResult> ConfirmStepAsync(StepConfirmation confirmation)
    {
        ArgumentNullException.ThrowIfNull(confirmation);
        return Task.FromResult(Confirm(confirmation));
    }

    /// <inheritdoc />
    public Task PingAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public Task<SiteStats> GetStatsAsync()
    {
        var cycle = _cycle;
        var c = _counters;
        return Task.FromResult(new SiteStats
        {
            SiteId = SiteId,
            Initialized = cycle is not null,
            Step = cycle?.Step ?? 0,
            RobotCount = cycle?.RobotCount ?? 0,
            RobotsConfirmed = cycle?.CaughtUpCount ?? 0,
            RobotsAwaited = cycle?.AwaitingCount ?? 0,
            TasksSubmitted = _pool.LastSeq,
            TasksFinished = c.TasksFinished,
            TasksFailed = c.TasksFailed,
            OpenTasks = _pool.OpenCount,
            TasksQueued = _pool.QueuedCount,
            ThroughputPerStep = c.StepsDispatched == 0 ? 0 : (double)c.TasksFinished / c.StepsDispatched,
            PlanTimeLastMs = _planTimes.LastMs,
            PlanTimeP50Ms = _planTimes.PercentileMs(50),
            PlanTimeP99Ms = _planTimes.PercentileMs(99),
            PlanTimeMaxMs = _planTimes.MaxMs,
            StepsDispatched = c.StepsDispatched,
            SegmentsPublished = c.SegmentsPublished,
            GrantsPublished = c.GrantsPublished,
            AssignmentsPublished = c.AssignmentsPublished,
            ConfirmTimeouts = c.ConfirmTimeouts,
            RobotStepsHeld = c.RobotStepsHeld,
            ForcedWaits = c.ForcedWaits,
            PlannerFallbacks = c.Fallbacks,
            InvalidPlans = c.InvalidPlans,
            PlanFailures = c.PlanFailures,
            ErrandsReached = c.ErrandsReached,
            Planning = cycle?.IsPlanning ?? false,
            PoseMismatches = cycle?.PoseMismatches ?? 0,
            Silo = RuntimeIdentity,
            Resumes = c.Resumes,
            CheckpointFailures = c.CheckpointFailures,
            CheckpointLastMs = _checkpointLastMs,
            MapWidth = _map?.Width ?? 0,
            MapHeight = _map?.Height ?? 0,
        });
    }

    private void Start(SiteDefinition definition, bool resume)
    {
        definition.Validate();
        var map = definition.ToMap();
        var checkpoint = resume ? checkpointState.State : null;
        var cycle = new SiteCycle(map, definition.Robots);
        if (checkpoint?.Cycle is { } saved && !cycle.Restore(saved))
        {
            LogCheckpointMismatch(logger, SiteId, saved.Robots.Length, definition.Robots.Count);
        }

        var starts = Enumerable.Range(0, cycle.RobotCount).Select(cycle.ConfirmedPose).ToArray();
        var planner = plannerFactory(map, starts);
        if (planner.RobotCount != starts.Length)
        {
            throw new InvalidOperationException($"site '{SiteId}': the planner factory made a planner for {planner.RobotCount} robots, the roster has {starts.Length}");
        }

        if (resume)
        {
            _counters = checkpoint?.Counters.Copy() ?? new SiteCounters();
            _pool.Restore(checkpoint?.Tasks, historyState.State.History, intakeState.State.Entries, _counters.TasksFinished, _counters.TasksFailed);
        }

        _definition = definition;
        _map = map;
        _planner = planner;
        _cycle = cycle;
        _validator = new TaskOrderValidator(map, definition.Robots.Select(r => r.StartCell), taskOptions.Value.MaxErrands);
        _assignments = new RobotAssignment[starts.Length];
        Array.Fill(_assignments, new RobotAssignment(-1, 0, -1));
        _confirmTraces = new ActivityContext[starts.Length];
        _stepStartedAt = timeProvider.GetTimestamp();
        _historyWrittenAt = timeProvider.GetTimestamp();
        _timer = this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions
        {
            DueTime = _options.TickPeriod,
            Period = _options.TickPeriod,
            KeepAlive = true,
        });
    }

    // After a failover: robots may have confirmed (and run) steps the checkpoint does not show, and the plans of the
    // checkpointed step may never have left the dead silo. Ask every awaited robot's grain for its last report,
    // confirm what it says, and send the step again to those still behind.
    private async Task ResyncAsync()
    {
        var cycle = _cycle!;
        var awaited = Enumerable.Range(0, cycle.RobotCount).Where(i => cycle.TrackAt(i) is var t && t.ConfirmedStep < t.DispatchedStep).ToArray();
        var reports = await Task.WhenAll(awaited.Select(i => GrainFactory.GetGrain<IRobotGrain>(cycle.RobotIdAt(i)).GetStatusAsync()));
        var ahead = reports.Where(r => r?.LastTelemetry is not null && r.SiteId == SiteId).Select(r => r!.LastCompletedStep).DefaultIfEmpty(0u).Max();
        cycle.FastForward(ahead);
        foreach (var r in reports)
        {
            if (r?.LastTelemetry is { } t && r.SiteId == SiteId)
            {
                Confirm(new StepConfirmation(r.RobotId, t.LastCompletedStep, t.Cell, t.Heading), startRound: false);
            }
        }

        var pending = cycle.PendingOrders();
        if (pending.Count > 0)
        {
            await PublishOrdersAsync(cycle.Step, pending, timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        }

        // Grants of followers whose leaders confirmed meanwhile.
        PublishGrants(cycle.TakeReleasedGrants());
    }

    private StepConfirmResult Confirm(StepConfirmation confirmation, bool startRound = true)
    {
        if (_cycle is null)
        {
            return StepConfirmResult.SiteNotReady;
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

        if (outcome == ConfirmOutcome.CaughtUp && startRound)
        {
            TryStartRound();
        }

        return outcome switch
        {
            ConfirmOutcome.CaughtUp => StepConfirmResult.Confirmed,
            ConfirmOutcome.AlreadyConfirmed => StepConfirmResult.AlreadyConfirmed,
            ConfirmOutcome.Behind => StepConfirmResult.Behind,
            _ => StepConfirmResult.UnknownRobot,
        };
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
        foreach (var task in _pool.Reveal(_planner.OpenTaskCount))
        {
            _planner.SubmitTask(task);
        }

        // Detached on purpose: the grain turn ends here and the grain keeps taking calls while the
        // worker plans; the continuation comes back on this activation's scheduler.
        _round = RunRoundAsync(round, _planner);
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
            _counters.PlanFailures++;
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            _cycle!.AbortRound(round);
            LogPlanFailed(logger, ex, SiteId, round.Step);
            return;
        }

        // The optimizer's decision time: segments carry it as issued_unix_ms, so a robot can measure decision -> receipt.
        var decidedAt = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var result = outcome.Result;
        var dispatch = _cycle!.CompleteRound(round, result.Actions);
        _stepStartedAt = timeProvider.GetTimestamp();
        _planTimes.Add(outcome.Elapsed);
        var ended = _pool.Apply(result, _cycle.RobotIdAt);
        var c = _counters;
        c.StepsDispatched++;
        c.TasksFinished = _pool.Finished;
        c.TasksFailed = _pool.Failed;
        c.ErrandsReached += result.ErrandsReached.Count;
        c.ForcedWaits += dispatch.ForcedWaits;
        c.RobotStepsHeld += dispatch.Held;
        if (round.TimedOut)
        {
            c.ConfirmTimeouts++;
            LogConfirmTimeout(logger, SiteId, round.Step, dispatch.Held);
        }

        if (result.UsedFallback)
        {
            c.Fallbacks++;
        }

        if (dispatch.PlanWasInvalid)
        {
            c.InvalidPlans++;
            LogInvalidPlan(logger, SiteId, round.Step);
        }

        foreach (var task in ended)
        {
            LogTaskEnded(logger, SiteId, task.Id, task.State, task.Robot ?? "-");
        }

        span?.SetTag("wh.plan.ms", outcome.Elapsed.TotalMilliseconds);
        span?.SetTag("wh.plan.fallback", result.UsedFallback);
        span?.SetTag("wh.tasks.finished", result.FinishedTaskIds.Count);
        metrics.StepPlanned(SiteId, outcome.Elapsed, result.FinishedTaskIds.Count, result.UsedFallback, dispatch.Orders.Count);

        // Write-ahead: the step is durable before any robot hears of it, so a silo that dies after publishing
        // leaves a checkpoint the next activation resumes from exactly.
        await WriteCheckpointAsync();
        try
        {
            await PublishOrdersAsync(dispatch.Step, dispatch.Orders, decidedAt, span?.Context ?? default);
            await PublishAssignmentsAsync(result.Assignments);
        }
        catch (Exception ex)
        {
            LogPublishFailed(logger, ex, SiteId, dispatch.Step);
        }

        await WriteHistoryIfDueAsync();
    }

    private async Task WriteCheckpointAsync()
    {
        var started = timeProvider.GetTimestamp();
        var tasks = _pool.Checkpoint();
        checkpointState.State = new SiteCheckpointState { Cycle = _cycle!.Checkpoint(), Tasks = tasks, Counters = _counters.Copy() };
        try
        {
            await checkpointState.WriteStateAsync();
            _pool.Checkpointed(tasks);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Availability over durability while storage is away: the step still goes out; a resume after a
            // failure in this window fast-forwards to the step the robots report.
            _counters.CheckpointFailures++;
            LogCheckpointFailed(logger, ex, SiteId, _cycle.Step);
        }

        _checkpointLastMs = timeProvider.GetElapsedTime(started).TotalMilliseconds;
    }

    private async Task WriteHistoryIfDueAsync()
    {
        if (!_pool.HistoryDirty || timeProvider.GetElapsedTime(_historyWrittenAt) < taskOptions.Value.HistoryWriteInterval)
        {
            return;
        }

        var history = _pool.History();
        historyState.State = new SiteHistoryState { History = history };
        try
        {
            await historyState.WriteStateAsync();
            _historyWrittenAt = timeProvider.GetTimestamp();
            _pool.HistoryWritten(history);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogHistoryFailed(logger, ex, SiteId);
        }
    }

    private Task WriteIntakeAsync()
    {
        intakeState.State = new SiteIntakeState { Entries = _pool.Intake.ToList() };
        return intakeState.WriteStateAsync();
    }

    // Followers whose leader has confirmed may now enter the cell it left (docs/plan-contract.md).
    private void PublishGrants(IReadOnlyList<ReleasedGrant> released)
    {
        foreach (var g in released)
        {
            var grant = new GrantUpdate
            {
                RobotId = g.RobotId,
                PlanId = definitionState.State.PlanId,
                Revision = g.Revision,
                GrantedThroughStep = g.Step,
                TraceId = CloudTracing.Outgoing(null, TraceOf(g.RobotIndex)),
            };
            _counters.GrantsPublished++;
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

    private async Task PublishOrdersAsync(uint step, IReadOnlyList<RobotStepOrder> orders, long issuedUnixMs, ActivityContext stepContext = default)
    {
        foreach (var order in orders)
        {
            // The robot's own trace (from its last confirmation) continues into its plan; the optimizer step is a link.
            var parent = TraceOf(order.RobotIndex) is var robotTrace && robotTrace != default ? robotTrace : stepContext;
            using var publish = CloudTracing.Source.StartActivity(
                CloudTracing.PlanPublish, ActivityKind.Producer, parent, links: stepContext == default || stepContext == parent ? null : [new ActivityLink(stepContext)]);
            publish?.SetTag("wh.robot", order.RobotId);
            publish?.SetTag("wh.step", step);
            var segment = new PlanSegment
            {
                RobotId = order.RobotId,
                PlanId = definitionState.State.PlanId,
                Revision = order.Revision,
                FirstStep = step,
                StartCell = order.Start.Cell,
                StartHeading = (ProtoHeading)order.Start.Heading,
                TraceId = CloudTracing.Outgoing(publish, parent),
                IssuedUnixMs = issuedUnixMs,
            };
            segment.Steps.Add(new PlanStep
            {
                Step = step,
                Action = (PlanAction)order.Action,
                TargetCell = order.Target.Cell,
                TargetHeading = (ProtoHeading)order.Target.Heading,
                Granted = order.Granted,
            });
            await publisher.PublishPlanAsync(SiteId, segment);
            _counters.SegmentsPublished++;
        }
    }

    private async Task PublishAssignmentsAsync(RobotAssignment[] assignments)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < assignments.Length && i < _assignments.Length; i++)
        {
            var next = assignments[i];
            var previous = _assignments[i];
            _assignments[i] = next;
            if (next.TaskId < 0 || (next.TaskId == previous.TaskId && next.NextErrandIndex == previous.NextErrandIndex))
            {
                continue;
            }

            var record = _pool.Find(next.TaskId);
            var assignment = new TaskAssignment
            {
                RobotId = _cycle!.RobotIdAt(i),
                TaskId = next.TaskId.ToString(CultureInfo.InvariantCulture),
                NextErrandIndex = (uint)Math.Max(0, (record?.ErrandOffset ?? 0) + next.NextErrandIndex),
                TraceId = CloudTracing.Outgoing(null, TraceOf(i)),
                AssignedUnixMs = now,
            };
            if (record is not null)
            {
                assignment.Errands.AddRange(record.Errands);
            }

            await publisher.PublishTaskAsync(SiteId, assignment);
            _counters.AssignmentsPublished++;
        }
    }

    private TaskView ViewOf(TaskRecord r)
    {
        var map = _map!;
        return new TaskView
        {
            Id = TaskIds.Format(SiteId, r.Id),
            Site = SiteId,
            Status = TaskView.StatusOf(r.State),
            ErrandIndex = r.ErrandIndex,
            Errands = r.Errands.Select(c => new ErrandView(c, map.Column(c), map.Row(c))).ToArray(),
            Robot = r.Robot,
            Priority = r.Priority,
            Reference = r.Reference,
            SubmittedAt = r.SubmittedAt,
            AssignedAt = r.AssignedAt,
            StartedAt = r.StartedAt,
            FinishedAt = r.State == TaskState.Finished ? r.EndedAt : null,
            FailedAt = r.State == TaskState.Failed ? r.EndedAt : null,
            Failure = r.Failure,
            IdempotencyKey = r.IdempotencyKey,
            SubmittedBy = r.SubmittedBy,
        };
    }

    private static bool SameDefinition(SiteDefinition a, SiteDefinition b) =>
        a.Width == b.Width && a.Height == b.Height && a.Cells.AsSpan().SequenceEqual(b.Cells) && a.Robots.SequenceEqual(b.Robots);

    private ActivityContext TraceOf(int robotIndex) => (uint)robotIndex < (uint)_confirmTraces.Length ? _confirmTraces[robotIndex] : default;

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

        var links = new List<ActivityLink>();
        for (var i = 0; i < _confirmTraces.Length && links.Count < CloudTracing.MaxRoundLinks; i++)
        {
            if (i != _roundTrigger && _confirmTraces[i] != default)
            {
                links.Add(new ActivityLink(_confirmTraces[i]));
            }
        }

        var span = CloudTracing.Source.StartActivity(CloudTracing.PlanStep, ActivityKind.Internal, TraceOf(_roundTrigger), links: links);
        span?.SetTag("wh.site", SiteId);
        span?.SetTag("wh.step", round.Step);
        span?.SetTag("wh.robots", _confirmTraces.Length);
        return span;
    }

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

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Site {SiteId} resumed at step {Step} with {OpenTasks} open tasks on silo {Silo}")]
    private static partial void LogResumed(ILogger logger, string siteId, uint step, int openTasks, string silo);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "Site {SiteId}: the step {Step} checkpoint could not be written; the step goes out anyway")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception exception, string siteId, uint step);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "Site {SiteId}: the task history could not be written; it is retried after the next step")]
    private static partial void LogHistoryFailed(ILogger logger, Exception exception, string siteId);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Error, Message = "Site {SiteId}: the checkpoint has {Saved} robots but the roster {Roster}; the cycle starts from the roster's poses")]
    private static partial void LogCheckpointMismatch(ILogger logger, string siteId, int saved, int roster);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Site {SiteId}: not every awaited robot answered within {Seconds} s after resuming")]
    private static partial void LogResyncSlow(ILogger logger, string siteId, double seconds);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "Site {SiteId}: task {TaskId} {State} (robot {Robot})")]
    private static partial void LogTaskEnded(ILogger logger, string siteId, int taskId, TaskState state, string robot);
}
