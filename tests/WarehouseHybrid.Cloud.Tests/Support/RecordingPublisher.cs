using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>A publisher that records every command per site.</summary>
internal sealed class RecordingPublisher : IFleetCommandPublisher
{
    private readonly object _lock = new();
    private readonly List<(string Site, PlanSegment Segment)> _plans = new();
    private readonly List<(string Site, TaskAssignment Assignment)> _tasks = new();
    private readonly List<(string Site, GrantUpdate Grant)> _grants = new();

    public ValueTask PublishGrantAsync(string siteId, GrantUpdate grant, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _grants.Add((siteId, grant.Clone()));
        }

        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<GrantUpdate> Grants(string site)
    {
        lock (_lock)
        {
            return _grants.Where(p => p.Site == site).Select(p => p.Grant).ToList();
        }
    }

    public ValueTask PublishPlanAsync(string siteId, PlanSegment segment, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _plans.Add((siteId, segment.Clone()));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask PublishTaskAsync(string siteId, TaskAssignment assignment, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _tasks.Add((siteId, assignment.Clone()));
        }

        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<PlanSegment> Plans(string site)
    {
        lock (_lock)
        {
            return _plans.Where(p => p.Site == site).Select(p => p.Segment).ToList();
        }
    }

    public IReadOnlyList<TaskAssignment> Tasks(string site)
    {
        lock (_lock)
        {
            return _tasks.Where(p => p.Site == site).Select(p => p.Assignment).ToList();
        }
    }

    /// <summary>Segments for one step of a site.</summary>
    public IReadOnlyList<PlanSegment> PlansForStep(string site, uint step) => Plans(site).Where(p => p.FirstStep == step).ToList();
}
