using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>Registers the dashboard's data flow and maps its page and JSON endpoints.</summary>
public static class DashboardHosting
{
    private static readonly Dictionary<string, string> Assets = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["dashboard.js"] = "text/javascript; charset=utf-8",
        ["dashboard.css"] = "text/css; charset=utf-8",
    };

    /// <summary>
    /// Registers <see cref="DashboardOptions"/> (section <see cref="DashboardOptions.Section"/>, validated at start), the
    /// silo's <see cref="FleetBoardFeed"/> and <see cref="DashboardQueries"/>. <see cref="CloudHost.AddWarehouseCloud"/>
    /// calls it: robot grains feed the board whether or not a page is served.
    /// </summary>
    public static IServiceCollection AddFleetBoardFeed(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(FleetBoardFeed)))
        {
            return services;
        }

        services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DashboardOptions>>(new CheckValidator());
        services.AddSingleton<FleetBoardFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<FleetBoardFeed>());
        services.TryAddSingleton<DashboardQueries>();
        return services;
    }

    /// <summary>
    /// Maps the page at <c>/</c> (and its script and style under <c>/dashboard/</c>, embedded in the assembly) and the
    /// read-only JSON API under <c>/api/dashboard</c>: <c>config</c>, <c>sites/{site}/map</c>, <c>sites/{site}/snapshot</c>.
    /// Returns the API group so the host can require its read policy on it.
    /// </summary>
    public static RouteGroupBuilder MapWarehouseDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/", () => Asset("index.html")).ExcludeFromDescription();
        endpoints.MapGet("/dashboard/{file}", (string file) => Asset(file)).ExcludeFromDescription();

        var api = endpoints.MapGroup("/api/dashboard");
        api.MapGet("/config", (IOptions<CloudOptions> cloud, IOptions<DashboardOptions> dashboard) =>
            Results.Json(new DashboardConfig(cloud.Value.SiteId, (int)dashboard.Value.PagePollInterval.TotalMilliseconds), DashboardJson.Default.DashboardConfig));
        api.MapGet("/sites/{site}/map", async (string site, DashboardQueries queries) =>
            BadSite(site) ?? (await queries.GetMapAsync(site) is { } map
                ? Results.Json(map, DashboardJson.Default.SiteMapView)
                : NotRunning(site)));
        api.MapGet("/sites/{site}/snapshot", async (string site, DashboardQueries queries, HttpContext http) =>
        {
            if (BadSite(site) is { } bad)
            {
                return bad;
            }

            http.Response.Headers.CacheControl = "no-store";
            return await queries.GetSnapshotAsync(site) is { } snapshot
                ? Results.Json(snapshot, DashboardJson.Default.DashboardSnapshot)
                : NotRunning(site);
        });
        return api;
    }

    private static IResult? BadSite(string site) =>
        FleetTopics.IsValidId(site) ? null : Results.Problem(statusCode: 400, title: "invalid site id", detail: $"site id '{site}' must be 1-64 of [A-Za-z0-9_-]");

    private static IResult NotRunning(string site) =>
        Results.Problem(statusCode: 404, title: "site not running", detail: $"site '{site}' has no map and roster yet (it starts when initialised)");

    private static IResult Asset(string file)
    {
        if (!Assets.TryGetValue(file, out var contentType))
        {
            return Results.NotFound();
        }

        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("WarehouseHybrid.Cloud.Dashboard." + file);
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }

    private sealed class CheckValidator : IValidateOptions<DashboardOptions>
    {
        public ValidateOptionsResult Validate(string? name, DashboardOptions options) =>
            options.Check() is { } failure ? ValidateOptionsResult.Fail("Cloud." + failure) : ValidateOptionsResult.Success;
    }
}
