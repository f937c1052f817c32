namespace WarehouseHybrid.Hil.Fleet;

/// <summary>
/// The threads that run a lock-step fleet's per-robot phase: the caller plus <c>participants - 1</c> dedicated
/// threads claim chunks of the robot range until none is left, so a worker that the shared machine has not
/// scheduled yet costs nothing (the caller does its chunks). Between phases the dedicated threads sleep on a
/// semaphore instead of spinning: <see cref="Parallel.For(int, int, Action{int})"/>'s pool threads and join spin for
/// a while after every phase, which a fleet with a phase every few hundred microseconds paid for with about a fifth
/// of its CPU time, and which on a loaded machine takes cores from the thread that still has work.
/// </summary>
internal sealed class LockstepWorkers : IDisposable
{
    private const int ChunksPerParticipant = 16;
    private const int CallerSpins = 20;
    private const int SlotLongs = 8; // one cache line per participant's counters
    private const long FrontMask = 0xFFFF; // chunks claimed from the front (the caller) ...
    private const int BackShift = 16; // ... and from the back (the dedicated threads)
    private const int MaxChunks = 0xFFFF;

    private readonly Action<int, int> _defaultRange;
    private Action<int, int> _range; // this phase's body (published to the workers by their wake-up)
    private readonly int _items;
    private readonly int _chunks;
    private readonly int _participants;
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
    private readonly long[] _slots;
    private long _state; // generation << 32 | chunks claimed from the back << 16 | chunks claimed from the front
    private int _completed;
    private int _active; // participants inside Participate (their CPU counters are written when they leave)
    private volatile bool _stopping;
    private Action? _side; // a job for the first dedicated thread, run before it next joins a phase
    private readonly ManualResetEventSlim _sideDone = new(true, spinCount: 0);
    private long _sideCpu;
    private Exception? _sideFailure;

