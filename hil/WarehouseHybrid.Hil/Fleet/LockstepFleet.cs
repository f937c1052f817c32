using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Hil.Board;
using WarehouseHybrid.Hil.Demo;
using WarehouseHybrid.Hil.Faults;
using WarehouseHybrid.Hil.Time;
using WarehouseHybrid.Hil.World;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Fleet;

/// <summary>
/// Where the fleet reports what each edge took in and gave out (record and replay). Serial calls come from worker
/// threads, one robot at a time; <see cref="Message"/> from the fleet's thread between robot phases.
/// </summary>
public interface IFleetTap
{
    /// <summary>
    /// Serial bytes at virtual time <paramref name="time"/>: to the daemon as the edge ingested them (after fault
    /// injection); to the board as the edge wrote them (before fault injection: the edge's decision).
    /// </summary>
    void Transfer(int robot, TimeSpan time, bool toDaemon, ReadOnlySpan<byte> bytes);

    /// <summary>The robot's edge ran one control tick at <paramref name="time"/>.</summary>
    void Tick(int robot, TimeSpan time);

    /// <summary>A plan, grant or task message reached the robot's plan inbox.</summary>
    void Message(int robot, TimeSpan time, Google.Protobuf.IMessage message);
}

/// <summary>
/// An in-process fleet in lock-step on one virtual clock (<see cref="SimClock"/>): the world, one
/// <see cref="VirtualBoard"/> and one real <see cref="EdgeRuntime"/> (hosted with <see cref="EdgeRuntime.StartStepped"/>)
/// per robot, joined by serial lines that carry the real board protocol bytes (through a
/// <see cref="SerialFaultInjector"/> each way), and optionally a <see cref="LocalSite"/> that plans. Each
/// <see cref="Tick"/> steps the world, lets every board send what is due, runs each edge whose control tick is due
/// and applies its motor command, then, at a poll, lets the site hear the robots: its step (confirmations, grants,
/// the optimizer) runs beside the following world steps and its messages go out at the next poll. The per-robot work runs on
/// <see cref="FleetOptions.Parallelism"/> threads (<see cref="LockstepWorkers"/>); nothing in it depends on which
/// thread ran it, so a run repeats exactly for a seed. As fast as the CPU allows: a wall clock plays no part.
/// </summary>
public sealed class LockstepFleet : IAsyncDisposable
{
    private readonly FleetOptions _options;
    private readonly Robot[] _robots;
    private readonly EdgeRuntime[] _runtimes;
    private readonly StepProgress[] _progress;
    private readonly long _controlEvery;
    private readonly long _sensorEvery;
    private readonly long _pollEvery;
    private long _ticks;
    private long _worldTicks;
    private long _robotTicks;
    private long _pollTicks;
    private long _pathWorld; // critical-path CPU nanoseconds by phase
    private long _pathRobots;
    private long _pathSite;
    private long _pathSiteSteps; // the part of _pathSite that the site's steps themselves add
    private long _siteStepsCpu;
    private long _frameRobotTicks; // wall (stopwatch ticks) of the per-robot phase on control ticks, and in the world's ranges
    private long _worldRangeTicks;
    private long _worldParallelBound; // this world step's per-robot ranges: their bound and the caller's CPU in them
    private long _worldParallelCaller;
    private readonly LockstepWorkers? _workers;
    private TimeSpan _phaseNow; // the per-robot phase's time and kind, for the workers
    private bool _phaseControl;
    private bool _phasePoll; // the site polls after this phase: each robot's progress is read in it, while hot

    // The site's step for the latest poll, run until the next poll beside the world steps (ADR 0013, decision 13):
    // what it heard and when, the messages it sent (handed to the link at the next poll), and what the fleet's other
    // threads did meanwhile (critical-path accounting).
    private readonly LocalSite? _site;
    private readonly PinnedClock? _siteClock;
    private readonly Action _siteStep;
    private readonly List<(int Robot, Google.Protobuf.IMessage Message)> _siteOutbox = [];
    private IReadOnlyList<StepProgress> _siteHeard = [];
    private TimeSpan _siteNow;
    private bool _siteInFlight; // heard, not yet handed to the link
    private bool _siteDone; // its step has run (joined, or run on the fleet's thread)
    private long _siteCpu;
    private long _siteBesideWorld;
    private long _siteBesideRobots;

