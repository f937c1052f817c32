using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Domain.Maps;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>Initialises the configured site (map file + roster) once the silo is up; does nothing without a map file.</summary>
internal sealed partial class SiteBootstrapper(IOptions<CloudOptions> options, IGrainFactory grains, ILogger<SiteBootstrapper> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.MapFile is null)
        {
            return;
        }

        var map = GridMapReader.Load(o.MapFile);
        var definition = SiteDefinition.Create(map, o.Robots.Select(r => new RobotSeat(r.Id, r.Cell, r.Heading)));
        await grains.GetGrain<ISiteGrain>(o.SiteId).InitializeAsync(definition).WaitAsync(cancellationToken).ConfigureAwait(false);
        LogSiteStarted(logger, o.SiteId, o.MapFile, definition.Robots.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Site {SiteId} initialised from {MapFile} with {Robots} robots")]
    private static partial void LogSiteStarted(ILogger logger, string siteId, string mapFile, int robots);
}
