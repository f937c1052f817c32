using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Cluster;

/// <summary>A real storage server for the cluster tests: what provider, which connection string, and how to stop it.</summary>
public interface IClusterStorage : IAsyncDisposable
{
    /// <summary>The provider the silos are configured with.</summary>
    ClusterProvider Provider { get; }

    /// <summary>The connection string the silos get.</summary>
    string ConnectionString { get; }
}

/// <summary>A real redis-server (tests/Common/Servers) on a loopback port.</summary>
internal sealed class RedisClusterStorage(RedisServer server) : IClusterStorage
{
    public ClusterProvider Provider => ClusterProvider.Redis;

    public string ConnectionString => server.ConnectionString;

    public static async Task<IClusterStorage> StartAsync()
    {
        Assert.True(RedisServer.Available, "redis-server is not installed (./test.sh installs it)");
        return new RedisClusterStorage(await RedisServer.StartNewAsync());
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();
}

/// <summary>A real PostgreSQL cluster (tests/Common/Servers) with the project's Orleans schema applied (deploy/cluster/postgres-orleans.sql).</summary>
internal sealed class PostgresClusterStorage(PostgresServer server) : IClusterStorage
{
    public ClusterProvider Provider => ClusterProvider.Postgres;

    public string ConnectionString => server.ConnectionString("warehouse");

    public static async Task<IClusterStorage> StartAsync()
    {
        Assert.True(PostgresServer.Available, "PostgreSQL is not installed (./test.sh installs it)");
        var server = await PostgresServer.StartNewAsync();
        await server.RunSqlAsync("CREATE DATABASE warehouse;");
        var script = await File.ReadAllTextAsync(Path.Combine(WarehouseHybrid.Tests.Common.RepoPaths.Root, CloudClusterOptions.PostgresSchemaFile));
        await server.RunSqlAsync(script, "warehouse");
        return new PostgresClusterStorage(server);
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();
}
