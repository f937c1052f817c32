using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Hil.World;

namespace WarehouseHybrid.Hil.Board;

/// <summary>Pacing of a <see cref="WorldDriver"/>.</summary>
public sealed record WorldDriverOptions
{
    /// <summary>World step length, also the real-time tick period (default 10 ms = 100 Hz).</summary>
    public TimeSpan StepPeriod { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Steps run back to back at one wake-up when the driver is behind real time; steps beyond this are
    /// skipped (world time falls behind) and counted, so a stall never turns into a burst of fast motion.
    /// </summary>
    public int MaxCatchUpSteps { get; init; } = 5;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (StepPeriod <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StepPeriod), StepPeriod, "WorldDriverOptions.StepPeriod must be positive");
        }

        if (MaxCatchUpSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCatchUpSteps), MaxCatchUpSteps, "WorldDriverOptions.MaxCatchUpSteps must be at least 1");
        }
    }
}

/// <summary>Counters of a <see cref="WorldDriver"/>.</summary>
public readonly record struct WorldDriverStats
{
    /// <summary>World steps run.</summary>
    public long Steps { get; init; }

    /// <summary>Timer wake-ups on the driver thread.</summary>
    public long WakeUps { get; init; }

    /// <summary>Wake-ups that found at least one whole step overdue.</summary>
    public long LateWakeUps { get; init; }

    /// <summary>Steps given up because the driver was more than <see cref="WorldDriverOptions.MaxCatchUpSteps"/> behind.</summary>
    public long SkippedSteps { get; init; }

    /// <summary>Largest delay between the next step's due time and the wake-up that ran it.</summary>
    public TimeSpan MaxLateness { get; init; }

    /// <summary>Sum of the wake-up delays (divide by <see cref="WakeUps"/> for the mean).</summary>
    public TimeSpan TotalLateness { get; init; }
}

/// <summary>
/// Runs a <see cref="SimWorld"/> and its <see cref="VirtualBoard"/>s: each tick steps the world by the fixed
/// <see cref="WorldDriverOptions.StepPeriod"/> and lets every board send what is due.
/// <see cref="Start"/> paces ticks in real time on a dedicated thread with a <see cref="PeriodicTimer"/> on the
/// given <see cref="TimeProvider"/> (for real daemons); <see cref="StepOnce"/> and <see cref="RunSteps"/> tick
/// on the caller's thread as fast as it likes (in-process fleets, tests). Do not mix the two at once.
/// </summary>
public sealed class WorldDriver : IAsyncDisposable, IDisposable
{
    private readonly SimWorld _world;
    private readonly VirtualBoard[] _boards;
    private readonly WorldDriverOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _statsGate = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _stop;
    private Thread? _thread;
    private WorldDriverStats _stats;
    private long _reportedViolations;
    private Exception? _fault;

    /// <summary>Creates a driver; nothing runs until <see cref="Start"/>, <see cref="StepOnce"/> or <see cref="RunSteps"/>.</summary>
    public WorldDriver(SimWorld world, IEnumerable<VirtualBoard> boards, WorldDriverOptions? options = null,
        TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(boards);
        _options = options ?? new WorldDriverOptions();
        _options.Validate();
        _world = world;
        _boards = [.. boards];
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The world being driven.</summary>
    public SimWorld World => _world;

    /// <summary>The boards pumped after every step.</summary>
    public IReadOnlyList<VirtualBoard> Boards => _boards;

    /// <summary>Counters.</summary>
    public WorldDriverStats Stats
    {
        get { lock (_statsGate) { return _stats; } }
    }

    /// <summary>The error that stopped the real-time thread (an invariant violation when the world throws), or null.</summary>
    public Exception? Fault
    {
        get { lock (_statsGate) { return _fault; } }
    }

    /// <summary>Whether the real-time thread is running.</summary>
    public bool IsRunning => _thread is { IsAlive: true };

    /// <summary>Completes when the real-time thread has ended (after <see cref="StopAsync"/> or a fault).</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Steps the world once and pumps every board.</summary>
    public void StepOnce() => Tick();

    /// <summary>Runs <paramref name="count"/> ticks back to back (faster than real time).</summary>
    public void RunSteps(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Tick();
        }
    }

