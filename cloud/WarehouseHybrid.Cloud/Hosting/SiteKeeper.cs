using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Grains;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>
/// Pings every defined site at <see cref="CloudClusterOptions.SiteKeepAliveInterval"/>. A site grain is activated by
/// any call, so when the silo hosting a site dies, the next ping from a surviving silo reactivates the site there and
/// it resumes from its checkpoint, whether or not a robot happens to report.
/// </summary>
internal sealed partial class SiteKeeper(IGrainFactory grains, IOptions<CloudOptions> options, TimeProvider timeProvider, ILogger<SiteKeeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Cluster.SiteKeepAliveInterval, timeProvider);
        var failing = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var sites = await grains.GetGrain<ISiteDirectoryGrain>(SiteDirectoryGrain.Key).ListAsync().ConfigureAwait(false);
                    foreach (var site in sites)
                    {
                        await grains.GetGrain<ISiteGrain>(site).PingAsync().ConfigureAwait(false);
                    }

                    failing = false;
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // The cluster may be re-forming after a silo died; the next tick tries again.
                    if (!failing)
                    {
                        LogPingFailed(logger, ex.Message);
                    }

                    failing = true;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "Could not reach the sites (retrying every tick): {Error}")]
    private static partial void LogPingFailed(ILogger logger, string error);
}
