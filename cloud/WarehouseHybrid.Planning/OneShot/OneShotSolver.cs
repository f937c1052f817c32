namespace WarehouseHybrid.Planning.OneShot;

/// <summary>Options of <see cref="OneShotSolver"/>.</summary>
public sealed record MapfSolverOptions
{
    /// <summary>Wall-clock budget for everything: distance tables, the first solution and its improvement.</summary>
    public required TimeSpan TimeBudget { get; init; }

    /// <summary>Seed of every random choice (tie-breaks, neighbourhoods); equal seeds give equal runs when the budget is not the limit.</summary>
    public int Seed { get; init; }

    /// <summary>Threads for the distance tables and the refiner.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Improve the first solution (LNS) until the budget ends.</summary>
    public bool Refine { get; init; } = true;

    /// <summary>Use PIBT's swap technique (LaCAM*).</summary>
    public bool Swap { get; init; } = true;

    /// <summary>Cost of a move against its lane in PIBT's guidance tables (1: plain shortest distances); see <see cref="AgentDistances"/>.</summary>
    public int LaneCost { get; init; } = 2;

    /// <summary>Agents replanned together per LNS iteration.</summary>
    public int NeighbourhoodSize { get; init; } = 8;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (TimeBudget <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TimeBudget), TimeBudget, "MapfSolverOptions.TimeBudget must be positive");
        }

        if (Threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "MapfSolverOptions.Threads must be at least 1");
        }

        if (LaneCost < 1 || LaneCost > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(LaneCost), LaneCost, "MapfSolverOptions.LaneCost must be in 1..8");
        }

        if (NeighbourhoodSize < 1 || NeighbourhoodSize > LnsRefiner.MaxNeighbourhood)
        {
            throw new ArgumentOutOfRangeException(nameof(NeighbourhoodSize), NeighbourhoodSize, $"MapfSolverOptions.NeighbourhoodSize must be in 1..{LnsRefiner.MaxNeighbourhood}");
        }
    }
}

/// <summary>A progress report of a running solve.</summary>
/// <param name="Phase">"distances", "lacam", "refine" or "done".</param>
/// <param name="Elapsed">Time since the solve began.</param>
/// <param name="SumOfCosts">The best solution's sum of costs, or null before the first solution.</param>
/// <param name="Iterations">Iterations of the current phase.</param>
/// <param name="Detail">Phase-specific counters for people reading the log, or null.</param>
public sealed record MapfProgress(string Phase, TimeSpan Elapsed, long? SumOfCosts, long Iterations, string? Detail = null);

/// <summary>The outcome of a solve.</summary>
public sealed record MapfResult
{
    /// <summary>How the search ended.</summary>
    public required MapfStatus Status { get; init; }

    /// <summary>One cell sequence per agent (index = time; the agent then stays), null unless solved.</summary>
    public int[][]? Paths { get; init; }

    /// <summary>Sum over agents of the time each last arrives at its goal.</summary>
    public long SumOfCosts { get; init; }

    /// <summary>The latest such arrival.</summary>
    public int Makespan { get; init; }

    /// <summary>Sum of single-agent shortest path lengths (4-connected), or -1 when the tables were not finished.</summary>
    public long LowerBound { get; init; }

    /// <summary>Sum of costs of LaCAM's first solution.</summary>
    public long InitialSumOfCosts { get; init; }

    /// <summary>Time from the start of the solve to LaCAM's first solution.</summary>
    public TimeSpan TimeToFirstSolution { get; init; }

    /// <summary>Time spent computing distance tables.</summary>
    public TimeSpan DistanceTime { get; init; }

    /// <summary>Time of the whole solve.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Share of the distance tables' cells computed by the end (they are lazy).</summary>
    public double TableFractionComputed { get; init; }

    /// <summary>LaCAM high-level nodes (configurations) generated.</summary>
    public long LacamNodes { get; init; }

    /// <summary>LNS iterations run.</summary>
    public long RefineIterations { get; init; }

    /// <summary>LNS iterations whose paths were kept.</summary>
    public long RefineAccepted { get; init; }

    /// <summary>Why the solve failed, or (when solved) why the refinement stopped early; null otherwise.</summary>
    public string? Reason { get; init; }
}

