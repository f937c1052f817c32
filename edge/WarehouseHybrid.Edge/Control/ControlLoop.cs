using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Metrics;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using Heading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Control;

/// <summary>Where the cloud link drops plan messages for the control loop (applied at the start of the next tick).</summary>
public interface IPlanInbox
{
    /// <summary>A plan segment arrived.</summary>
    void Post(PlanSegment segment);

    /// <summary>A grant update arrived.</summary>
    void Post(GrantUpdate grant);

    /// <summary>A task assignment arrived.</summary>
    void Post(TaskAssignment task);
}

/// <summary>Control loop counters.</summary>
/// <param name="Ticks">Ticks run.</param>
/// <param name="Overruns">Periods missed because a tick started more than one period late.</param>
/// <param name="StepsCompleted">Plan steps completed.</param>
/// <param name="PlansRejected">Plan messages refused.</param>
/// <param name="PlansIgnored">Plan messages ignored as duplicates or stale.</param>
/// <param name="ModeChanges">Decision mode changes.</param>
/// <param name="Lateness">How late ticks started against the fixed schedule.</param>
/// <param name="Work">Time spent inside a tick.</param>
public readonly record struct ControlLoopCounters(
    long Ticks, long Overruns, long StepsCompleted, long PlansRejected, long PlansIgnored, long ModeChanges,
    TimingSummary Lateness, TimingSummary Work);

/// <summary>What the control loop does besides driving: audit, metrics, site sensor staleness (all optional).</summary>
public sealed record ControlLoopExtras
{
    /// <summary>Where mode changes, plan rejections and sampled decisions are audited.</summary>
    public IAuditSink Audit { get; init; } = NullAuditSink.Instance;

    /// <summary>Audit one decision every this many ticks (besides every mode change); 0: none.</summary>
    public int DecisionAuditEveryTicks { get; init; }

    /// <summary>Tick and lateness histograms (null: none).</summary>
    public EdgeMetrics? Metrics { get; init; }

    /// <summary>How long a lost site sensor connection may stay lost before its facts count as stale.</summary>
    public TimeSpan SiteStaleAfter { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Ticks after start that the allocation counter ignores (JIT and first-use allocations).</summary>
    public int AllocationWarmupTicks { get; init; } = 100;
}

/// <summary>
/// The fixed-rate control loop. Each tick: drain plan messages, read the sensor snapshot, dead-reckon, advance
/// the plan, ask the policy, let the shield decide, hand the motor command to the board link, hand the state to
/// telemetry. Runs on a dedicated thread paced by the <see cref="TimeProvider"/>'s timer (so
/// <c>FakeTimeProvider</c> drives it); <see cref="Tick"/> runs one iteration synchronously for tests.
/// <see cref="RequestImmediateTick"/> (the serial reader, on a frame that demands a brake) runs an extra tick at once
/// so a brake never waits for the tick phase. Every mode or reason change is an event and an audit record with the
/// decision's input digest and output; one decision in <see cref="ControlLoopExtras.DecisionAuditEveryTicks"/> is
/// sampled into the audit. A tick allocates nothing unless something changes (a plan arrives, the mode changes);
/// the control thread's allocations after warm-up are counted (<see cref="AllocatedBytes"/>).
/// </summary>
public sealed partial class ControlLoop : IPlanInbox, IDisposable
{
    private readonly SensorSnapshotStore _sensors;
    private readonly SensorFreshness _freshness;
    private readonly DeadReckoning _localization;
    private readonly PlanExecutor _plan;
    private readonly IDrivingPolicy _policy;
    private readonly IDrivingPolicy _fallback;
    private readonly SafetyShield _shield;
    private readonly IMotorCommandSink _motors;
    private readonly ITelemetrySink _telemetry;
    private readonly IRobotEventSink _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GridMap _map;
    private readonly GridGeometry _geometry;
    private readonly TimeSpan _period;
    private readonly long _periodTimestampTicks;
    private readonly double _dt;
    private readonly ConcurrentQueue<object> _inbox = new();
    private readonly LatencyHistogram _lateness = new();
    private readonly LatencyHistogram _work = new();
    private readonly Lock _sampleGate = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly KinematicLimits _limits;
    private readonly IAuditSink _audit;
    private readonly EdgeMetrics? _metrics;
    private readonly SiteFreshness _siteFreshness;
    private readonly int _auditEvery;
    private readonly int _allocationWarmup;
    private readonly long[] _reasonTicks = new long[32];
    private readonly long[] _reasonEpisodes = new long[32];
    private ControlSample _sample;
    private DriveCommand _previous;
    private DecisionMode _mode = DecisionMode.Unknown;
    private DecisionReason _reason = DecisionReason.RulePolicy;
    private double _lastHeading;
    private uint _lastBoardTimeMs;
    private ulong _lastFrameCount;
    private double _measuredAngular;
    private string _taskId = string.Empty;
    private string _countedModel = string.Empty;
    private ulong _modelLearnedTicks;
    private ulong _modelFallbackTicks;
    private long _ticks;
    private long _overruns;
    private long _stepsCompleted;
    private long _plansRejected;
    private long _plansIgnored;
    private long _modeChanges;
    private long _nextDue;
    private long _immediateTicks;
    private long _allocatedBytes;
    private long _allocatingTicks;
    private int _immediateRequested;
    private Thread? _thread;
    private ITimer? _timer;
    private volatile bool _stopping;

