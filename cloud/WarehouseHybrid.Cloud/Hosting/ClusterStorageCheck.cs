using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>
/// Runs before the silo starts (registered ahead of Orleans): checks that the configured Redis answers PING, or that
/// the PostgreSQL database is reachable and holds the Orleans schema, and stops the start with a message naming the
/// setting and the fix otherwise (rather than a silo that retries membership writes forever).
/// </summary>
internal sealed partial class ClusterStorageCheck(IOptions<CloudOptions> options, ILogger<ClusterStorageCheck> logger) : IHostedService
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var cluster = options.Value.Cluster;
        if (cluster.Provider == ClusterProvider.Localhost || !cluster.CheckStorageAtStart)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Timeout);
        try
        {
            if (cluster.Provider == ClusterProvider.Redis)
            {
                var config = ConfigurationOptions.Parse(cluster.ConnectionString!);
                config.AbortOnConnectFail = true;
                config.ConnectTimeout = (int)Timeout.TotalMilliseconds;
                await using var redis = await ConnectionMultiplexer.ConnectAsync(config).WaitAsync(cts.Token).ConfigureAwait(false);
                await redis.GetDatabase().PingAsync().WaitAsync(cts.Token).ConfigureAwait(false);
            }
            else
            {
                await using var connection = new NpgsqlConnection(cluster.ConnectionString);
                await connection.OpenAsync(cts.Token).ConfigureAwait(false);
                await using var command = new NpgsqlCommand(
                    "SELECT to_regclass('orleansquery') IS NOT NULL AND to_regclass('orleansmembershiptable') IS NOT NULL AND to_regclass('orleansstorage') IS NOT NULL",
                    connection);
                if (await command.ExecuteScalarAsync(cts.Token).ConfigureAwait(false) is not true)
                {
                    throw new InvalidOperationException(
                        $"Cloud:Cluster:ConnectionString: database '{connection.Database}' on {connection.Host}:{connection.Port} has no Orleans tables; apply {CloudClusterOptions.PostgresSchemaFile} to it first (psql -v ON_ERROR_STOP=1 -f {CloudClusterOptions.PostgresSchemaFile})");
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or NpgsqlException or OperationCanceledException or TimeoutException)
        {
            throw new InvalidOperationException($"Cloud:Cluster: {cluster.Provider} storage from Cloud:Cluster:ConnectionString is not reachable: {ex.Message}", ex);
        }

        LogStorageReady(logger, cluster.Provider);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Cluster storage ({Provider}) answers; starting the silo")]
    private static partial void LogStorageReady(ILogger logger, ClusterProvider provider);
}
