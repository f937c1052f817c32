using Npgsql;
using StackExchange.Redis;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>Where the silos meet and keep grain state.</summary>
public enum ClusterProvider
{
    /// <summary>One silo, localhost clustering, in-memory grain storage: no set-up, nothing survives a restart (the demo).</summary>
    Localhost = 0,

    /// <summary>Redis for membership and grain state (Microsoft.Orleans.Clustering.Redis / Persistence.Redis).</summary>
    Redis = 1,

    /// <summary>PostgreSQL for membership and grain state (Orleans ADO.NET providers, Npgsql); apply deploy/cluster/postgres-orleans.sql first.</summary>
    Postgres = 2,
}

/// <summary>Clustering and persistence (section "Cloud:Cluster").</summary>
public sealed class CloudClusterOptions
{
    /// <summary>The schema file (relative to the repository) an operator applies to a new PostgreSQL database.</summary>
    public const string PostgresSchemaFile = "deploy/cluster/postgres-orleans.sql";

    /// <summary>The provider.</summary>
    public ClusterProvider Provider { get; set; } = ClusterProvider.Localhost;

    /// <summary>
    /// Redis: a StackExchange.Redis configuration string (<c>127.0.0.1:6379,password=...</c>); Postgres: an Npgsql
    /// connection string (<c>Host=...;Database=warehouse;Username=...</c>). Used for membership and grain state.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The address other silos reach this one at (Redis/Postgres; localhost clustering always uses loopback).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>How long a silo waits for a peer's probe answer before counting it missed (Orleans ProbeTimeout).</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Missed probes after which a silo votes a peer dead (Orleans NumMissedProbesLimit).</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>How often each silo pings every defined site, so a site whose silo died resumes on another at once.</summary>
    public TimeSpan SiteKeepAliveInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the silo checks, before it starts, that the storage answers (and, for PostgreSQL, has the schema).</summary>
    public bool CheckStorageAtStart { get; set; } = true;

    /// <summary>Names every bad setting (prefixed "Cluster.").</summary>
    public IEnumerable<string> Check()
    {
        if (!Enum.IsDefined(Provider))
        {
            yield return $"Cluster.Provider '{Provider}' must be Localhost, Redis or Postgres";
            yield break;
        }

        if (Provider != ClusterProvider.Localhost)
        {
            if (string.IsNullOrWhiteSpace(ConnectionString))
            {
                yield return $"Cluster.ConnectionString must be set for Cluster.Provider {Provider}";
            }
            else if (ParseProblem() is { } problem)
            {
                yield return $"Cluster.ConnectionString is not a valid {Provider} connection string: {problem}";
            }

            if (!System.Net.IPAddress.TryParse(AdvertisedAddress, out _))
            {
                yield return $"Cluster.AdvertisedAddress '{AdvertisedAddress}' is not an IP address";
            }
        }

        if (ProbeTimeout <= TimeSpan.Zero || ProbeTimeout > TimeSpan.FromMinutes(5))
        {
            yield return $"Cluster.ProbeTimeout must be in (0, 5 min], got {ProbeTimeout}";
        }

        if (MissedProbesLimit is < 1 or > 100)
        {
            yield return $"Cluster.MissedProbesLimit must be 1-100, got {MissedProbesLimit}";
        }

        if (SiteKeepAliveInterval <= TimeSpan.Zero || SiteKeepAliveInterval > TimeSpan.FromMinutes(10))
        {
            yield return $"Cluster.SiteKeepAliveInterval must be in (0, 10 min], got {SiteKeepAliveInterval}";
        }
    }

    private string? ParseProblem()
    {
        try
        {
            if (Provider == ClusterProvider.Redis)
            {
                var parsed = ConfigurationOptions.Parse(ConnectionString!);
                return parsed.EndPoints.Count == 0 ? "it names no endpoint" : null;
            }

            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            return string.IsNullOrEmpty(builder.Host) ? "it has no Host" : null;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException or RedisConnectionException)
        {
            return ex.Message;
        }
    }
}
