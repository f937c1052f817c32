using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Distances;
using WarehouseHybrid.Planning.Routing;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// The 2023-rules entrant: the system assigns each robot its goals, so the entrant only routes.
/// Each robot heads for its first system goal with the project's PIBT router over exact
/// (cell, heading) distance tables; priority goes to robots longest without reaching a goal, then
/// nearest to it, then a fixed random rank.
/// </summary>
public sealed class AssignedGoalsEntrant : ILorrEntrant
{
    private readonly DistanceTableCache _cache;
    private readonly PibtRouter _router;
    private readonly Random _rng;
    private readonly int[] _tieBreak;
    private readonly int[] _sinceProgress;
    private readonly int[] _lastGoal;
    private readonly TimeProvider _time;

    /// <summary>Creates the entrant for <paramref name="robotCount"/> robots.</summary>
    public AssignedGoalsEntrant(GridMap map, int robotCount, int seed = 0, long cacheBytes = 512L * 1024 * 1024, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        _time = timeProvider ?? TimeProvider.System;
        var grid = new CompactGrid(map);
        _cache = new DistanceTableCache(grid, cacheBytes);
        _router = new PibtRouter(grid);
        _rng = new Random(seed);
        _tieBreak = Enumerable.Range(0, robotCount).ToArray();
        _rng.Shuffle(_tieBreak);
        _sinceProgress = new int[robotCount];
        _lastGoal = Enumerable.Repeat(-1, robotCount).ToArray();
    }

    /// <inheritdoc />
    public void Reveal(int taskId, int[] errands)
    {
        // 2023 rules: tasks come as system goals in the observation.
    }

    /// <inheritdoc />
    public LorrDecision Compute(LorrObservation observation, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var poses = observation.Poses;
        var n = poses.Length;
        var actions = new RobotAction[n];
        Array.Fill(actions, RobotAction.Wait);
        var goals = observation.SystemGoals;
        if (goals is null || goals.Length != n)
        {
            return new LorrDecision(actions, null);
        }

        var start = _time.GetTimestamp();
        bool Late() => cancellationToken.IsCancellationRequested || _time.GetElapsedTime(start) >= budget;

        var goalCells = new HashSet<int>();
        for (var i = 0; i < n; i++)
        {
            var g = goals[i].Count > 0 ? goals[i][0] : -1;
            if (g >= 0)
            {
                goalCells.Add(g);
            }

            _sinceProgress[i] = g == _lastGoal[i] ? _sinceProgress[i] + 1 : 0;
            _lastGoal[i] = g;
        }

        if (!_cache.Prefetch(goalCells, Environment.ProcessorCount, Late, cancellationToken))
        {
            return new LorrDecision(actions, null);
        }

        var tables = new HeadingDistanceTable?[n];
        var keys = new long[n];
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
            var g = _lastGoal[i];
            if (g < 0)
            {
                keys[i] = long.MaxValue - n + _tieBreak[i];
                continue;
            }

            var table = _cache.Get(g);
            tables[i] = table;
            var wait = Math.Min(_sinceProgress[i], (1 << 20) - 1);
            var dist = Math.Min(table.Distance(poses[i].Cell, poses[i].Heading), ushort.MaxValue);
            keys[i] = ((long)((1 << 20) - wait) << 40) | ((long)dist << 20) | (uint)_tieBreak[i];
        }

        Array.Sort(keys, order);
        if (_router.Plan(poses, order, tables, _rng, actions, Late) < 0)
        {
            Array.Fill(actions, RobotAction.Wait);
        }

        return new LorrDecision(actions, null);
    }
}
