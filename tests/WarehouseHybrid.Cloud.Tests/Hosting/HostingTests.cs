using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Hosting;

public sealed class HostingTests
{
    [Fact]
    public async Task Bad_options_stop_the_host_at_start_naming_every_bad_setting()
    {
        var builder = CloudHost.CreateEmbeddedBuilder("tests");
        builder.Logging.ClearProviders();
        builder.AddWarehouseCloud((map, starts) => new CorridorPlanner(map, starts.Count), o =>
        {
            o.SiteId = "bad site";
            o.Silo.SiloPort = FreePort.Next();
            o.Silo.GatewayPort = FreePort.Next();
            o.Mqtt.Port = 0;
            o.Cycle.ConfirmTimeout = TimeSpan.Zero;
            o.MapFile = "/nonexistent/x.map";
        });
        using var host = builder.BuildWarehouseCloud();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.SiteId 'bad site'", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.Mqtt.Port must be 1-65535, got 0", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.Cycle.ConfirmTimeout", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.MapFile '/nonexistent/x.map' does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void The_kits_warehouse_map_loads_when_the_kit_is_present()
    {
        var path = RepoPaths.Data("lorr/2026-example/warehouse.domain/maps/warehouse_small.map");
        Assert.True(File.Exists(path), $"team kit map missing: {path}");
        var map = WarehouseHybrid.Domain.Maps.GridMapReader.Load(path);
        Assert.True(map.PassableCount > 0);
        Assert.True(map.PassableCount < map.CellCount);
    }
}
