using System.Collections.Concurrent;
using WarehouseHybrid.Cloud.Grains;

namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>
/// Answers the dashboard's documents from the grains: the map (cached per site with its roster index: a site's map
/// and roster never change once it runs) and the live snapshot (one site call and one board call, joined in plain code).
/// </summary>
public sealed class DashboardQueries(IGrainFactory grains, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, (SiteMapView Map, Dictionary<string, int> Index)> _maps = new(StringComparer.Ordinal);

    /// <summary>The site's map, or null when the site has no definition yet.</summary>
    public async Task<SiteMapView?> GetMapAsync(string siteId) => (await MapAsync(siteId).ConfigureAwait(false))?.Map;

    /// <summary>The live snapshot, or null when the site has no definition yet.</summary>
    public async Task<DashboardSnapshot?> GetSnapshotAsync(string siteId)
    {
        var map = await MapAsync(siteId).ConfigureAwait(false);
        if (map is null)
        {
            return null;
        }

        var liveTask = grains.GetGrain<ISiteGrain>(siteId).GetLiveViewAsync();
        var boardTask = grains.GetGrain<IFleetBoardGrain>(siteId).GetViewAsync();
        var live = await liveTask.ConfigureAwait(false);
        var board = await boardTask.ConfigureAwait(false);
        return live is null ? null : DashboardSnapshotBuilder.Build(live, board, map.Value.Index, timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
    }

    private async Task<(SiteMapView Map, Dictionary<string, int> Index)?> MapAsync(string siteId)
    {
        if (_maps.TryGetValue(siteId, out var cached))
        {
            return cached;
        }

        var map = await grains.GetGrain<ISiteGrain>(siteId).GetMapViewAsync().ConfigureAwait(false);
        if (map is null)
        {
            return null;
        }

        var index = new Dictionary<string, int>(map.RobotIds.Length, StringComparer.Ordinal);
        for (var i = 0; i < map.RobotIds.Length; i++)
        {
            index[map.RobotIds[i]] = i;
        }

        return _maps.GetOrAdd(siteId, (map, index));
    }
}
