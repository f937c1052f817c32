using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Lorr;
using WarehouseHybrid.Domain.Validation;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>Progress of a running bench, reported now and then.</summary>
/// <param name="Step">Steps (2026: ticks) simulated so far.</param>
/// <param name="Steps">The horizon.</param>
/// <param name="TasksFinished">Tasks (2023: errands) finished so far.</param>
/// <param name="PlanMsP50">Median planning time so far.</param>
/// <param name="PlanMsMax">Longest planning time so far.</param>
public readonly record struct LorrProgress(int Step, int Steps, int TasksFinished, double PlanMsP50, double PlanMsMax);

/// <summary>
/// The LoRR simulation, faithful to the Start-Kit of the instance's generation (pure core: no I/O;
/// time comes from the given <see cref="TimeProvider"/>).
/// <para>2024 (Start-Kit v2.1.2): robots start on the first teamSize agent cells facing east;
/// <c>floor(numTasksReveal x teamSize)</c> tasks are kept open, revealed in file order (wrapping);
/// each planning call runs on a worker; every full budget that passes before it returns is one
/// all-wait step (entry timeout, 'T'); its actions are then checked (an invalid step: everyone
/// waits, one error recorded); after the move the proposed schedule is validated and applied, each
/// robot on its task's next errand advances it by one, and finished tasks are replaced.</para>
/// <para>2023 (v1.1.5, roundrobin): robot k gets file entries k, k+n, ... as single-errand tasks,
/// <c>numTasksReveal</c> (integer) at a time; throughput counts errands.</para>
/// <para>2026 (experimental): see <see cref="Approximations2026"/>.</para>
/// </summary>
public sealed class LorrBench
{
    /// <summary>What the 2026 mode approximates (also written to stdout and the run record).</summary>
    public static readonly string[] Approximations2026 =
    [
        "2026 mode: ticks of 100 ms (actionMoveTimeLimit); the planner is called every --plan-ms (planCommTimeLimit, also the initial plan's limit) and is run before the ticks of its period rather than beside them: its plan reaches the executor at the same tick, a late one after its overrun rounded up to ticks; preprocessing is untimed and executorProcessPlanTimeLimit is not enforced",
        "the entry's executor is the project's grant executor (temporal plan graph: cells entered in plan order, nothing staged is dropped), not the Start-Kit's default executor",
        "robots are unit squares (agentSize 1) checked for overlap at the end of each tick; the Start-Kit sweeps them through the tick and resolves blocked motions recursively",
        "delay draws use MT19937 with the config's seed; Poisson counts and the Poisson robot shuffle are not bit-identical to libstdc++",
    ];

    private readonly LorrInstance _instance;
    private readonly TimeProvider _time;
    private readonly PlanValidator _validator;

    /// <summary>Creates a bench for one instance.</summary>
    public LorrBench(LorrInstance instance, TimeProvider? timeProvider = null)
    {
        _instance = instance ?? throw new ArgumentNullException(nameof(instance));
        _time = timeProvider ?? TimeProvider.System;
        _validator = new PlanValidator(instance.Map);
    }

    /// <summary>Called every <see cref="ProgressEvery"/> steps.</summary>
    public Action<LorrProgress>? Progress { get; init; }

    /// <summary>Progress period in steps (default 100).</summary>
    public int ProgressEvery { get; init; } = 100;

    /// <summary>Called when a planning call ran past its budget: the step, its time and the entrant's diagnostics.</summary>
    public Action<int, TimeSpan, string?>? Overrun { get; init; }

    /// <summary>2026: length of one execution tick in ms (the Start-Kit's <c>actionMoveTimeLimit</c>, default 100).</summary>
    public int TickMs { get; init; } = 100;

    /// <summary>K of the idle report: robots holding a task on one cell for more than this many steps (default 50).</summary>
    public int IdleLimit { get; init; } = 50;