/// <summary>
/// The one-shot MAPF solver (Moving AI rules; ADR 0008): exact distance tables per goal on all
/// cores, LaCAM with PIBT (and its swap technique) for a first solution fast, then anytime
/// improvement of the sum of costs by MAPF-LNS with SIPP until the budget ends. Pure: input in,
/// paths out, time from the given <see cref="TimeProvider"/>.
/// </summary>
public static class OneShotSolver
{
    // PIBT recurses once per agent of a push chain; 10,000 agents need more than the default 1 MB.
    private const int StackBytes = 256 * 1024 * 1024;

    /// <summary>Solves on a dedicated thread (large stack) and completes when done.</summary>
    public static Task<MapfResult> SolveAsync(
        MapfProblem problem,
        MapfSolverOptions options,
        TimeProvider? time = null,
        Action<MapfProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var done = new TaskCompletionSource<MapfResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(
            () =>
            {
                try
                {
                    done.SetResult(Solve(problem, options, time ?? TimeProvider.System, progress, cancellationToken));
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            },
            StackBytes)
        {
            IsBackground = true,
            Name = "one-shot MAPF",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>Solves on the calling thread (which needs a large stack for thousands of agents).</summary>
    public static MapfResult Solve(
        MapfProblem problem,
        MapfSolverOptions options,
        TimeProvider time,
        Action<MapfProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        var started = time.GetTimestamp();
        var budget = options.TimeBudget;
        TimeSpan Elapsed() => time.GetElapsedTime(started);
        bool Expired() => cancellationToken.IsCancellationRequested || Elapsed() >= budget;

        progress?.Invoke(new MapfProgress("distances", Elapsed(), null, 0));
        var dist = AgentDistances.Compute(problem, options.Threads, Expired, options.LaneCost);
        var distanceTime = Elapsed();
        if (dist is null)
        {
            return Failed(MapfStatus.TimedOut, "the time budget ended while computing distance tables", -1, distanceTime, Elapsed());
        }

        long lowerBound = 0;
        for (var i = 0; i < problem.AgentCount; i++)
        {
            var d = dist.TrueDistance(i);
            if (d == AgentDistances.Unreachable)
            {
                return Failed(MapfStatus.Unsolvable, $"agent {i} cannot reach its goal cell {problem.GoalArray[i]} from its start cell {problem.StartArray[i]}", -1, distanceTime, Elapsed());
            }

            lowerBound += d;
        }

        progress?.Invoke(new MapfProgress("lacam", Elapsed(), null, 0));
        var lastReport = Elapsed();
        LacamSearch? lacam = new LacamSearch(problem, dist, options.Seed, options.Swap);
        var status = lacam.Run(
            Expired,
            s =>
            {
                var now = Elapsed();
                if (now - lastReport >= TimeSpan.FromSeconds(1))
                {
                    lastReport = now;
                    progress?.Invoke(new MapfProgress("lacam", now, null, s.NodeCount, $"configurations {s.NodeCount}, iterations {s.Iterations}, revisits {s.Revisits}, failed constraint sets {s.Failures}"));
                }
            },
            out var configurations);
        if (status != MapfStatus.Solved)
        {
            var why = status == MapfStatus.Unsolvable
                ? "LaCAM exhausted every configuration reachable from the starts: no solution exists"
                : $"no solution within the time budget ({lacam.NodeCount} configurations explored)";
            return Failed(status, why, lowerBound, distanceTime, Elapsed()) with { LacamNodes = lacam.NodeCount };
        }

        var firstTime = Elapsed();
        var lacamNodes = lacam.NodeCount;
        progress?.Invoke(new MapfProgress("lacam", firstTime, null, lacam.NodeCount, $"configurations {lacam.NodeCount}, iterations {lacam.Iterations}, revisits {lacam.Revisits}, failed constraint sets {lacam.Failures}; distance tables {dist.SettledFraction:P1} computed"));
        var paths = PathsOf(configurations, problem.GoalArray);

        // The search tree (a configuration, priorities and order per step) is garbage from here on.
        configurations.Clear();
        lacam = null;
        var initial = paths.Sum(p => (long)p.Length - 1);
        var soc = initial;
        long iterations = 0, accepted = 0;
        string? refineError = null;
        if (options.Refine && !Expired())
        {
            // The refiners replace path arrays, never edit them, so this shallow copy is the first
            // solution: it is what is returned should a refiner fail (every returned plan is valid).
            var firstPaths = (int[][])paths.Clone();
            try
            {
                progress?.Invoke(new MapfProgress("refine", Elapsed(), soc, 0));
                var lns = new LnsRefiner(problem, dist, paths, options.Seed, Expired) { NeighbourhoodSize = options.NeighbourhoodSize };

                // Goal holds first (by far the most saved per second), with wider detour windows and
                // more intruders allowed on each later pass.
                for (var pass = 0; pass < 3 && !Expired(); pass++)
                {
                    var saved = lns.HoldGoals(
                        Expired,
                        margin: 16 << pass,
                        maxIntruders: 16 << pass,
                        l =>
                        {
                            var now = Elapsed();
                            if (now - lastReport >= TimeSpan.FromSeconds(1))
                            {
                                lastReport = now;
                                progress?.Invoke(new MapfProgress("hold", now, l.SumOfCosts, l.Holds, l.HoldDetail));
                            }
                        });
                    soc = lns.SumOfCosts;
                    progress?.Invoke(new MapfProgress("hold", Elapsed(), soc, lns.Holds, lns.HoldDetail));
                    if (saved == 0)
                    {
                        break;
                    }
                }

                // Stop early when the search has stalled for long (small instances reach a local
                // optimum in well under a second; on large ones this never triggers before the budget).
                var stall = Math.Max(2_000L, 20L * problem.AgentCount);
                var lastGain = 0L;
                while (!Expired() && soc > lowerBound && lns.Iterations - lastGain < stall)
                {
                    if (lns.Step() > 0)
                    {
                        lastGain = lns.Iterations;
                    }

                    soc = lns.SumOfCosts;
                    var now = Elapsed();
                    if (now - lastReport >= TimeSpan.FromSeconds(1))
                    {
                        lastReport = now;
                        progress?.Invoke(new MapfProgress("refine", now, soc, lns.Iterations, lns.Detail));
                    }
                }

                iterations = lns.Iterations;
                accepted = lns.Accepted;
            }
            catch (InvalidOperationException ex)
            {
                paths = firstPaths;
                soc = initial;
                refineError = "refinement stopped, the first solution is returned: " + ex.Message;
            }
        }

        var result = new MapfResult
        {
            Status = MapfStatus.Solved,
            Paths = paths,
            SumOfCosts = soc,
            Makespan = paths.Max(p => p.Length - 1),
            LowerBound = lowerBound,
            InitialSumOfCosts = initial,
            TimeToFirstSolution = firstTime,
            DistanceTime = distanceTime,
            Elapsed = Elapsed(),
            LacamNodes = lacamNodes,
            TableFractionComputed = dist.SettledFraction,
            RefineIterations = iterations,
            RefineAccepted = accepted,
            Reason = refineError,
        };
        progress?.Invoke(new MapfProgress("done", result.Elapsed, soc, iterations));
        return result;
    }

    /// <summary>Per-agent paths from a configuration sequence, each trimmed after its last arrival at its goal.</summary>
    internal static int[][] PathsOf(List<int[]> configurations, int[] goals)
    {
        var n = goals.Length;
        var paths = new int[n][];
        for (var i = 0; i < n; i++)
        {
            var cost = configurations.Count - 1;
            while (cost > 0 && configurations[cost - 1][i] == goals[i])
            {
                cost--;
            }

            var p = new int[cost + 1];
            for (var t = 0; t <= cost; t++)
            {
                p[t] = configurations[t][i];
            }

            paths[i] = p;
        }

        return paths;
    }

    private static MapfResult Failed(MapfStatus status, string reason, long lowerBound, TimeSpan distanceTime, TimeSpan elapsed) => new()
    {
        Status = status,
        Reason = reason,
        LowerBound = lowerBound,
        DistanceTime = distanceTime,
        Elapsed = elapsed,
    };
}