    /// <summary>Builds the fleet on a map; nothing runs until <see cref="Start"/> and <see cref="Tick"/>.</summary>
    public LockstepFleet(GridMap map, FleetOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Clock = new SimClock();
        var loggers = loggerFactory ?? NullLoggerFactory.Instance;
        var worldOptions = new SimWorldOptions
        {
            MaxLinearSpeedMps = options.MaxLinearMps * 1.25,
            MaxAngularSpeedRadps = options.MaxAngularRadps * 1.25,
            MaxLinearAccelerationMps2 = 4,
            MaxAngularAccelerationRadps2 = 20,
            BrakeDecelerationMps2 = 5,
            BrakeAngularDecelerationRadps2 = 40,
            NoiseSeed = options.Seed,
            ShieldBrakeDecelerationMps2 = EdgeBrakeDecel, // the envelope the edge's shield assumes
        };
        worldOptions = options.ConfigureWorld?.Invoke(worldOptions) ?? worldOptions;
        World = new SimWorld(map, worldOptions);
        var starts = options.StartCells?.ToArray() ?? DemoRunner.PickStartCells(map, options.Robots, options.Seed);
        _robots = new Robot[options.Robots];
        _runtimes = new EdgeRuntime[options.Robots];
        _progress = new StepProgress[options.Robots];
        var boardOptions = new VirtualBoardOptions { SensorPeriod = options.SensorPeriod, LockStep = true };
        for (var i = 0; i < options.Robots; i++)
        {
            var id = $"robot-{i:D3}";
            World.AddRobot(id, starts[i], options.StartHeading);
            var edge = EdgeOptionsFor(options, id, starts[i], map);
            options.ConfigureEdge?.Invoke(i, edge);
            var capture = new CaptureStream();
            var board = new VirtualBoard(capture, World, i, boardOptions);
            var clock = new SkewedTimeProvider(Clock, TimeSpan.Zero);
            var runtime = new EdgeRuntime(edge, new ExistingStreamTransport(Stream.Null), clock, loggers);
            _robots[i] = new Robot(id, starts[i], edge, board, capture, runtime, clock,
                new SerialFaultInjector(StreamSeeds.Derive(options.Seed, i, 1)), new SerialFaultInjector(StreamSeeds.Derive(options.Seed, i, 2)));
            _runtimes[i] = runtime;
        }

        _controlEvery = TimeSpan.FromSeconds(1.0 / options.ControlRateHz).Ticks / options.WorldStep.Ticks;
        _sensorEvery = options.SensorPeriod.Ticks / options.WorldStep.Ticks;
        _pollEvery = Math.Max(1, options.SitePollPeriod.Ticks / options.WorldStep.Ticks);
        Link = new SiteLink(options.Seed);
        Link.OnDelivered = (robot, message) => Tap?.Message(robot, Clock.Elapsed, message);
        if (options.WithSite)
        {
            var roster = _robots.Select(r => new RobotSeat(r.Id, r.StartCell, options.StartHeading)).ToArray();
            _siteClock = new PinnedClock(Clock);
            var planner = new PibtFleetPlanner(map, options.Robots, new PlannerOptions
            {
                Seed = options.Seed,
                // Virtual time never reaches the deadline: the plan does not depend on the CPU's speed. Pinned to the
                // poll's instant, since the site plans while the fleet's clock moves on (decision 13).
                TimeProvider = _siteClock,
                BackgroundTableWorkers = 0,
                // The site's step runs on one of the fleet's threads beside the others (decision 13): helper threads
                // of its own would only share the fleet's cores with it. Its plans do not depend on this.
                MaxParallelism = 1,
            });
            _site = new LocalSite(map, roster, planner, (int)Math.Ceiling(options.TasksRevealed * options.Robots), options.ErrandsPerTask,
                options.Seed, options.ConfirmTimeout, TimeSpan.FromSeconds(10));
        }

        _siteStep = RunSiteStep;
        if (options.Parallelism > 1)
        {
            _workers = new LockstepWorkers(options.Parallelism, options.Robots, StepRobots);
            World.RobotRanges = RunWorldRanges;
        }
    }