    /// <summary>Runs <paramref name="steps"/> steps (2026: ticks) with <paramref name="entrant"/>.</summary>
    public async Task<LorrRunRecord> RunAsync(ILorrEntrant entrant, int steps, TimeSpan planBudget, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entrant);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        if (planBudget <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(planBudget), planBudget, "the planning budget must be positive");
        }

        var record = new LorrRunRecord(_instance, steps, planBudget) { Idle = new LorrIdleTracker(_instance.TeamSize, IdleLimit) };
        entrant.Initialize(); // the Start-Kit's preprocessing: before tasks are revealed, not timed as planning
        var run = new Run(this, entrant, record, cancellationToken);
        switch (_instance.Generation)
        {
            case LorrGeneration.Lorr2023:
                await run.Run2023().ConfigureAwait(false);
                break;
            case LorrGeneration.Lorr2026:
                record.AgentCounter = _instance.AgentCounter;
                record.Approximations.AddRange(Approximations2026);
                await run.Run2026().ConfigureAwait(false);
                break;
            default:
                await run.Run2024().ConfigureAwait(false);
                break;
        }

        return record;
    }

    /// <summary>One run's mutable state.</summary>
    private sealed class Run(LorrBench bench, ILorrEntrant entrant, LorrRunRecord record, CancellationToken ct)
    {
        private readonly LorrInstance _inst = bench._instance;
        private readonly int _n = bench._instance.TeamSize;
        private readonly List<Conflict> _conflicts = new();
        private RobotPose[] _poses = bench._instance.CreateStartPoses();
        private int _nextProgress = bench.ProgressEvery;

        // 2024 task state.
        private readonly Dictionary<int, (int FileIndex, int Next, int Agent)> _ongoing = new();
        private int[] _assignment = [];
        private int _nextTaskId;
        private readonly List<int> _finishedSince = new(); // 2026: finished since the last planning call

        public async Task Run2024()
        {
            var steps = record.Steps;
            _assignment = Enumerable.Repeat(-1, _n).ToArray();
            var revealTarget = (int)(float)(_inst.NumTasksReveal * _n); // Start-Kit: int = float x int
            Reveal2024(0, revealTarget);
            var proposedSchedule = (int[])_assignment.Clone();
            var t = 0;
            while (t < steps)
            {
                var obs = new LorrObservation(t, (RobotPose[])_poses.Clone(), null);
                var (decision, elapsed, timeouts) = await Plan(obs, steps - t).ConfigureAwait(false);
                for (var k = 0; k < timeouts; k++)
                {
                    record.PlannerTape.AppendAll(TapeCodes.Timeout);
                    record.ActualTape.AppendAll(TapeCodes.Timeout);
                    CountCosts(proposedSchedule, 1);
                    ObserveIdle(_assignment);
                    t++;
                }

                record.NumEntryTimeouts += timeouts;
                record.PlannerTimes.Add(elapsed.TotalSeconds);
                if (t >= steps)
                {
                    break;
                }

                RobotAction[] actions;
                if (decision is null)
                {
                    actions = new RobotAction[_n];
                    Array.Fill(actions, RobotAction.Wait);
                }
                else
                {
                    actions = decision.Actions;
                    if (decision.Schedule is { } s)
                    {
                        proposedSchedule = s;
                    }
                }

                CountCosts(proposedSchedule, 1);
                record.PlannerTape.Append(actions);
                t++;
                Move(actions, t);
                ObserveIdle(_assignment);
                UpdateTasks2024(proposedSchedule, t, revealTarget);
                ReportProgress(t);
            }
        }

        // 2026 (Start-Kit v3.1.0 two-rate loop): the planner is called every callTicks execution ticks
        // from the executor's predicted poses and its plan is staged when the next call starts; in
        // between, every tick the executor grants staged actions, delays hold robots, and the tick
        // model advances them (an action takes agentCounter ticks). Tasks are checked every tick.
        public async Task Run2026()
        {
            var c = _inst.AgentCounter;
            var ticks = record.Steps;
            var tickMs = bench.TickMs;
            var budgetMs = record.PlanBudget.TotalMilliseconds;
            var callTicks = Math.Max(1, (int)(budgetMs / tickMs));
            var window = (int)(budgetMs / (tickMs * c)) + 1;
            _assignment = Enumerable.Repeat(-1, _n).ToArray();
            var revealTarget = (int)(float)(_inst.NumTasksReveal * _n);
            var delays = _inst.DelayConfig is { } dc ? new LorrDelayGenerator(dc, _n) : null;
            var model = new LorrTickModel(_inst.Map, _poses, c);
            var executor = new LorrTpgExecutor(_inst.Map, _poses);
            var requested = new RobotAction[_n];
            var executed = new RobotAction[_n];
            var refused = new List<(int Robot, int Other)>();
            var delayed = new bool[_n];
            var granted = new bool[_n];
            var account = record.TickAccount = new LorrTickAccount();
            var proposed = (int[])_assignment.Clone();
            Reveal2024(0, revealTarget);

            LorrObservation Snapshot(int tick)
            {
                var finished = _finishedSince.ToArray();
                _finishedSince.Clear();
                return new(tick, (RobotPose[])_poses.Clone(), null)
                {
                    Execution = new LorrExecutionState(
                        (RobotPose[])executor.Predicted.Clone(),
                        Enumerable.Range(0, _n).Select(executor.Backlog).ToArray(),
                        (int[])_assignment.Clone(),
                        window)
                    {
                        FinishedSinceLastCall = finished,
                        OpenTasks = _ongoing.Keys.ToArray(),
                        ActionProgress = (int[])model.Progress.Clone(),
                        TicksPerAction = c,
                        TicksUntilApplied = callTicks,
                    },
                };
            }

            void Tick(int tick)
            {
                executor.Commands(model.Poses, model.Busy, model.Progress, c, requested);
                delays?.NextTick();
                for (var i = 0; i < _n; i++)
                {
                    delayed[i] = delays is not null && delays.InDelay(i);
                    granted[i] = requested[i] != RobotAction.Wait;
                    if (delayed[i])
                    {
                        requested[i] = RobotAction.Wait;
                    }
                }

                record.PlannerTape.Append(requested);
                var before = (RobotPose[])model.Poses.Clone();
                refused.Clear();
                model.Step(requested, executed, refused);
                record.ActualTape.Append(executed);
                foreach (var (robot, other) in refused)
                {
                    record.NumPlannerErrors++;
                    record.Errors.Add(new LorrError(robot, other, tick + 1, other < 0 ? "requested motion is invalid (boundary or hard obstacle)" : $"requested motion blocked by agent {other}"));
                }

                Account(executed, refused, executor);
                executor.Completed(before, model.Poses);
                _poses = (RobotPose[])model.Poses.Clone();
                CountCosts(proposed, 1);
                if ((tick + 1) % c == 0)
                {
                    ObserveIdle(_assignment);
                }

                CheckErrands(tick + 1);
                Reveal2024(tick + 1, revealTarget);
                ReportProgress(tick + 1);
            }

            // Where each robot's tick went, before the executor drops completed actions.
            void Account(RobotAction[] executed, List<(int Robot, int Other)> refused, LorrTpgExecutor executor)
            {
                foreach (var _ in refused)
                {
                    account.Add(LorrTickUse.Refused);
                }

                for (var i = 0; i < _n; i++)
                {
                    if (executed[i] != RobotAction.Wait)
                    {
                        account.Add(LorrTickUse.Acting);
                    }
                    else if (delayed[i])
                    {
                        account.Add(LorrTickUse.Delayed);
                    }
                    else if (executor.Backlog(i) > 0)
                    {
                        // A refused robot was granted its move (counted as refused above).
                        if (!granted[i])
                        {
                            account.Add(LorrTickUse.AwaitingGrant);
                        }
                    }
                    else
                    {
                        account.Add(_assignment[i] >= 0 ? LorrTickUse.NoPlanWithTask : LorrTickUse.NoPlanNoTask);
                    }
                }
            }

            // The initial plan: ticks pass (everyone waiting) only while it runs over its budget.
            var tick = 0;
            var (pending, elapsed, _) = await Plan(Snapshot(0), Math.Max(1, ticks / callTicks)).ConfigureAwait(false);
            record.PlannerTimes.Add(elapsed.TotalSeconds);
            if (elapsed.TotalMilliseconds > budgetMs)
            {
                record.NumEntryTimeouts++;
            }

            for (var late = (int)Math.Ceiling((elapsed.TotalMilliseconds - budgetMs) / tickMs); late > 0 && tick < ticks; late--)
            {
                Tick(tick++);
            }

            while (tick < ticks)
            {
                if (pending is not null)
                {
                    if (pending.Schedule is { } schedule)
                    {
                        proposed = schedule;
                    }

                    SetAssignment(proposed, tick);
                    executor.Stage(pending.Plan ?? pending.Actions.Select(a => (IReadOnlyList<RobotAction>)[a]).ToArray());
                }

                (pending, elapsed, _) = await Plan(Snapshot(tick), Math.Max(1, (ticks - tick) / callTicks)).ConfigureAwait(false);
                record.PlannerTimes.Add(elapsed.TotalSeconds);
                var run = callTicks;
                if (elapsed.TotalMilliseconds > budgetMs)
                {
                    // Late: the executor keeps going on what it has until the plan arrives.
                    record.NumEntryTimeouts++;
                    run = Math.Max(callTicks, (int)Math.Ceiling(elapsed.TotalMilliseconds / tickMs));
                }

                for (var k = 0; k < run && tick < ticks; k++)
                {
                    Tick(tick++);
                }
            }

            record.DelayIntervals = delays?.Intervals;
        }

        public async Task Run2023()
        {
            var steps = record.Steps;
            var reveal = Math.Max(1, (int)_inst.NumTasksReveal);
            var queues = new Queue<(int Id, int Cell)>[_n];
            var counters = new int[_n];
            for (var k = 0; k < _n; k++)
            {
                queues[k] = new Queue<(int, int)>();
            }

            void Refill(int time)
            {
                for (var k = 0; k < _n; k++)
                {
                    while (queues[k].Count < reveal)
                    {
                        var fileIndex = (int)(((long)counters[k] * _n + k) % _inst.Tasks.Count);
                        var id = _nextTaskId++;
                        queues[k].Enqueue((id, _inst.Tasks[fileIndex][0]));
                        record.Tasks.Add(new LorrRevealedTask(id, time, fileIndex, k));
                        record.Events.Add(new LorrEvent(time, k, id, 0));
                        counters[k]++;
                    }
                }
            }

            Refill(0);
            var t = 0;
            while (t < steps)
            {
                var goals = new IReadOnlyList<int>[_n];
                for (var k = 0; k < _n; k++)
                {
                    goals[k] = queues[k].Select(q => q.Cell).ToArray();
                }

                var obs = new LorrObservation(t, (RobotPose[])_poses.Clone(), goals);
                var (decision, elapsed, timeouts) = await Plan(obs, steps - t).ConfigureAwait(false);
                for (var k = 0; k < timeouts; k++)
                {
                    // 2023 Start-Kit: a late planner yields no actions: planner 'T', "incorrect vector size", everyone waits.
                    t++;
                    record.PlannerTape.AppendAll(TapeCodes.Timeout);
                    record.ActualTape.AppendAll((byte)RobotAction.Wait);
                    record.Errors.Add(new LorrError(-1, -1, t, "incorrect vector size"));
                    CountAllCosts();
                    ObserveIdle(null);
                }

                record.NumEntryTimeouts += timeouts;
                record.PlannerTimes.Add(elapsed.TotalSeconds);
                if (t >= steps)
                {
                    break;
                }

                var actions = decision?.Actions ?? Enumerable.Repeat(RobotAction.Wait, _n).ToArray();
                t++;
                CountAllCosts();
                record.PlannerTape.Append(actions);
                Move(actions, t);
                ObserveIdle(null);
                for (var k = 0; k < _n; k++)
                {
                    if (queues[k].Count > 0 && queues[k].Peek().Cell == _poses[k].Cell)
                    {
                        var (id, _) = queues[k].Dequeue();
                        record.Events.Add(new LorrEvent(t, k, id, 1));
                        record.NumTaskFinished++;
                    }
                }

                Refill(t);
                ReportProgress(t);
            }
        }

        private async Task<(LorrDecision? Decision, TimeSpan Elapsed, int Timeouts)> Plan(LorrObservation obs, int stepsLeft)
        {
            var budget = record.PlanBudget;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var start = bench._time.GetTimestamp();
            var work = Task.Run(() => entrant.Compute(obs, budget, cts.Token), CancellationToken.None);
            LorrDecision? decision;
            try
            {
                var horizon = budget * stepsLeft;
                decision = await work.WaitAsync(horizon, bench._time, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Late past the horizon: the rest of the run is entry timeouts (the worker is abandoned).
                await cts.CancelAsync().ConfigureAwait(false);
                return (null, bench._time.GetElapsedTime(start), stepsLeft);
            }

            var elapsed = bench._time.GetElapsedTime(start);
            var timeouts = (int)Math.Min(stepsLeft, elapsed.Ticks / budget.Ticks);
            if (elapsed > budget)
            {
                bench.Overrun?.Invoke(obs.Timestep, elapsed, decision?.Diagnostics);
            }
            return (decision, elapsed, timeouts);
        }

        // 2024+: a robot holds a task when the accepted schedule gives it one; 2023: always (system goals).
        private void ObserveIdle(int[]? assignment) =>
            record.Idle?.Observe(_poses, assignment is null ? _ => true : r => assignment[r] >= 0);

        private void Move(RobotAction[] actions, int timestepAfter)
        {
            var after = new RobotPose[_n];
            _conflicts.Clear();
            string? sizeError = actions.Length != _n ? "incorrect vector size" : null;
            var valid = sizeError is null && bench._validator.ValidateStep(_poses, actions, after, _conflicts);
            if (valid)
            {
                _poses = after;
                record.ActualTape.Append(actions);
                return;
            }

            record.NumPlannerErrors++;
            if (sizeError is not null)
            {
                record.Errors.Add(new LorrError(-1, -1, timestepAfter, sizeError));
            }
            else
            {
                var c = _conflicts[0];
                var message = c.Kind switch
                {
                    ConflictKind.Vertex => "vertex conflict",
                    ConflictKind.Swap => "edge conflict",
                    _ => "unallowed move",
                };
                record.Errors.Add(new LorrError(c.Robot, c.OtherRobot, timestepAfter, message));
            }

            record.ActualTape.AppendAll((byte)RobotAction.Wait);
        }

        private void Reveal2024(int time, int target)
        {
            while (_ongoing.Count < target)
            {
                var id = _nextTaskId++;
                var fileIndex = id % _inst.Tasks.Count;
                _ongoing[id] = (fileIndex, 0, -1);
                record.Tasks.Add(new LorrRevealedTask(id, time, fileIndex));
                entrant.Reveal(id, _inst.Tasks[fileIndex]);
            }
        }

        private void UpdateTasks2024(int[] proposed, int time, int revealTarget)
        {
            SetAssignment(proposed, time);
            CheckErrands(time);
            Reveal2024(time, revealTarget);
        }

        // TaskManager::check_finished_tasks: a robot standing on its task's next errand advances it by one.
        private void CheckErrands(int time)
        {
            for (var k = 0; k < _n; k++)
            {
                var id = _assignment[k];
                if (id < 0)
                {
                    continue;
                }

                var task = _ongoing[id];
                var errands = _inst.Tasks[task.FileIndex];
                if (_poses[k].Cell != errands[task.Next])
                {
                    continue;
                }

                task.Next++;
                if (task.Next == errands.Length)
                {
                    _assignment[k] = -1;
                    _ongoing.Remove(id);
                    record.NumTaskFinished++;
                    if (_inst.Generation == LorrGeneration.Lorr2026)
                    {
                        _finishedSince.Add(id);
                    }
                }
                else
                {
                    _ongoing[id] = task;
                }

                record.Events.Add(new LorrEvent(time, k, id, task.Next));
            }
        }

        // TaskManager::set_task_assignment: record the proposal, validate it, apply it or keep the old one.
        private void SetAssignment(int[] proposed, int time)
        {
            for (var a = 0; a < Math.Min(_n, proposed.Length); a++)
            {
                var list = record.PlannerSchedule[a];
                if (list.Count == 0 || list[^1].Task != proposed[a])
                {
                    list.Add((time, proposed[a]));
                }
            }

            if (_inst.Generation == LorrGeneration.Lorr2026)
            {
                // v3.1.0: a bad entry is corrected (and recorded), the rest of the proposal still applies.
                if (proposed.Length != _n)
                {
                    record.ScheduleErrors.Add(new LorrError(-1, -1, time, "Invalid schedule size"));
                    return;
                }

                proposed = CorrectSchedule2026(proposed, time);
            }
            else if (!ValidateSchedule(proposed, time))
            {
                return;
            }

            foreach (var a in Enumerable.Range(0, _n))
            {
                if (_assignment[a] >= 0 && _ongoing.TryGetValue(_assignment[a], out var old))
                {
                    _ongoing[_assignment[a]] = old with { Agent = -1 };
                }
            }

            for (var a = 0; a < _n; a++)
            {
                _assignment[a] = proposed[a];
                if (proposed[a] >= 0)
                {
                    _ongoing[proposed[a]] = _ongoing[proposed[a]] with { Agent = a };
                }

                var list = record.ActualSchedule[a];
                if (list.Count == 0 || list[^1].Task != _assignment[a])
                {
                    list.Add((time, _assignment[a]));
                }
            }
        }

        private int[] CorrectSchedule2026(int[] proposed, int time)
        {
            var fixedUp = (int[])proposed.Clone();
            var seen = new Dictionary<int, int>();
            for (var a = 0; a < _n; a++)
            {
                var id = fixedUp[a];
                if (id != -1 && !_ongoing.ContainsKey(id))
                {
                    record.ScheduleErrors.Add(new LorrError(a, -1, time, "task already finished", id));
                    id = -1;
                }

                if (id != -1 && seen.TryGetValue(id, out var other))
                {
                    record.ScheduleErrors.Add(new LorrError(a, other, time, "task is already assigned by the second agent at the same time", id));
                    id = -1;
                }

                var current = _assignment[a];
                if (current != -1 && _ongoing[current].Next > 0 && id != current)
                {
                    record.ScheduleErrors.Add(new LorrError(a, -1, time, "schedule agent to another task who is already opened a task", id));
                    id = current;
                }

                if (id != -1 && _ongoing[id].Next > 0 && _ongoing[id].Agent != a)
                {
                    record.ScheduleErrors.Add(new LorrError(a, _ongoing[id].Agent, time, "task is already opened by other agent", id));
                    id = -1;
                }

                if (id != -1)
                {
                    seen[id] = a;
                }

                fixedUp[a] = id;
            }

            return fixedUp;
        }

        private bool ValidateSchedule(int[] proposed, int time)
        {
            if (proposed.Length != _n)
            {
                record.ScheduleErrors.Add(new LorrError(-1, -1, time, "Invalid schedule size"));
                return false;
            }

            var seen = new Dictionary<int, int>();
            for (var a = 0; a < _n; a++)
            {
                var id = proposed[a];
                if (id != -1 && !_ongoing.ContainsKey(id))
                {
                    record.ScheduleErrors.Add(new LorrError(a, -1, time, "task already finished", id));
                    return false;
                }

                if (id != -1 && seen.TryGetValue(id, out var other))
                {
                    record.ScheduleErrors.Add(new LorrError(a, other, time, "task is already assigned by the second agent at the same time", id));
                    return false;
                }

                var current = _assignment[a];
                if (current != -1 && _ongoing[current].Next > 0 && id != current)
                {
                    record.ScheduleErrors.Add(new LorrError(a, _ongoing[current].Agent, time, "task is already opened by the second agent", id));
                    return false;
                }

                if (id != -1)
                {
                    seen[id] = a;
                }
            }

            return true;
        }

        private void CountCosts(int[] schedule, int ticks)
        {
            for (var a = 0; a < _n && a < schedule.Length; a++)
            {
                if (schedule[a] != -1)
                {
                    record.SolutionCosts[a] += ticks;
                }
            }
        }

        private void CountAllCosts()
        {
            for (var a = 0; a < _n; a++)
            {
                record.SolutionCosts[a]++;
            }
        }

        private void ReportProgress(int step)
        {
            if (bench.Progress is null)
            {
                return;
            }

            if (step < _nextProgress && step < record.Steps)
            {
                return;
            }

            _nextProgress = step + bench.ProgressEvery;
            var times = record.PlannerTimes;
            var sorted = times.Order().ToArray();
            var p50 = sorted.Length == 0 ? 0 : sorted[sorted.Length / 2] * 1000;
            var max = sorted.Length == 0 ? 0 : sorted[^1] * 1000;
            bench.Progress(new LorrProgress(step, record.Steps, record.NumTaskFinished, p50, max));
        }
    }
}
