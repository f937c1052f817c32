using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>
/// How grains send commands to robots. A singleton injected into the site grain; the MQTT
/// implementation queues the message and returns, so a grain never waits on the broker.
/// </summary>
public interface IFleetCommandPublisher
{
    /// <summary>Sends a plan segment on <c>FleetTopics.Plan(site, segment.RobotId)</c>, QoS 1.</summary>
    ValueTask PublishPlanAsync(string siteId, PlanSegment segment, CancellationToken cancellationToken = default);

    /// <summary>Sends a task assignment on <c>FleetTopics.Task(site, assignment.RobotId)</c>, QoS 1.</summary>
    ValueTask PublishTaskAsync(string siteId, TaskAssignment assignment, CancellationToken cancellationToken = default);

    /// <summary>Publishes a grant extension for steps already sent to a robot.</summary>
    ValueTask PublishGrantAsync(string siteId, GrantUpdate grant, CancellationToken cancellationToken = default);
}

/// <summary>A publisher that drops everything (a silo without a broker).</summary>
public sealed class DiscardingCommandPublisher : IFleetCommandPublisher
{
    /// <inheritdoc />
    public ValueTask PublishPlanAsync(string siteId, PlanSegment segment, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask PublishTaskAsync(string siteId, TaskAssignment assignment, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask PublishGrantAsync(string siteId, GrantUpdate grant, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