    /// <summary>Wires a loop; nothing runs until <see cref="Start"/> or <see cref="Tick"/>.</summary>
    public ControlLoop(
        ControlLoopSettings settings,
        SensorSnapshotStore sensors,
        PlanExecutor plan,
        IDrivingPolicy policy,
        SafetyShield shield,
        IMotorCommandSink motors,
        ITelemetrySink telemetry,
        IRobotEventSink events,
        TimeProvider time,
        ILogger logger,
        ControlLoopExtras? extras = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        extras ??= new ControlLoopExtras();
        _sensors = sensors;
        _plan = plan;
        _policy = policy;
        _fallback = policy as RulePolicy ?? new RulePolicy(settings.Limits);
        _shield = shield;
        _motors = motors;
        _telemetry = telemetry;
        _events = events;
        _time = time;
        _logger = logger;
        _map = settings.Map;
        _geometry = settings.Geometry;
        _period = settings.Period;
        _dt = _period.TotalSeconds;
        _periodTimestampTicks = (long)(_period.TotalSeconds * time.TimestampFrequency);
        _freshness = new SensorFreshness(time, settings.SensorStaleAfter);
        _siteFreshness = new SiteFreshness(time, extras.SiteStaleAfter);
        _limits = settings.Limits;
        _audit = extras.Audit;
        _metrics = extras.Metrics;
        _auditEvery = Math.Max(0, extras.DecisionAuditEveryTicks);
        _allocationWarmup = Math.Max(0, extras.AllocationWarmupTicks);
        _localization = new DeadReckoning();
        _sample.PlanId = string.Empty;
        _sample.TraceId = string.Empty;
        _sample.ModelVersion = string.Empty;
        _sample.TaskId = string.Empty;
        if (settings.StartPose is { } start)
        {
            _plan.SetInitialPose(start);
            var (x, y) = _geometry.CellCentre(_map, start.Cell);
            _localization.AnchorAt(x, y);
        }
    }

    /// <summary>The control period.</summary>
    public TimeSpan Period => _period;

    /// <summary>Whether the dedicated thread is running.</summary>
    public bool IsRunning => _thread is { IsAlive: true };

    /// <summary>Copies out the state after the latest tick.</summary>
    public ControlSample Latest
    {
        get
        {
            lock (_sampleGate)
            {
                return _sample;
            }
        }
    }

    /// <summary>Counters and timing.</summary>
    public ControlLoopCounters Counters => new(
        Interlocked.Read(ref _ticks), Interlocked.Read(ref _overruns), Interlocked.Read(ref _stepsCompleted),
        Interlocked.Read(ref _plansRejected), Interlocked.Read(ref _plansIgnored), Interlocked.Read(ref _modeChanges),
        _lateness.Summary(), _work.Summary());

    /// <summary>Extra ticks run at once on <see cref="RequestImmediateTick"/>.</summary>
    public long ImmediateTicks => Interlocked.Read(ref _immediateTicks);

