using WarehouseHybrid.Cloud.Hosting;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>How an upload went.</summary>
[GenerateSerializer, Alias("wh.cloud.ModelUploadOutcome")]
public enum ModelUploadOutcome
{
    /// <summary>Stored as a new version.</summary>
    Created = 0,
    /// <summary>The same bytes were already stored under this version (a retried upload).</summary>
    AlreadyStored = 1,
    /// <summary>Another package is stored under this version: versions are immutable.</summary>
    VersionConflict = 2,
}

/// <summary>
/// The fleet's model packages and which rollout runs on which site (key: <see cref="Key"/>). Persisted in grain storage,
/// so packages and the active-rollout index survive restarts and move with the grain between silos.
/// </summary>
[Alias("wh.cloud.IModelRegistryGrain")]
public interface IModelRegistryGrain : IGrainWithStringKey
{
    /// <summary>The one registry's key.</summary>
    public const string Key = "fleet";

    /// <summary>Stores a verified package under its manifest's version.</summary>
    [Alias("Add")]
    Task<ModelUploadOutcome> AddAsync(ModelPackageBytes package, ModelRecord record);

    /// <summary>A stored package, or null.</summary>
    [Alias("GetPackage")]
    Task<ModelPackageBytes?> GetPackageAsync(string version);

    /// <summary>Every stored package's description.</summary>
    [Alias("List")]
    Task<ModelRecord[]> ListAsync();

    /// <summary>Marks <paramref name="rolloutId"/> active on <paramref name="siteId"/>; returns the id already active there instead, or null.</summary>
    [Alias("TryBeginRollout")]
    Task<string?> TryBeginRolloutAsync(string siteId, string rolloutId);

    /// <summary>Clears the site's active rollout if it is <paramref name="rolloutId"/>.</summary>
    [Alias("EndRollout")]
    Task EndRolloutAsync(string siteId, string rolloutId);

    /// <summary>Active rollout ids.</summary>
    [Alias("ActiveRollouts")]
    Task<string[]> ActiveRolloutsAsync();

    /// <summary>Every rollout id ever started, oldest first.</summary>
    [Alias("RolloutIds")]
    Task<string[]> RolloutIdsAsync();
}

/// <summary>Persisted registry content.</summary>
[GenerateSerializer, Alias("wh.cloud.ModelRegistryState")]
public sealed class ModelRegistryState
{
    /// <summary>Packages by version.</summary>
    [Id(0)] public Dictionary<string, ModelPackageBytes> Packages { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Descriptions by version.</summary>
    [Id(1)] public Dictionary<string, ModelRecord> Records { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Active rollout per site.</summary>
    [Id(2)] public Dictionary<string, string> ActiveBySite { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every rollout id.</summary>
    [Id(3)] public List<string> Rollouts { get; set; } = new();
}

/// <summary>The registry grain.</summary>
public sealed class ModelRegistryGrain([PersistentState("model-registry", CloudHost.StorageName)] IPersistentState<ModelRegistryState> state) : Grain, IModelRegistryGrain
{
    /// <inheritdoc />
    public async Task<ModelUploadOutcome> AddAsync(ModelPackageBytes package, ModelRecord record)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(record);
        if (state.State.Packages.TryGetValue(record.Version, out var existing))
        {
            return existing.Manifest.AsSpan().SequenceEqual(package.Manifest) && existing.Onnx.AsSpan().SequenceEqual(package.Onnx)
                ? ModelUploadOutcome.AlreadyStored
                : ModelUploadOutcome.VersionConflict;
        }

        state.State.Packages[record.Version] = package;
        state.State.Records[record.Version] = record;
        await state.WriteStateAsync();
        return ModelUploadOutcome.Created;
    }

    /// <inheritdoc />
    public Task<ModelPackageBytes?> GetPackageAsync(string version) => Task.FromResult(state.State.Packages.GetValueOrDefault(version));

    /// <inheritdoc />
    public Task<ModelRecord[]> ListAsync() => Task.FromResult(state.State.Records.Values.OrderBy(r => r.UploadedAt).ToArray());

    /// <inheritdoc />
    public async Task<string?> TryBeginRolloutAsync(string siteId, string rolloutId)
    {
        if (state.State.ActiveBySite.TryGetValue(siteId, out var active) && active != rolloutId)
        {
            return active;
        }

        state.State.ActiveBySite[siteId] = rolloutId;
        if (!state.State.Rollouts.Contains(rolloutId))
        {
            state.State.Rollouts.Add(rolloutId);
        }

        await state.WriteStateAsync();
        return null;
    }

    /// <inheritdoc />
    public async Task EndRolloutAsync(string siteId, string rolloutId)
    {
        if (state.State.ActiveBySite.TryGetValue(siteId, out var active) && active == rolloutId)
        {
            state.State.ActiveBySite.Remove(siteId);
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public Task<string[]> ActiveRolloutsAsync() => Task.FromResult(state.State.ActiveBySite.Values.ToArray());

    /// <inheritdoc />
    public Task<string[]> RolloutIdsAsync() => Task.FromResult(state.State.Rollouts.ToArray());
}
