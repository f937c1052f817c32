using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>
/// How a rollout sends a model package to a robot: <c>FleetTopics.Model(site, robot)</c>, QoS 1. The MQTT bridge
/// implements it (queued, so a grain never waits on the broker); a silo without a broker has none and refuses rollouts.
/// </summary>
public interface IModelDeploymentPublisher
{
    /// <summary>Queues <paramref name="deployment"/> for its robot.</summary>
    ValueTask PublishModelAsync(string siteId, ModelDeployment deployment, CancellationToken cancellationToken = default);
}