    /// <summary>Bytes the control thread allocated inside ticks after the warm-up ticks (0 in steady state).</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>Ticks after warm-up that allocated anything (a plan arrived, the mode changed).</summary>
    public long AllocatingTicks => Interlocked.Read(ref _allocatingTicks);

    /// <summary>The latest decision mode.</summary>
    public DecisionMode Mode => _mode;

    /// <summary>Ticks whose command was decided with <paramref name="reason"/> (fallbacks, shield overrides, learned ticks).</summary>
    public long ReasonTicks(DecisionReason reason) => (int)reason < _reasonTicks.Length ? Interlocked.Read(ref _reasonTicks[(int)reason]) : 0;

    /// <summary>How often the loop entered <paramref name="reason"/> (episodes: each mode or reason change counts once).</summary>
    public long ReasonEpisodes(DecisionReason reason) => (int)reason < _reasonEpisodes.Length ? Interlocked.Read(ref _reasonEpisodes[(int)reason]) : 0;

    /// <summary>
    /// Asks the control thread for a tick now, out of the fixed schedule (the serial reader calls it when a frame
    /// demands a brake). Never blocks; the schedule of the regular ticks is unchanged.
    /// </summary>
    public void RequestImmediateTick()
    {
        if (Interlocked.Exchange(ref _immediateRequested, 1) == 0)
        {
            _wake.Set();
        }
    }

    /// <inheritdoc />
    public void Post(PlanSegment segment) => _inbox.Enqueue(segment);

    /// <inheritdoc />
    public void Post(GrantUpdate grant) => _inbox.Enqueue(grant);

    /// <inheritdoc />
    public void Post(TaskAssignment task) => _inbox.Enqueue(task);

    /// <summary>Starts the dedicated loop thread paced by the time provider's timer.</summary>
    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("the control loop is already started");
        }

        _stopping = false;
        _nextDue = _time.GetTimestamp() + _periodTimestampTicks;
        _thread = new Thread(Run) { IsBackground = true, Name = "edge-control", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
        _timer = _time.CreateTimer(static s => ((AutoResetEvent)s!).Set(), _wake, _period, _period);
    }

    /// <summary>Stops the thread (joined within <paramref name="timeout"/>) and sends a brake command. False when the thread did not end in time.</summary>
    public bool Stop(TimeSpan timeout)
    {
        _stopping = true;
        _timer?.Dispose();
        _timer = null;
        _wake.Set();
        var joined = _thread is null || _thread.Join(timeout);
        _thread = null;
        var brake = _shield.BrakeCommand();
        _motors.Submit(brake);
        SetMode(DecisionMode.ShieldStop, DecisionReason.Shutdown);
        _audit.TryAppend(new AuditEntry
        {
            Kind = AuditKinds.ModeChange,
            UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
            TraceId = _plan.TraceId,
            ModelVersion = _policy.ModelVersion,
            Reason = DecisionReason.Shutdown.ToText(),
            HasDecision = true,
            Decision = new AuditDecision(DecisionMode.ShieldStop, DecisionReason.Shutdown, 0, 0, true, float.NaN),
        });
        return joined;
    }

    /// <summary>Runs one iteration now, on the caller's thread. Not to be mixed with a running <see cref="Start"/> thread.</summary>
    public void Tick()
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var start = _time.GetTimestamp();
        DrainInbox();

        _sensors.Read(out var snapshot);
        var stale = _freshness.IsStale(snapshot, start);
        var siteStale = _siteFreshness.IsStale(snapshot, start);
        _localization.Update(snapshot);
        UpdateMeasuredAngular(snapshot);
        var measuredLinear = snapshot.LinearMps;

        if (_plan.HasPose && !_localization.IsLocalized)
        {
            var (x, y) = _geometry.CellCentre(_map, _plan.DiscretePose.Cell);
            _localization.AnchorAt(x, y);
            _localization.Update(snapshot);
        }

        var completed = false;
        var pose = _localization.Pose;
        if (_localization.IsLocalized && !stale && _plan.Advance(pose, measuredLinear, _measuredAngular, out var step))
        {
            completed = true;
            _stepsCompleted++;
            LogStepCompleted(_logger, step, _plan.DiscretePose.Cell, _plan.DiscretePose.Heading);
        }

