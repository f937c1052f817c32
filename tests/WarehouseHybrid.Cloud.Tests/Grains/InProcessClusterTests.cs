using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tasks;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Grains;

/// <summary>
/// The grains on Orleans' in-process test cluster (two silos, memory storage, the cluster's own client): robot grains
/// and the site grain talk across silos, an order submitted through the client runs to finished, and its status and
/// idempotency hold whichever silo serves the call.
/// </summary>
public sealed class InProcessClusterTests : IAsyncLifetime
{
    private static readonly RecordingPublisher Publisher = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(WarehouseHybrid.Cloud.Hosting.CloudHost.StorageName);
            silo.Services.AddSingleton<IFleetCommandPublisher>(Publisher);
            silo.Services.AddSingleton<FleetPlannerFactory>((map, starts) => new CorridorPlanner(map, starts.Count));
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<PlanningWorker>();
            silo.Services.AddSingleton(Options.Create(new SiteCycleOptions { ConfirmTimeout = TimeSpan.FromSeconds(2) }));
            silo.Services.AddSingleton(Options.Create(new TaskOptions()));
            silo.Services.AddCloudInstruments().AddFleetBoardFeed(); // the grains' metrics and dashboard feed
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task An_order_runs_to_finished_across_two_silos_and_a_retry_through_the_client_replays_it()
    {
        const string site = "two-silos";
        var grains = _cluster.Client;
        await grains.GetGrain<ISiteGrain>(site).InitializeAsync(TestMaps.Corridor(site, 6));
        var order = new TaskOrder { Errands = [ErrandRef.AtCell(4), ErrandRef.AtPoint(7, 0)], IdempotencyKey = "two-1", SubmittedBy = "test" };
        var created = await grains.GetGrain<ISiteGrain>(site).SubmitOrderAsync(order);
        Assert.Equal(SubmitStatus.Created, created.Status);
        Assert.Equal(SubmitStatus.Replayed, (await grains.GetGrain<ISiteGrain>(site).SubmitOrderAsync(order)).Status);

        var robots = new GrainRobots(grains, Publisher);
        foreach (var r in await grains.GetGrain<ISiteGrain>(site).GetRobotsAsync())
        {
            await robots.ReportAsync(site, r.RobotId, 0, r.Cell, r.Heading);
        }

        TaskIds.TryParse(created.Task!.Id, out _, out var number);
        await robots.DriveAsync(site, $"{site}-r0", 1, 20, async () => (await grains.GetGrain<ISiteGrain>(site).GetTaskAsync(number))!.Status == "finished");
        Assert.Equal("finished", (await grains.GetGrain<ISiteGrain>(site).GetTaskAsync(number))!.Status);

        // Every robot grain reports the silo it runs on, one of the cluster's two.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => grains.GetGrain<IRobotGrain>($"{site}-r{i}").GetStatusAsync()));
        var silos = _cluster.Silos.Select(s => s.SiloAddress.ToString()).ToHashSet();
        Assert.Equal(2, silos.Count);
        Assert.All(statuses, s => Assert.Contains(s!.Silo, silos));
        Assert.Contains((await grains.GetGrain<ISiteGrain>(site).GetStatsAsync()).Silo, silos);
        await Eventually.WaitForAsync(() => Task.FromResult(Publisher.Tasks(site).Count), n => n >= 1, "the assignment to be published");
    }
}
