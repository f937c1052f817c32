using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Cluster;

/// <summary>
/// Grain state on real storage (one abstract suite, run against Redis and PostgreSQL started by the fixture): a site's
/// tasks, statuses, idempotency keys and step survive a whole cluster restart, and the site resumes its cycle.
/// </summary>
public abstract class PersistenceTests : IAsyncLifetime
{
    private IClusterStorage _storage = null!;

    protected abstract Task<IClusterStorage> StartStorageAsync();

    public async Task InitializeAsync() => _storage = await StartStorageAsync();

    public async Task DisposeAsync() => await _storage.DisposeAsync();

    [Fact]
    public async Task Tasks_statuses_keys_and_the_step_survive_a_cluster_restart_and_the_cycle_resumes()
    {
        var clusterId = "persist-" + Guid.NewGuid().ToString("N")[..8];
        const string site = "persist";
        var publisher = new RecordingPublisher();
        string finishedId, openId;
        uint stepBefore;
        await using (var first = await StartSiloAsync(clusterId, publisher))
        {
            var grains = first.Services.GetRequiredService<IGrainFactory>();
            await grains.GetGrain<ISiteGrain>(site).InitializeAsync(TestMaps.Corridor(site, 2));
            using var http = Client(first);
            finishedId = await SubmitAsync(http, site, [3], "k-first");
            openId = await SubmitAsync(http, site, [6, 9], "k-second");

            var driver = new GrainRobots(grains, publisher);
            await driver.ReportAsync(site, $"{site}-r0", 0, 0, Heading.East);
            await driver.ReportAsync(site, $"{site}-r1", 0, 11, Heading.East);
            await driver.DriveAsync(site, $"{site}-r0", 1, 20, async () => await StatusAsync(http, finishedId) == "finished" && await StatusAsync(http, openId) != "queued");
            await Eventually.WaitForAsync(async () => (await grains.GetGrain<ISiteGrain>(site).GetStatsAsync()).Planning == false, _ => true, "idle");
            stepBefore = (await grains.GetGrain<ISiteGrain>(site).GetStatsAsync()).Step;
            await first.StopAsync();
        }

        // A new silo (the old one is gone, and nothing is in memory): everything comes from storage.
        var publisher2 = new RecordingPublisher();
        await using var second = await StartSiloAsync(clusterId, publisher2);
        var grains2 = second.Services.GetRequiredService<IGrainFactory>();
        using var http2 = Client(second);
        Assert.Equal("finished", await StatusAsync(http2, finishedId));
        Assert.NotEqual("queued", await StatusAsync(http2, openId));

        // The keys are remembered: a retry returns the same task, a changed one conflicts.
        var retry = await http2.SendAsync(Keyed(site, [3], "k-first"));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(finishedId, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await http2.SendAsync(Keyed(site, [4], "k-first"))).StatusCode);

        var stats = await grains2.GetGrain<ISiteGrain>(site).GetStatsAsync();
        Assert.Equal(stepBefore, stats.Step);
        Assert.Equal(2, stats.TasksSubmitted);
        Assert.Equal(1, stats.TasksFinished);
        Assert.True(stats.Resumes >= 1);

        // The resumed site sent the step its robots were awaited for again; confirming it, the cycle goes on and the
        // open task finishes.
        var resent = await Eventually.WaitForAsync(() => Task.FromResult(publisher2.PlansForStep(site, stepBefore)), p => p.Count > 0, "the awaited step sent again");
        Assert.All(resent, p => Assert.Equal(stepBefore, p.FirstStep));
        var driver2 = new GrainRobots(grains2, publisher2);
        await driver2.DriveAsync(site, $"{site}-r0", stepBefore, 30, async () => await StatusAsync(http2, openId) == "finished");
        Assert.Equal("finished", await StatusAsync(http2, openId));
        await second.StopAsync();
    }

    private async Task<WebApplication> StartSiloAsync(string clusterId, RecordingPublisher publisher)
    {
        var builder = TestSilos.Builder("persistence", TestSilos.Corridor, o =>
        {
            o.Silo.ClusterId = clusterId;
            o.Cluster.Provider = _storage.Provider;
            o.Cluster.ConnectionString = _storage.ConnectionString;
            o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "writer", Role = ApiRole.Write, Key = SiloFixture.WriteKey });
            o.Cycle.ConfirmTimeout = TimeSpan.FromSeconds(2);
            o.Tasks.HistoryWriteInterval = TimeSpan.Zero;
        });
        builder.Services.AddSingleton<IFleetCommandPublisher>(publisher);
        var app = builder.BuildWarehouseCloud();
        await app.StartAsync();
        return app;
    }

    private static HttpClient Client(WebApplication app)
    {
        var http = new HttpClient { BaseAddress = app.GetHttpAddress() };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SiloFixture.WriteKey);
        return http;
    }

    private static HttpRequestMessage Keyed(string site, int[] errands, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/tasks") { Content = JsonContent.Create(new { site, errands }) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private static async Task<string> SubmitAsync(HttpClient http, string site, int[] errands, string key)
    {
        var response = await http.SendAsync(Keyed(site, errands, key));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<string> StatusAsync(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<JsonElement>($"api/tasks/{id}")).GetProperty("status").GetString()!;
}

/// <summary>The suite against a real redis-server.</summary>
public sealed class RedisPersistenceTests : PersistenceTests
{
    protected override Task<IClusterStorage> StartStorageAsync() => RedisClusterStorage.StartAsync();
}

/// <summary>The suite against a real PostgreSQL with the project's schema.</summary>
public sealed class PostgresPersistenceTests : PersistenceTests
{
    protected override Task<IClusterStorage> StartStorageAsync() => PostgresClusterStorage.StartAsync();
}