        var target = _localization.IsLocalized ? _plan.CurrentTarget : default;
        var input = new PolicyInput(pose, target, snapshot, measuredLinear, _measuredAngular, _previous, _dt);
        var proposingMode = _policy.Mode;
        var proposingReason = DecisionReason.RulePolicy;
        if (_policy.TryDecide(input, out var proposal))
        {
            // Read after deciding: a runtime-assurance policy reports which of its parts acted and why.
            proposingMode = _policy.Mode;
            proposingReason = _policy.Reason;
        }
        else
        {
            _fallback.TryDecide(input, out proposal);
            proposingMode = _fallback.Mode;
        }

        var verdict = _shield.Evaluate(proposal, proposingMode, snapshot, stale, siteStale);
        if (verdict.Mode != DecisionMode.ShieldStop)
        {
            verdict = verdict with { Reason = proposingReason };
        }

        _motors.Submit(verdict.Command, snapshot.FrameCount);
        _previous = new DriveCommand(verdict.Command.LinearMps, verdict.Command.AngularRadps);
        var ticks = Interlocked.Increment(ref _ticks);
        if ((int)verdict.Reason < _reasonTicks.Length)
        {
            Interlocked.Increment(ref _reasonTicks[(int)verdict.Reason]);
        }

        CountModelTicks(verdict.Mode);
        if (verdict.Mode != _mode || verdict.Reason != _reason)
        {
            SetMode(verdict.Mode, verdict.Reason);
            Audit(AuditKinds.ModeChange, input, verdict);
        }
        else if (_auditEvery > 0 && ticks % _auditEvery == 0)
        {
            Audit(AuditKinds.Decision, input, verdict);
        }

        lock (_sampleGate)
        {
            _sample.Tick = ticks;
            _sample.Timestamp = start;
            _sample.Localized = _localization.IsLocalized;
            _sample.Pose = pose;
            _sample.HasDiscretePose = _plan.HasPose;
            _sample.DiscretePose = _plan.DiscretePose;
            _sample.LastCompletedStep = _plan.LastCompletedStep;
            _sample.GrantedThroughStep = _plan.GrantedThroughStep;
            _sample.HasPlan = _plan.HasPlan;
            _sample.PlanId = _plan.PlanId;
            _sample.PlanRevision = _plan.Revision;
            _sample.TraceId = _plan.TraceId;
            _sample.ModelVersion = _policy.ModelVersion;
            _sample.Mode = verdict.Mode;
            _sample.Reason = verdict.Reason;
            _sample.Activity = Activity(verdict, snapshot);
            _sample.Command = _previous;
            _sample.Braking = (verdict.Command.Flags & Contracts.Serial.MotorFlags.Brake) != 0;
            _sample.BatteryFraction = snapshot.HasFrame ? snapshot.Frame.BatteryPercent / 100f : 0f;
            _sample.MinRangeMetres = snapshot.HasFrame ? RangeGeometry.MinRange(snapshot.Frame.Ranges) : double.PositiveInfinity;
            _sample.SensorsStale = stale;
            _sample.SiteStale = siteStale;
            _sample.TaskId = _taskId;
            _sample.ModelLearnedTicks = _modelLearnedTicks;
            _sample.ModelFallbackTicks = _modelFallbackTicks;
        }

        _telemetry.Offer(_sample, completed);
        var work = _time.GetElapsedTime(start);
        _work.Record(work);
        _metrics?.RecordTickWork(work);
        if (ticks > _allocationWarmup)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            if (allocated > 0)
            {
                Interlocked.Add(ref _allocatedBytes, allocated);
                Interlocked.Increment(ref _allocatingTicks);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_thread is not null)
        {
            Stop(TimeSpan.FromSeconds(1));
        }

        _timer?.Dispose();
        _wake.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            _wake.WaitOne();
            if (_stopping)
            {
                return;
            }

