namespace WarehouseHybrid.Cloud.Grains;

/// <summary>The sites defined in the cluster (one grain, key <see cref="SiteDirectoryGrain.Key"/>).</summary>
[Alias("wh.cloud.ISiteDirectoryGrain")]
public interface ISiteDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Adds a site (idempotent).</summary>
    [Alias("Register")]
    Task RegisterAsync(string siteId);

    /// <summary>Every defined site, sorted.</summary>
    [Alias("List"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<string>> ListAsync();
}

/// <summary>The persisted list of sites; the site keeper and <c>GET /api/sites</c> read it.</summary>
[GenerateSerializer, Alias("wh.cloud.SiteDirectoryState")]
public sealed class SiteDirectoryState
{
    /// <summary>Site ids.</summary>
    [Id(0)] public SortedSet<string> Sites { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Keeps <see cref="SiteDirectoryState"/>.</summary>
public sealed class SiteDirectoryGrain(
    [PersistentState("sites", Hosting.CloudHost.StorageName)] IPersistentState<SiteDirectoryState> state) : Grain, ISiteDirectoryGrain
{
    /// <summary>The one key.</summary>
    public const string Key = "all";

    /// <inheritdoc />
    public async Task RegisterAsync(string siteId)
    {
        if (state.State.Sites.Add(siteId))
        {
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.Sites.ToArray());
}
