using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Observability;

/// <summary>
/// A silo with its HTTP endpoints in one WebApplication on 127.0.0.1 (port chosen by the OS): Orleans on free loopback
/// ports, no broker, commands to a <see cref="SimulatedFleet"/>, the PIBT optimizer, observability, the dashboard and
/// the rollout API mapped. <see cref="StartSiteAsync"/> starts a warehouse-like site whose robots then move.
/// </summary>
internal sealed class WebSilo : IAsyncDisposable
{
    /// <summary>A key with the Read role.</summary>
    public const string ReadKey = "dashboard-reader-key-0123";

    /// <summary>A key with the Write role.</summary>
    public const string WriteKey = "rollout-writer-key-0123";

    private WebSilo(WebApplication app, SimulatedFleet fleet)
    {
        App = app;
        Fleet = fleet;
        BaseAddress = app.GetHttpAddress() ?? throw new InvalidOperationException("the silo has no HTTP address");
        Http = Client(ReadKey);
    }

    public WebApplication App { get; }

    public SimulatedFleet Fleet { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    /// <summary>An HTTP client for the silo, with <paramref name="apiKey"/> as bearer token when given.</summary>
    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>Starts the silo; with <paramref name="simulateFleet"/> false the commands go to the MQTT bridge configured by <paramref name="cloud"/>.</summary>
    public static async Task<WebSilo> StartAsync(Action<WebApplicationBuilder>? configure = null, Action<CloudOptions>? cloud = null, bool simulateFleet = true)
    {
        var builder = CloudHost.CreateEmbeddedBuilder("tests");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddWarehouseCloud(
            (map, starts) => new PibtFleetPlanner(map, starts.Count, new PlannerOptions { Seed = 3 }),
            o =>
            {
                o.SiteId = "web";
                o.Silo.SiloPort = FreePort.Next();
                o.Silo.GatewayPort = FreePort.Next();
                o.Silo.ClusterId = "web-" + Guid.NewGuid().ToString("N");
                o.Mqtt.Enabled = false;
                o.Http.Port = 0;
                o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "reader", Role = ApiRole.Read, Key = ReadKey });
                o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "operator", Role = ApiRole.Write, Key = WriteKey });
                o.Cycle.ConfirmTimeout = TimeSpan.FromSeconds(1);
                o.Cycle.PlanBudget = TimeSpan.FromMilliseconds(50);
                o.Cycle.MinStepInterval = TimeSpan.FromMilliseconds(50);
                cloud?.Invoke(o);
            });
        var fleet = new SimulatedFleet();
        if (simulateFleet)
        {
            builder.Services.AddSingleton<IFleetCommandPublisher>(fleet);
            builder.Services.AddSingleton<IModelDeploymentPublisher>(fleet);
        }

        configure?.Invoke(builder);
        var app = builder.BuildWarehouseCloud();
        await app.StartAsync();
        fleet.Grains = app.Services.GetRequiredService<IGrainFactory>();
        return new WebSilo(app, fleet);
    }

    /// <summary>Cloud options that turn the MQTT bridge on against <paramref name="broker"/> (a client id of its own).</summary>
    public static Action<CloudOptions> Bridge(WarehouseHybrid.Tests.Common.Servers.MosquittoServer broker) => o =>
    {
        o.Mqtt.Enabled = true;
        o.Mqtt.Host = broker.Host;
        o.Mqtt.Port = broker.Port;
        o.Mqtt.ClientId = "cloud-" + Guid.NewGuid().ToString("N");
    };

    /// <summary>A warehouse-like map: shelf blocks two cells high with aisles between them.</summary>
    public static GridMap Warehouse(int width, int height)
    {
        var kinds = new CellKind[width * height];
        for (var y = 2; y < height - 2; y++)
        {
            for (var x = 2; x < width - 2; x++)
            {
                if (y % 4 is 2 or 3 && x % 9 != 0)
                {
                    kinds[(y * width) + x] = CellKind.Obstacle;
                }
            }
        }

        return new GridMap(width, height, kinds, "test-warehouse");
    }

    /// <summary>
    /// Initialises site <paramref name="siteId"/> with <paramref name="robots"/> robots (ids <c>{site}-rNNNN</c>) on free
    /// cells, gives them tasks, and has each robot report in, except those in <paramref name="silent"/> (a real edge
    /// runtime reports for them).
    /// </summary>
    public async Task<SiteDefinition> StartSiteAsync(string siteId, int robots, GridMap map, int tasks = 200, int seed = 11, IReadOnlySet<string>? silent = null)
    {
        var random = new Random(seed);
        var free = Enumerable.Range(0, map.CellCount).Where(map.IsPassable).ToArray();
        random.Shuffle(free);
        var seats = Enumerable.Range(0, robots).Select(i => new RobotSeat($"{siteId}-r{i:D4}", free[i], (Heading)(i % 4))).ToArray();
        var definition = SiteDefinition.Create(map, seats);
        var site = Grains.GetGrain<ISiteGrain>(siteId);
        await site.InitializeAsync(definition);
        var taskList = Enumerable.Range(1, tasks).Select(id => new SiteTask(id, [free[random.Next(free.Length)], free[random.Next(free.Length)]])).ToArray();
        await site.SubmitTasksAsync(taskList);
        await Task.WhenAll(seats.Where(s => silent?.Contains(s.RobotId) != true).Select(s => Fleet.ReportAsync(siteId, s.RobotId, 0, s.StartCell, s.StartHeading)));
        return definition;
    }

    public async Task<T> GetJsonAsync<T>(string path) => (await Http.GetFromJsonAsync<T>(path))!;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
