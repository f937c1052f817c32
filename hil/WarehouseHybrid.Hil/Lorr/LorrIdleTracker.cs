using WarehouseHybrid.Domain.Actions;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// Watches for robots frozen with work to do (deadlock or livelock in a corridor): a robot is idle
/// while it holds a task and stays on the same cell; the tracker counts the robots whose idle run
/// ever exceeded <see cref="Limit"/> steps, the longest run, and those over the limit at the end.
/// </summary>
public sealed class LorrIdleTracker
{
    private readonly int[] _cell;
    private readonly int[] _run;
    private readonly bool[] _counted;

    /// <summary>Creates a tracker for <paramref name="robots"/> robots with the limit K = <paramref name="limit"/> steps.</summary>
    public LorrIdleTracker(int robots, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(robots);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        Limit = limit;
        _cell = new int[robots];
        Array.Fill(_cell, -1);
        _run = new int[robots];
        _counted = new bool[robots];
    }

    /// <summary>K: idle runs longer than this many steps count.</summary>
    public int Limit { get; }

    /// <summary>Robots whose idle run exceeded <see cref="Limit"/> at some point.</summary>
    public int RobotsOverLimit { get; private set; }

    /// <summary>Longest idle run seen, in steps.</summary>
    public int LongestRun { get; private set; }

    /// <summary>Robots idle for more than <see cref="Limit"/> steps right now.</summary>
    public int OverLimitNow
    {
        get
        {
            var n = 0;
            foreach (var r in _run)
            {
                if (r > Limit)
                {
                    n++;
                }
            }

            return n;
        }
    }

    /// <summary>Records one step: each robot's pose after it and whether it held a task during it.</summary>
    public void Observe(ReadOnlySpan<RobotPose> poses, Func<int, bool> hasTask)
    {
        ArgumentNullException.ThrowIfNull(hasTask);
        for (var i = 0; i < poses.Length && i < _run.Length; i++)
        {
            var stayed = poses[i].Cell == _cell[i];
            _cell[i] = poses[i].Cell;
            _run[i] = stayed && hasTask(i) ? _run[i] + 1 : 0;
            if (_run[i] > LongestRun)
            {
                LongestRun = _run[i];
            }

            if (_run[i] > Limit && !_counted[i])
            {
                _counted[i] = true;
                RobotsOverLimit++;
            }
        }
    }
}
