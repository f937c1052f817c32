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

    [Fact]
    public async Task A_cluster_provider_without_a_connection_string_or_with_a_bad_one_stops_the_start_naming_the_setting()
    {
        foreach (var (provider, connection, expected) in new[]
        {
            (ClusterProvider.Postgres, (string?)null, "Cloud.Cluster.ConnectionString must be set for Cluster.Provider Postgres"),
            (ClusterProvider.Postgres, "Host=127.0.0.1;Bogus Key=1", "Cloud.Cluster.ConnectionString is not a valid Postgres connection string"),
            (ClusterProvider.Redis, ",,,", "Cloud.Cluster.ConnectionString is not a valid Redis connection string"),
        })
        {
            await using var app = TestSilos.Builder("bad-cluster", TestSilos.Corridor, o =>
            {
                o.Cluster.Provider = provider;
                o.Cluster.ConnectionString = connection;
            }).BuildWarehouseCloud();
            var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
            Assert.Contains(ex.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Unreachable_redis_or_a_postgres_database_without_the_schema_stops_the_start_with_the_fix()
    {
        await using (var app = TestSilos.Builder("no-redis", TestSilos.Corridor, o =>
        {
            o.Cluster.Provider = ClusterProvider.Redis;
            o.Cluster.ConnectionString = "127.0.0.1:" + FreePort.Next();
        }).BuildWarehouseCloud())
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());
            Assert.Contains("Cloud:Cluster: Redis storage from Cloud:Cluster:ConnectionString is not reachable", ex.Message, StringComparison.Ordinal);
        }

        Assert.True(WarehouseHybrid.Tests.Common.Servers.PostgresServer.Available, "PostgreSQL is not installed (./test.sh installs it)");
        await using var pg = await WarehouseHybrid.Tests.Common.Servers.PostgresServer.StartNewAsync();
        await using var bare = TestSilos.Builder("no-schema", TestSilos.Corridor, o =>
        {
            o.Cluster.Provider = ClusterProvider.Postgres;
            o.Cluster.ConnectionString = pg.ConnectionString();
        }).BuildWarehouseCloud();
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => bare.StartAsync());
        Assert.Contains("has no Orleans tables; apply deploy/cluster/postgres-orleans.sql", missing.Message, StringComparison.Ordinal);
    }
}