    /// <summary>The virtual clock every edge runtime runs on.</summary>
    public SimClock Clock { get; }

    /// <summary>The world.</summary>
    public SimWorld World { get; }

    /// <summary>
    /// The site, when <see cref="FleetOptions.WithSite"/>. Its step for the latest poll may be running on a worker
    /// between ticks (decision 13): reading this waits for that step to end (or runs it, with one thread), so what
    /// the site shows is the same on any thread count; its messages still go out at the next poll.
    /// </summary>
    public LocalSite? Site
    {
        get
        {
            CompleteSiteStep();
            return _site;
        }
    }

    /// <summary>The network between the robots and the site (latency, outages, partitions).</summary>
    public SiteLink Link { get; }

    /// <summary>Number of robots.</summary>
    public int Count => _robots.Length;

    /// <summary>World steps run.</summary>
    public long Ticks => _ticks;

    /// <summary>Wall time spent in each phase so far: world steps with invariants, per-robot work (boards and edges), site polls.</summary>
    public (TimeSpan World, TimeSpan Robots, TimeSpan Site) PhaseTimes =>
        (TimeSpan.FromTicks(_worldTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
         TimeSpan.FromTicks(_robotTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
         TimeSpan.FromTicks(_pollTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency));

    /// <summary>
    /// Finer wall time: the per-robot phase on the world steps with control ticks (sensor frames, decisions, commands;
    /// the rest of <see cref="PhaseTimes"/>' robots share is the steps in between), and the world step's per-robot ranges.
    /// </summary>
    public (TimeSpan RobotsOnControlSteps, TimeSpan WorldRanges) DetailTimes =>
        (TimeSpan.FromTicks(_frameRobotTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
         TimeSpan.FromTicks(_worldRangeTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency));

    /// <summary>Virtual time since the start.</summary>
    public TimeSpan Now => Clock.Elapsed;

    /// <summary>Each robot's edge runtime.</summary>
    public IReadOnlyList<EdgeRuntime> Runtimes => _runtimes;

    /// <summary>Every robot's plan progress and decision (refreshed each site poll).</summary>
    public IReadOnlyList<StepProgress> Progress => _progress;

    /// <summary>Every robot's full status (counters, model install); allocates, call at the end of a run.</summary>
    public IReadOnlyList<EdgeStatus> Statuses() => [.. _runtimes.Select(r => r.GetStatus())];

    /// <summary>Records serial traffic when set (before <see cref="Start"/>).</summary>
    public IFleetTap? Tap { get; set; }

    /// <summary>Called after each site poll with the fresh statuses (reports, scenario checks), on the caller's thread.</summary>
    public event Action<TimeSpan, IReadOnlyList<StepProgress>>? Polled;

    /// <summary>A robot's id.</summary>
    public string IdOf(int robot) => _robots[robot].Id;

    /// <summary>A robot's edge options (a copy of what its runtime got).</summary>
    public EdgeOptions EdgeOptionsOf(int robot) => _robots[robot].EdgeOptions.Clone();

    /// <summary>A robot's own clock: the fleet's virtual clock, with a wall-time skew that faults can change.</summary>
    public SkewedTimeProvider ClockOf(int robot) => _robots[robot].Clock;

    /// <summary>A robot's board.</summary>
    public VirtualBoard BoardOf(int robot) => _robots[robot].Board;

    /// <summary>The line from a robot's board to its edge (fault injection).</summary>
    public SerialFaultInjector ToDaemon(int robot) => _robots[robot].ToDaemon;

    /// <summary>The line from a robot's edge to its board (fault injection).</summary>
    public SerialFaultInjector ToBoard(int robot) => _robots[robot].ToBoard;

    /// <summary>The braking deceleration fleet robots' shields assume (m/s^2); the world's brakes deliver 5.</summary>
    public const double EdgeBrakeDecel = 4.0;

    /// <summary>The edge options a fleet robot gets by default (cloud link off: the fleet delivers plans).</summary>
    public static EdgeOptions EdgeOptionsFor(FleetOptions options, string robotId, int startCell, GridMap map) => new()
    {
        RobotId = robotId,
        SiteId = "hil",
        CloudLinkEnabled = false,
        ControlRateHz = options.ControlRateHz,
        MapWidth = map.Width,
        MapHeight = map.Height,
        StartCell = startCell,
        StartHeading = options.StartHeading,
        MaxLinearMps = options.MaxLinearMps,
        MaxAngularRadps = options.MaxAngularRadps,
        LinearAccel = 3.0,
        AngularAccel = 15,
        BrakeDecel = EdgeBrakeDecel,
        RestLinearMps = 0.05,
        RestAngularRadps = 0.15,
        BoardCommandTimeoutMs = 100,
        // The range sensor sits at the centre: the margin must cover the body's radius (0.3 m in the world) plus
        // clearance, or the shield lets the bumper touch what it stops for (the edge default 0.25 m is less).
        SafetyMarginMetres = 0.45,
    };

    /// <summary>Starts every runtime in lock-step mode (installs model packages).</summary>
    public void Start()
    {
        foreach (var r in _robots)
        {
            r.Runtime.StartStepped();
        }

        World.PrepareSensing();
        Poll(progressRead: false);
    }

    /// <summary>Runs <paramref name="count"/> ticks.</summary>
    public void Run(long count)
    {
        for (var i = 0; i < count; i++)
        {
            Tick();
        }
    }

    /// <summary>Runs until <paramref name="virtualTime"/> has passed (or <paramref name="stop"/> says so after a tick).</summary>
    public void RunFor(TimeSpan virtualTime, Func<bool>? stop = null)
    {
        var end = Now + virtualTime;
        while (Now < end)
        {
            Tick();
            if (stop?.Invoke() == true)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One world step: world, boards, due edges, commands applied, site. The site's step for a poll runs on a worker
    /// beside the world steps until the next poll (on one thread: at the next poll), where its messages go out.
    /// </summary>
    public void Tick()
    {
        var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var cpu0 = CpuClock.ThreadNanoseconds();
        _worldParallelBound = 0;
        _worldParallelCaller = 0;
        World.Step(_options.WorldStep);
        Clock.Advance(_options.WorldStep);
        var t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        var cpu1 = CpuClock.ThreadNanoseconds();
        _worldTicks += t1 - t0;
        var tick = ++_ticks;
        var now = Clock.Elapsed;
        // Control ticks fall on the world steps whose sensor frames the boards send (both cadences start at the
        // first step): a robot's frame is decoded, decided on and answered while its state is in the cache, which
        // with hundreds of robots between two visits is most of the per-robot cost. The board and edge clocks of a
        // real robot have some phase; this one is zero (the frame is one world step fresher than before).
        var control = (tick - 1) % _controlEvery == 0;
        var poll = tick % _pollEvery == 0;
        _phasePoll = poll;
        long longestWorker;
        if (_options.Parallelism == 1)
        {
            for (var i = 0; i < _robots.Length; i++)
            {
                StepRobot(i, now, control);
            }

            longestWorker = CpuClock.ThreadNanoseconds() - cpu1;
        }
        else
        {
            _phaseNow = now;
            _phaseControl = control;
            longestWorker = _workers!.Run();
        }

        var robotsTotal = _options.Parallelism == 1 ? longestWorker : _workers!.LastTotalCpu;
        var t2 = System.Diagnostics.Stopwatch.GetTimestamp();
        _robotTicks += t2 - t1;
        if (control)
        {
            _frameRobotTicks += t2 - t1;
        }

        var cpu2 = CpuClock.ThreadNanoseconds();
        var world = cpu1 - cpu0 - _worldParallelCaller + _worldParallelBound;
        if (_siteInFlight && !_siteDone)
        {
            _siteBesideWorld += world;
            _siteBesideRobots += robotsTotal;
        }

        var site = poll ? FinishSiteStep(now) : 0;
        _pathSiteSteps += site;
        if (_site is not null)
        {
            Link.Deliver(now, _runtimes);
        }

        if (poll)
        {
            Poll(progressRead: true);
        }

        _pollTicks += System.Diagnostics.Stopwatch.GetTimestamp() - t2;
        site += CpuClock.ThreadNanoseconds() - cpu2;
        // The world's per-robot ranges ran on the workers too: their bound replaces the caller's share of them.
        _pathWorld += world;
        _pathRobots += longestWorker;
        _pathSite += site;
    }

    /// <summary>
    /// CPU time on the fleet's critical path so far: per world step, the serial phases' CPU time (world with
    /// invariants, site) plus the longest worker's CPU time in the per-robot phase. It is the wall time the run would
    /// take with a core for each worker and no other tenant, and excludes time spent waiting or spinning for a
    /// core; zero where thread CPU clocks are not available (<see cref="CpuClock"/>).
    /// </summary>
    public TimeSpan CriticalPathCpu => TimeSpan.FromTicks((_pathWorld + _pathRobots + _pathSite) / 100);

    /// <summary>CPU time of the site's steps themselves (confirmations, grants, the optimizer), and what of it the critical path was charged.</summary>
    public (TimeSpan Steps, TimeSpan OnCriticalPath) SiteStepCpu => (TimeSpan.FromTicks(_siteStepsCpu / 100), TimeSpan.FromTicks(_pathSiteSteps / 100));

    /// <summary><see cref="CriticalPathCpu"/> by phase: world steps with invariants, per-robot work, site.</summary>
    public (TimeSpan World, TimeSpan Robots, TimeSpan Site) CriticalPathPhases =>
        (TimeSpan.FromTicks(_pathWorld / 100), TimeSpan.FromTicks(_pathRobots / 100), TimeSpan.FromTicks(_pathSite / 100));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_siteInFlight && !_siteDone && _workers is not null)
        {
            _workers.JoinSide(); // not left running on a thread that is about to stop
            _siteDone = true;
        }

        _workers?.Dispose();
        foreach (var r in _robots)
        {
            await r.Runtime.DisposeAsync().ConfigureAwait(false);
            await r.Board.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Poll(bool progressRead)
    {
        for (var i = 0; !progressRead && i < _runtimes.Length; i++)
        {
            _progress[i] = _runtimes[i].GetStepProgress();
        }

        if (_site is not null)
        {
            // The site hears the robots now and plans until the next poll, beside the world steps (decision 13): the
            // same inputs and virtual time as planning here, its messages one poll period later.
            _siteNow = Now;
            _siteHeard = Link.Hear(_siteNow, _progress);
            _siteClock!.Pin();
            _siteInFlight = true;
            _siteDone = false;
            _siteBesideWorld = 0;
            _siteBesideRobots = 0;
            _workers?.StartSide(_siteStep);
        }

        Polled?.Invoke(Now, _progress);
    }

    // Waits for the site's step of the latest poll (or runs it here, with one thread), once.
    private void CompleteSiteStep()
    {
        if (!_siteInFlight || _siteDone)
        {
            return;
        }

        if (_workers is not null)
        {
            _siteCpu = _workers.JoinSide();
        }
        else
        {
            // The planner may use several threads: a step on the fleet's thread is charged with the process's CPU time.
            var process = CpuClock.ProcessNanoseconds();
            RunSiteStep();
            _siteCpu = CpuClock.ProcessNanoseconds() - process;
        }

        _siteDone = true;
        _siteStepsCpu += _siteCpu;
    }

    // At a poll: ends the previous poll's site step and hands what it sent to the link, now. Returns what the step
    // adds to the critical path (nanoseconds).
    private long FinishSiteStep(TimeSpan now)
    {
        if (!_siteInFlight)
        {
            return 0;
        }

        CompleteSiteStep();
        _siteInFlight = false;
        foreach (var (robot, message) in _siteOutbox)
        {
            Link.Send(robot, message, now);
        }

        _siteOutbox.Clear();
        if (_workers is null)
        {
            return _siteCpu;
        }

        // The step ran beside world steps and robots' phases: it adds only what the cores could not hide (list
        // scheduling: the step itself when it is longer than the rest, else the total over the cores).
        var cores = _options.Parallelism;
        var beside = _siteBesideWorld + (_siteBesideRobots / cores);
        return Math.Max(0, Math.Max(_siteCpu, (_siteBesideWorld + _siteCpu + _siteBesideRobots) / cores) - beside);
    }

    // The site's step for the latest poll: touches only the site, its planner and the outbox (on a worker, or on the
    // fleet's thread with one thread).
    private void RunSiteStep() => _site!.Poll(_siteNow, _siteHeard, (robot, message) => _siteOutbox.Add((robot, message)));

    /// <summary>With one thread: wall time in board pumps (sensing, encoding), edge ingest, control ticks, command output.</summary>
    public TimeSpan[] RobotPhaseTimes => [.. _robotPhase.Select(t => TimeSpan.FromTicks(t * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency))];

    private readonly long[] _robotPhase = new long[4];

    // The world step's per-robot parts on the fleet's workers (the world's robots are the fleet's, in order).
    private void RunWorldRanges(int count, Action<int, int> range)
    {
        if (count != _robots.Length)
        {
            range(0, count);
            return;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        _worldParallelBound += _workers!.Run(range);
        _worldParallelCaller += _workers.LastCallerCpu;
        _worldRangeTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
    }

    private void StepRobots(int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            StepRobot(i, _phaseNow, _phaseControl);
        }
    }

    private void StepRobot(int i, TimeSpan now, bool control)
    {
        StepBoardAndEdge(i, now, control);
        if (_phasePoll)
        {
            // What the poll after this phase reads: nothing changes a runtime's progress between here and there (the
            // link only posts to plan inboxes, which the next tick drains).
            _progress[i] = _runtimes[i].GetStepProgress();
        }
    }

    private void StepBoardAndEdge(int i, TimeSpan now, bool control)
    {
        var profile = _options.Parallelism == 1;
        var a = profile ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        var r = _robots[i];
        r.Board.PumpSensors(now);
        var sent = r.Capture.Take();
        var b = profile ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        if (!sent.IsEmpty)
        {
            var bytes = r.ToDaemon.Transmit(sent, r.Scratch);
            if (!bytes.IsEmpty)
            {
                Tap?.Transfer(i, now, toDaemon: true, bytes);
                r.Runtime.StepIngest(bytes);
            }
        }

        var c = profile ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        if (profile)
        {
            _robotPhase[0] += b - a;
            _robotPhase[1] += c - b;
        }

        if (!control)
        {
            return;
        }

        r.Runtime.StepTick();
        Tap?.Tick(i, now);
        var d = profile ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        var length = r.Runtime.StepTakeOutput(r.Command);
        if (length > 0)
        {
            Tap?.Transfer(i, now, toDaemon: false, r.Command.AsSpan(0, length));
            var bytes = r.ToBoard.Transmit(r.Command.AsSpan(0, length), r.Scratch);
            if (!bytes.IsEmpty)
            {
                r.Board.ProcessReceived(bytes);
            }
        }

        if (profile)
        {
            _robotPhase[2] += d - c;
            _robotPhase[3] += System.Diagnostics.Stopwatch.GetTimestamp() - d;
        }
    }

    private sealed record Robot(string Id, int StartCell, EdgeOptions EdgeOptions, VirtualBoard Board, CaptureStream Capture, EdgeRuntime Runtime, SkewedTimeProvider Clock,
        SerialFaultInjector ToDaemon, SerialFaultInjector ToBoard)
    {
        public byte[] Scratch { get; } = new byte[4096];

        public byte[] Command { get; } = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
    }
}
