using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>
/// One per silo: robot grains leave their latest <see cref="RobotSummary"/> here (a dictionary write, no grain call),
/// and every <see cref="DashboardOptions.FlushInterval"/> the changed ones go to their site's
/// <see cref="IFleetBoardGrain"/> in one call per site. With 10,000 robots at 5 Hz that is two calls a second per
/// silo and site instead of 50,000, and it works unchanged with several silos (each sends what its robots saw).
/// </summary>
public sealed partial class FleetBoardFeed(IGrainFactory grains, IOptions<DashboardOptions> options, TimeProvider timeProvider, ILogger<FleetBoardFeed> logger) : BackgroundService
{
    private ConcurrentDictionary<string, RobotSummary> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _escalations = new(StringComparer.Ordinal);

    /// <summary>Leaves a robot's summary for the next flush (the latest one wins).</summary>
    public void Offer(RobotSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        if (summary.SiteId.Length > 0)
        {
            _pending[summary.RobotId] = summary;
        }
    }

    /// <summary>Counts an escalation the cloud answered for a robot of <paramref name="siteId"/>.</summary>
    public void CountEscalation(string siteId)
    {
        if (!string.IsNullOrEmpty(siteId))
        {
            _escalations.AddOrUpdate(siteId, 1, (_, n) => n + 1);
        }
    }

    /// <summary>Sends what is pending now (the timer calls this; tests and shutdown may too).</summary>
    public async Task FlushAsync()
    {
        var batch = Interlocked.Exchange(ref _pending, new ConcurrentDictionary<string, RobotSummary>(StringComparer.Ordinal));
        var bySite = batch.Values.GroupBy(s => s.SiteId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        foreach (var site in _escalations.Keys)
        {
            bySite.TryAdd(site, []);
        }

        foreach (var (site, summaries) in bySite)
        {
            var escalations = _escalations.TryRemove(site, out var n) ? n : 0;
            try
            {
                await grains.GetGrain<IFleetBoardGrain>(site).MergeAsync(summaries, escalations).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The board is a view: losing one flush only delays it (the next summaries replace these).
                LogFlushFailed(logger, ex, site, summaries.Length);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FlushInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "Dashboard feed: sending {Count} robot summaries to the board of site {SiteId} failed")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, string siteId, int count);
}