            if (Interlocked.Exchange(ref _immediateRequested, 0) != 0)
            {
                // Out of schedule (a frame demanded a brake): tick now, leave the fixed schedule as it is.
                Interlocked.Increment(ref _immediateTicks);
                TickGuarded();
                if (_time.GetTimestamp() < _nextDue)
                {
                    continue;
                }
            }

            var now = _time.GetTimestamp();
            var late = now - _nextDue;
            if (late >= 0)
            {
                var lateness = _time.GetElapsedTime(_nextDue, now);
                _lateness.Record(lateness);
                _metrics?.RecordTickLateness(lateness);
                var missed = late / _periodTimestampTicks;
                _overruns += missed;
                _nextDue += (missed + 1) * _periodTimestampTicks;
            }
            else if (-late < _periodTimestampTicks / 4)
            {
                // Woken a hair early (timer granularity): on time.
                _lateness.Record(TimeSpan.Zero);
                _metrics?.RecordTickLateness(TimeSpan.Zero);
                _nextDue += _periodTimestampTicks;
            }
            else
            {
                // A timer signal already covered by a late tick (coalesced): not a tick of its own.
                continue;
            }

            TickGuarded();
        }
    }

    private void TickGuarded()
    {
        try
        {
            Tick();
        }
        catch (Exception ex)
        {
            // A bug in one tick must not leave the motors running on the last command.
            LogTickFailed(_logger, ex);
            _motors.Submit(_shield.BrakeCommand());
        }
    }

    private void Audit(string kind, in PolicyInput input, in ShieldVerdict verdict)
    {
        var entry = new AuditEntry
        {
            Kind = kind,
            UnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
            TraceId = _plan.TraceId,
            ModelVersion = _policy.ModelVersion,
            Reason = verdict.Reason.ToText(),
            HasInput = true,
            Input = Sha256Digest.OfFeatures(input, _limits),
            HasDecision = true,
            Decision = new AuditDecision(
                verdict.Mode, verdict.Reason, verdict.Command.LinearMps, verdict.Command.AngularRadps,
                (verdict.Command.Flags & Contracts.Serial.MotorFlags.Brake) != 0,
                verdict.Mode == DecisionMode.Learned || verdict.Reason is DecisionReason.Escalating or DecisionReason.LowConfidence or DecisionReason.CloudAdvice ? _policy.Confidence : float.NaN),
        };
        _audit.TryAppend(entry);
    }

    // Per-model tick counters (Telemetry.model_health): a new model (another manifest, even of the same version) starts
    // from zero. Reference comparison: the version string is the manifest's own, so no per-tick string compare.
    private void CountModelTicks(DecisionMode mode)
    {
        var model = _policy.ModelVersion;
        if (!ReferenceEquals(model, _countedModel))
        {
            _countedModel = model;
            _modelLearnedTicks = 0;
            _modelFallbackTicks = 0;
        }

        if (model.Length == 0)
        {
            return;
        }

        if (mode == DecisionMode.Learned)
        {
            _modelLearnedTicks++;
        }
        else if (mode is DecisionMode.Rule or DecisionMode.ShieldStop)
        {
            _modelFallbackTicks++;
        }
    }

    private void DrainInbox()
    {
        while (_inbox.TryDequeue(out var message))
        {
            PlanApplyResult result;
            string trace;
            switch (message)
            {
                case PlanSegment segment:
                    result = _plan.Apply(segment);
                    trace = segment.TraceId;
                    LogPlanSegment(_logger, segment.PlanId, segment.Revision, segment.FirstStep, segment.Steps.Count, result.Outcome, result.Reason);
                    break;
                case GrantUpdate grant:
                    result = _plan.Apply(grant);
                    trace = grant.TraceId;
                    break;
                case TaskAssignment task:
                    _taskId = task.TaskId;
                    LogTask(_logger, task.TaskId, task.Errands.Count);
                    continue;
                default:
                    continue;
            }

            if (result.Outcome == PlanApplyOutcome.Rejected)
            {
                _plansRejected++;
                var now = _time.GetUtcNow();
                _events.Offer(new RobotEventRecord("plan-rejected", result.Reason, now, trace));
                _audit.TryAppend(new AuditEntry { Kind = "plan-rejected", UnixMs = now.ToUnixTimeMilliseconds(), TraceId = trace, ModelVersion = _policy.ModelVersion, Reason = "plan-rejected", Detail = result.Reason });
            }
            else if (result.Outcome == PlanApplyOutcome.Ignored)
            {
                _plansIgnored++;
            }
        }
    }

    private void UpdateMeasuredAngular(in SensorSnapshot snapshot)
    {
        if (!snapshot.HasFrame || snapshot.FrameCount == _lastFrameCount)
        {
            return;
        }

        var heading = snapshot.Frame.HeadingRad;
        if (_lastFrameCount > 0)
        {
            var dt = unchecked(snapshot.Frame.BoardTimeMs - _lastBoardTimeMs) / 1000.0;
            if (dt > 0 && dt < 1.0)
            {
                _measuredAngular = GridGeometry.AngleDifference(_lastHeading, heading) / dt;
            }
        }

        _lastHeading = heading;
        _lastBoardTimeMs = snapshot.Frame.BoardTimeMs;
        _lastFrameCount = snapshot.FrameCount;
    }

    private RobotActivity Activity(in ShieldVerdict verdict, in SensorSnapshot snapshot)
    {
        switch (verdict.Reason)
        {
            case DecisionReason.EmergencyStop:
                return RobotActivity.EmergencyStop;
            case DecisionReason.BoardFault:
                return RobotActivity.Fault;
        }

        // The shield stopping the robot; a shield that only slows it (obstacle ahead, zone limit) leaves it executing.
        if (verdict.Mode == DecisionMode.ShieldStop && (verdict.Command.LinearMps == 0 || (verdict.Command.Flags & Contracts.Serial.MotorFlags.Brake) != 0))
        {
            return RobotActivity.Stopped;
        }

        return _plan.State switch
        {
            ExecutorState.Executing => RobotActivity.Executing,
            ExecutorState.WaitingGrant => RobotActivity.WaitingGrant,
            ExecutorState.Idle => RobotActivity.Idle,
            _ => snapshot.HasFrame ? RobotActivity.Idle : RobotActivity.Unknown,
        };
    }

    private void SetMode(DecisionMode mode, DecisionReason reason)
    {
        var from = _mode;
        _mode = mode;
        _reason = reason;
        Interlocked.Increment(ref _modeChanges);
        if ((int)reason < _reasonEpisodes.Length)
        {
            Interlocked.Increment(ref _reasonEpisodes[(int)reason]);
        }

        LogModeChange(_logger, from, mode, reason.ToText());
        _events.Offer(new RobotEventRecord("mode-change", $"{from}->{mode}: {reason.ToText()}", _time.GetUtcNow(), _plan.TraceId));
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Decision mode {From} -> {To} ({Reason})")]
    private static partial void LogModeChange(ILogger logger, DecisionMode from, DecisionMode to, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Step {Step} completed at cell {Cell} facing {Heading}")]
    private static partial void LogStepCompleted(ILogger logger, uint step, int cell, Heading heading);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Plan '{PlanId}' revision {Revision} from step {FirstStep} ({Count} steps): {Outcome} {Reason}")]
    private static partial void LogPlanSegment(ILogger logger, string planId, ulong revision, uint firstStep, int count, PlanApplyOutcome outcome, string reason);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Task '{TaskId}' assigned with {Errands} errands")]
    private static partial void LogTask(ILogger logger, string taskId, int errands);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "Control tick failed; braking")]
    private static partial void LogTickFailed(ILogger logger, Exception ex);
}

/// <summary>Settings of the control loop, derived from <see cref="Runtime.EdgeOptions"/>.</summary>
/// <param name="Period">Control period.</param>
/// <param name="SensorStaleAfter">Sensor timeout.</param>
/// <param name="Map">The map (for cell coordinates).</param>
/// <param name="Geometry">Cell size.</param>
/// <param name="Limits">Kinematic limits.</param>
/// <param name="StartPose">The discrete pose known at boot, if any.</param>
public sealed record ControlLoopSettings(
    TimeSpan Period, TimeSpan SensorStaleAfter, GridMap Map, GridGeometry Geometry, KinematicLimits Limits, Domain.Actions.RobotPose? StartPose);