    /// <summary>Starts ticking in real time on a dedicated thread.</summary>
    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("the world driver has already been started");
        }

        _stop = new CancellationTokenSource();
        var token = _stop.Token;

        // The schedule starts now, on the caller's thread, so time advanced right after Start() counts.
        var start = _time.GetTimestamp();
        var timer = new PeriodicTimer(_options.StepPeriod, _time);
        _thread = new Thread(() => Run(timer, start, token)) { IsBackground = true, Name = "hil-world" };
        _thread.Start();
        BoardLog.DriverStarted(_logger, _options.StepPeriod.TotalMilliseconds, _boards.Length, _world.RobotCount);
    }

    /// <summary>Stops the real-time thread and waits for it to end.</summary>
    public async Task StopAsync()
    {
        if (_stop is null)
        {
            return;
        }

        await _stop.CancelAsync();
        await _stopped.Task;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop?.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_stop is not null)
        {
            _stop.Cancel();
            _thread?.Join();
            _stop.Dispose();
        }
    }

    private void Run(PeriodicTimer timer, long start, CancellationToken token)
    {
        try
        {
            using var owned = timer;
            var period = _options.StepPeriod;
            long scheduled = 0; // steps whose due time has been handled (run or skipped)
            while (WaitForTick(timer, token))
            {
                var elapsed = _time.GetElapsedTime(start);
                var due = (long)(elapsed.Ticks / period.Ticks);
                var behind = due - scheduled;
                var lateness = elapsed - (period * (scheduled + 1));
                lateness = lateness < TimeSpan.Zero ? TimeSpan.Zero : lateness;
                lock (_statsGate)
                {
                    _stats = _stats with
                    {
                        WakeUps = _stats.WakeUps + 1,
                        LateWakeUps = _stats.LateWakeUps + (behind > 1 ? 1 : 0),
                        MaxLateness = lateness > _stats.MaxLateness ? lateness : _stats.MaxLateness,
                        TotalLateness = _stats.TotalLateness + lateness,
                    };
                }

                if (behind > _options.MaxCatchUpSteps)
                {
                    var skip = behind - _options.MaxCatchUpSteps;
                    scheduled += skip;
                    lock (_statsGate)
                    {
                        _stats = _stats with { SkippedSteps = _stats.SkippedSteps + skip };
                    }

                    BoardLog.StepsSkipped(_logger, skip);
                }

                while (scheduled < due && !token.IsCancellationRequested)
                {
                    scheduled++;
                    Tick();
                }
            }
        }
        catch (Exception ex)
        {
            lock (_statsGate)
            {
                _fault = ex;
            }

            BoardLog.DriverFailed(_logger, ex);
        }
        finally
        {
            var s = Stats;
            BoardLog.DriverStopped(_logger, s.Steps, s.SkippedSteps, s.MaxLateness.TotalMilliseconds);
            _stopped.TrySetResult();
        }
    }

    private static bool WaitForTick(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return timer.WaitForNextTickAsync(token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Tick()
    {
        try
        {
            _world.Step(_options.StepPeriod);
        }
        finally
        {
            LogNewViolations();
        }

        var now = _world.Now;
        foreach (var board in _boards)
        {
            board.PumpSensors(now);
        }

        lock (_statsGate)
        {
            _stats = _stats with { Steps = _stats.Steps + 1 };
        }
    }

    private void LogNewViolations()
    {
        var count = _world.ViolationCount;
        if (count == _reportedViolations)
        {
            return;
        }

        var recorded = _world.Violations;
        for (var i = (int)Math.Min(_reportedViolations, recorded.Count); i < recorded.Count; i++)
        {
            BoardLog.InvariantViolated(_logger, recorded[i].ToString());
        }

        _reportedViolations = count;
    }
}
