using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Grains;

namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>One point of a site's time series (sampled every <see cref="DashboardOptions.SampleInterval"/>).</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.SeriesPoint")]
public sealed record SeriesPoint
{
    /// <summary>Cloud clock, Unix ms.</summary>
    [Id(0)] public long UnixMs { get; init; }

    /// <summary>The site's step.</summary>
    [Id(1)] public uint Step { get; init; }

    /// <summary>Tasks finished per minute since the previous point.</summary>
    [Id(2)] public double TasksPerMinute { get; init; }

    /// <summary>Steps dispatched per second since the previous point.</summary>
    [Id(3)] public double StepsPerSecond { get; init; }

    /// <summary>Median plan time over the site's recent window (ms).</summary>
    [Id(4)] public double PlanP50Ms { get; init; }

    /// <summary>99th percentile plan time over the site's recent window (ms).</summary>
    [Id(5)] public double PlanP99Ms { get; init; }

    /// <summary>Share of robots with a learned model whose last decision was the rule policy or the shield.</summary>
    [Id(6)] public double FallbackShare { get; init; }

    /// <summary>Share of robots whose last decision was waiting on an escalation.</summary>
    [Id(7)] public double EscalatingShare { get; init; }

    /// <summary>Escalations the cloud answered per minute since the previous point.</summary>
    [Id(8)] public double EscalationsPerMinute { get; init; }

    /// <summary>Robots whose edge reports input drift.</summary>
    [Id(9)] public int DriftingRobots { get; init; }

    /// <summary>Tasks finished in total.</summary>
    [Id(10)] public long TasksFinished { get; init; }
}

/// <summary>What a site board holds: the latest summary of every robot heard from, and the time series.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.BoardView")]
public sealed record BoardView
{
    /// <summary>Latest summaries (any order).</summary>
    [Id(0)] public RobotSummary[] Robots { get; init; } = [];

    /// <summary>The time series, oldest first.</summary>
    [Id(1)] public SeriesPoint[] Series { get; init; } = [];
}

/// <summary>A site's dashboard board (key: site id): per-robot summaries from every silo's feed, and a time series.</summary>
[Alias("wh.cloud.IFleetBoardGrain")]
public interface IFleetBoardGrain : IGrainWithStringKey
{
    /// <summary>Takes a silo's changed summaries and the escalations it answered since its last flush.</summary>
    [Alias("Merge")]
    Task MergeAsync(RobotSummary[] summaries, long escalationsAnswered);

    /// <summary>The board now.</summary>
    [Alias("GetView")]
    Task<BoardView> GetViewAsync();
}

/// <summary>
/// The site board: a view, kept in memory only (it refills from telemetry within a flush interval after a restart).
/// Samples the site grain's statistics on a timer into a bounded series.
/// </summary>
public sealed class FleetBoardGrain(IOptions<DashboardOptions> options, TimeProvider timeProvider) : Grain, IFleetBoardGrain
{
    private readonly Dictionary<string, RobotSummary> _robots = new(StringComparer.Ordinal);
    private readonly Queue<SeriesPoint> _series = new();
    private long _escalations;
    private long _escalationsAtLastPoint;
    private SeriesPoint? _last;
    private long _lastSteps;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(SampleAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = options.Value.SampleInterval,
            KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task MergeAsync(RobotSummary[] summaries, long escalationsAnswered)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        foreach (var s in summaries)
        {
            _robots[s.RobotId] = s;
        }

        _escalations += escalationsAnswered;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<BoardView> GetViewAsync() => Task.FromResult(new BoardView { Robots = [.. _robots.Values], Series = [.. _series] });

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        var stats = await GrainFactory.GetGrain<ISiteGrain>(this.GetPrimaryKeyString()).GetStatsAsync();
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        int withModel = 0, fallback = 0, escalating = 0, drifting = 0;
        foreach (var r in _robots.Values)
        {
            if (r.ModelVersion.Length > 0)
            {
                withModel++;
                fallback += r.DecisionMode is 2 or 3 ? 1 : 0;
            }

            escalating += r.DecisionMode == 4 ? 1 : 0;
            drifting += r.Drifting ? 1 : 0;
        }

        var minutes = _last is null ? 0 : Math.Max(1, now - _last.UnixMs) / 60_000.0;
        var point = new SeriesPoint
        {
            UnixMs = now,
            Step = stats.Step,
            TasksFinished = stats.TasksFinished,
            TasksPerMinute = _last is null ? 0 : (stats.TasksFinished - _last.TasksFinished) / minutes,
            StepsPerSecond = _last is null ? 0 : (stats.StepsDispatched - _lastSteps) / (minutes * 60),
            PlanP50Ms = stats.PlanTimeP50Ms,
            PlanP99Ms = stats.PlanTimeP99Ms,
            FallbackShare = withModel == 0 ? 0 : (double)fallback / withModel,
            EscalatingShare = _robots.Count == 0 ? 0 : (double)escalating / _robots.Count,
            EscalationsPerMinute = _last is null ? 0 : (_escalations - _escalationsAtLastPoint) / minutes,
            DriftingRobots = drifting,
        };
        _last = point;
        _lastSteps = stats.StepsDispatched;
        _escalationsAtLastPoint = _escalations;
        _series.Enqueue(point);
        while (_series.Count > options.Value.SeriesLength)
        {
            _series.Dequeue();
        }
    }
}
