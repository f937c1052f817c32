using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Api;

/// <summary><c>GET /api/sites</c> (every site's statistics) and <c>GET /api/sites/{site}</c>.</summary>
internal static class SiteEndpoints
{
    public static void MapSiteEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/sites", ListAsync).RequireAuthorization(ApiPolicies.Read);
        api.MapGet("/sites/{site}", GetSiteAsync).RequireAuthorization(ApiPolicies.Read);
    }

    private static async Task<IResult> ListAsync(IGrainFactory grains)
    {
        var sites = await grains.GetGrain<ISiteDirectoryGrain>(SiteDirectoryGrain.Key).ListAsync();
        var stats = await Task.WhenAll(sites.Select(s => grains.GetGrain<ISiteGrain>(s).GetStatsAsync()));
        return Results.Ok(stats);
    }

    private static async Task<IResult> GetSiteAsync(string site, IGrainFactory grains)
    {
        if (!FleetTopics.IsValidId(site))
        {
            return Results.Problem(detail: $"site id '{site}' must be 1-64 of [A-Za-z0-9_-]", statusCode: StatusCodes.Status400BadRequest, title: "Bad site id");
        }

        var stats = await grains.GetGrain<ISiteGrain>(site).GetStatsAsync();
        return stats.Initialized
            ? Results.Ok(stats)
            : Results.Problem(detail: $"site '{site}' is not defined in this cluster", statusCode: StatusCodes.Status404NotFound, title: "Unknown site");
    }
}