    /// <summary>Starts the dedicated threads; <paramref name="range"/> runs items [from, to) and must not depend on the thread.</summary>
    public LockstepWorkers(int participants, int items, Action<int, int> range)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        _defaultRange = range;
        _range = range;
        _items = items;
        _participants = participants;
        _chunks = participants == 1 ? 1 : Math.Max(1, Math.Min(Math.Min(items, participants * ChunksPerParticipant), MaxChunks));
        _slots = new long[participants * SlotLongs];
        _state = (long)_chunks; // generation 0 has nothing left to claim
        _threads = new Thread[participants - 1];
        _wake = new SemaphoreSlim[participants - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            var participant = i + 1;
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => WorkerLoop(participant)) { IsBackground = true, Name = $"fleet-worker-{participant}" };
            _threads[i].Start();
        }
    }

    /// <summary>
    /// Runs every item once, on the caller and the dedicated threads, and returns once all are done. The result
    /// bounds the phase's wall time on idle cores from the CPU time the threads used (nanoseconds): list scheduling
    /// of the chunks takes at most total / participants + (1 - 1 / participants) * the longest chunk.
    /// </summary>
    public long Run() => Run(_defaultRange);

    /// <summary>
    /// <see cref="Run()"/> with another body for this phase only (the world step's per-robot parts use the same
    /// threads); <paramref name="range"/> runs items [from, to) and must not depend on the thread.
    /// </summary>
    public long Run(Action<int, int> range)
    {
        _range = range;
        Array.Clear(_slots);
        _done.Reset();
        _completed = 0;
        var generation = (Volatile.Read(ref _state) >> 32) + 1;
        Volatile.Write(ref _state, generation << 32);
        foreach (var wake in _wake)
        {
            wake.Release();
        }

        Participate(0);

        // Done when every chunk is and every participant has left (a thread woken late may enter and find nothing,
        // and its wake-up may be for the previous phase: the condition is checked again after each signal). What is
        // left is at most a chunk in flight, so the caller spins (yielding) for a few rounds before it sleeps: a
        // sleeping caller has to wait for the scheduler when the chunk ends.
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _completed) < _chunks || Volatile.Read(ref _active) > 0)
        {
            if (spinner.Count < CallerSpins)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            _done.Wait();
            _done.Reset();
        }

        long total = 0;
        long longestChunk = 0;
        for (var p = 0; p < _participants; p++)
        {
            var cpu = Volatile.Read(ref _slots[p * SlotLongs]);
            var chunks = Volatile.Read(ref _slots[(p * SlotLongs) + 1]);
            total += cpu;
            if (chunks > 0)
            {
                longestChunk = Math.Max(longestChunk, cpu / chunks);
            }
        }

        LastCallerCpu = Volatile.Read(ref _slots[0]);
        LastTotalCpu = total;
        return (total / _participants) + (longestChunk - (longestChunk / _participants));
    }

    /// <summary>CPU time (nanoseconds) the caller spent on chunks in the last <see cref="Run()"/>: part of the caller's own CPU clock.</summary>
    public long LastCallerCpu { get; private set; }

    /// <summary>CPU time (nanoseconds) all participants spent on chunks in the last <see cref="Run()"/>.</summary>
    public long LastTotalCpu { get; private set; }

    /// <summary>
    /// Hands <paramref name="job"/> to the first dedicated thread, which runs it before it next joins a phase; phases
    /// run meanwhile go on without that thread (the caller and the others claim its chunks), so the job overlaps them
    /// without changing what they compute. <see cref="JoinSide"/> waits for it. One job at a time; needs two or more
    /// participants. The job must not touch what the phases touch.
    /// </summary>
    public void StartSide(Action job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (_threads.Length == 0)
        {
            throw new InvalidOperationException("a side job needs a dedicated thread (two or more participants)");
        }

        if (!_sideDone.IsSet)
        {
            throw new InvalidOperationException("a side job is already running");
        }

        _sideDone.Reset();
        _sideFailure = null;
        Volatile.Write(ref _side, job);
        _wake[0].Release();
    }

    /// <summary>Waits for the job of <see cref="StartSide"/> and returns the CPU time (nanoseconds) it took on its thread; rethrows what it threw.</summary>
    public long JoinSide()
    {
        _sideDone.Wait();
        if (_sideFailure is { } failure)
        {
            _sideFailure = null;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return Volatile.Read(ref _sideCpu);
    }

    /// <summary>Stops and joins the dedicated threads.</summary>
    public void Dispose()
    {
        _stopping = true;
        foreach (var wake in _wake)
        {
            wake.Release();
        }

        foreach (var thread in _threads)
        {
            thread.Join();
        }

        foreach (var wake in _wake)
        {
            wake.Dispose();
        }

        _done.Dispose();
        _sideDone.Dispose();
    }

    private void WorkerLoop(int participant)
    {
        var wake = _wake[participant - 1];
        while (true)
        {
            wake.Wait();
            if (_stopping)
            {
                return;
            }

            // A side job takes this wake-up; the phase wake-ups released meanwhile are still counted, so the thread
            // joins a phase still running once the job is done (or finds it finished, which costs nothing).
            if (participant == 1 && Interlocked.Exchange(ref _side, null) is { } job)
            {
                RunSide(job);
                continue;
            }

            Participate(participant);
        }
    }

    private void RunSide(Action job)
    {
        var start = CpuClock.ThreadNanoseconds();
        try
        {
            job();
        }
        catch (Exception ex)
        {
            _sideFailure = ex;
        }

        Volatile.Write(ref _sideCpu, CpuClock.ThreadNanoseconds() - start);
        _sideDone.Set();
    }

    private void Participate(int participant)
    {
        // Entered before claiming anything, so the phase cannot end while this thread may still claim or report.
        Interlocked.Increment(ref _active);
        var start = CpuClock.ThreadNanoseconds();
        long done = 0;
        // The caller claims from the front of the range and the dedicated threads from the back, so a robot's state
        // tends to stay in the cache of the core that ran it last phase; who runs a chunk changes nothing else.
        var fromFront = participant == 0;
        while (true)
        {
            var state = Volatile.Read(ref _state);
            var front = (int)(state & FrontMask);
            var back = (int)((state >> BackShift) & FrontMask);
            if (front + back >= _chunks)
            {
                break;
            }

            var claimed = fromFront ? state + 1 : state + (1L << BackShift);
            if (Interlocked.CompareExchange(ref _state, claimed, state) != state)
            {
                continue;
            }

            var next = fromFront ? front : _chunks - 1 - back;

            _range((int)((long)_items * next / _chunks), (int)((long)_items * (next + 1) / _chunks));
            done++;
            Interlocked.Increment(ref _completed);
        }

        if (done > 0)
        {
            var slot = participant * SlotLongs;
            Volatile.Write(ref _slots[slot], CpuClock.ThreadNanoseconds() - start);
            Volatile.Write(ref _slots[slot + 1], done);
        }

        if (Interlocked.Decrement(ref _active) == 0)
        {
            _done.Set();
        }
    }
}
