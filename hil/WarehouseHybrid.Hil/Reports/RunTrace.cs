namespace WarehouseHybrid.Hil.Reports;

/// <summary>
/// What a run leaves for its plots: sampled ground-truth trajectories, each rig tick's wall time, and each robot's
/// decision-mode changes. Bounded: trajectories are sampled, tick times downsampled to the slowest per bucket.
/// </summary>
public sealed class RunTrace
{
    private const int MaxTickPoints = 4000;
    private readonly List<(double T, double Ms)> _ticks = [];
    private double _bucketSeconds = 0.05;
    private double _bucketStart;
    private double _bucketMax = -1;
    private readonly List<double> _allTicks = [];

    /// <summary>Creates a trace for robots with these ids.</summary>
    public RunTrace(IReadOnlyList<string> robotIds)
    {
        RobotIds = robotIds;
        Trajectories = [.. robotIds.Select(_ => new List<(double X, double Y)>())];
        Modes = [.. robotIds.Select(_ => new List<(double T, string Mode)>())];
    }

    /// <summary>Robot ids, by index.</summary>
    public IReadOnlyList<string> RobotIds { get; }

    /// <summary>Sampled (x, y) per robot, metres.</summary>
    public List<(double X, double Y)>[] Trajectories { get; }

    /// <summary>(time, mode) per robot, one entry per change.</summary>
    public List<(double T, string Mode)>[] Modes { get; }

    /// <summary>(time, tick ms), the slowest tick of each bucket.</summary>
    public IReadOnlyList<(double T, double Ms)> Ticks => _ticks;

    /// <summary>Fault windows (id, start, end) for shading.</summary>
    public List<(string Id, double Start, double End)> FaultWindows { get; } = [];

    /// <summary>Records a robot's position.</summary>
    public void Position(int robot, double x, double y) => Trajectories[robot].Add((x, y));

    /// <summary>Records a robot's mode when it changed.</summary>
    public void Mode(int robot, double t, string mode)
    {
        var list = Modes[robot];
        if (list.Count == 0 || list[^1].Mode != mode)
        {
            list.Add((t, mode));
        }
    }

    /// <summary>Records one rig tick's wall time.</summary>
    public void Tick(double t, double ms)
    {
        _allTicks.Add(ms);
        if (t - _bucketStart >= _bucketSeconds)
        {
            if (_bucketMax >= 0)
            {
                _ticks.Add((_bucketStart, _bucketMax));
            }

            _bucketStart = t;
            _bucketMax = -1;
            if (_ticks.Count >= MaxTickPoints)
            {
                // Halve the resolution: keep the slower of each pair.
                var merged = new List<(double, double)>();
                for (var i = 0; i + 1 < _ticks.Count; i += 2)
                {
                    merged.Add((_ticks[i].T, Math.Max(_ticks[i].Ms, _ticks[i + 1].Ms)));
                }

                _ticks.Clear();
                _ticks.AddRange(merged);
                _bucketSeconds *= 2;
            }
        }

        _bucketMax = Math.Max(_bucketMax, ms);
    }

    /// <summary>p50, p99 and max of every tick, ms.</summary>
    public double[] TickPercentiles()
    {
        if (_allTicks.Count == 0)
        {
            return [];
        }

        var sorted = _allTicks.ToArray();
        Array.Sort(sorted);
        return [sorted[sorted.Length / 2], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))], sorted[^1]];
    }
}
