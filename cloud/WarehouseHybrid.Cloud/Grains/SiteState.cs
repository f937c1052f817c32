using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tasks;

namespace WarehouseHybrid.Cloud.Grains;

/// <summary>A site's map and roster, written once when the site is defined.</summary>
[GenerateSerializer, Alias("wh.cloud.SiteDefinitionState")]
public sealed class SiteDefinitionState
{
    /// <summary>The definition, or null for a site never defined.</summary>
    [Id(0)] public SiteDefinition? Definition { get; set; }

    /// <summary>The plan id robots see (kept across failovers so revisions stay comparable).</summary>
    [Id(1)] public string PlanId { get; set; } = string.Empty;

    /// <summary>When the site was defined.</summary>
    [Id(2)] public DateTimeOffset DefinedAt { get; set; }
}

/// <summary>The step checkpoint: the cycle, the open tasks and the counters, written before each step's plans go out.</summary>
[GenerateSerializer, Alias("wh.cloud.SiteCheckpointState")]
public sealed class SiteCheckpointState
{
    /// <summary>The step cycle.</summary>
    [Id(0)] public CycleCheckpoint? Cycle { get; set; }

    /// <summary>Open tasks and tasks ended since the history was last written.</summary>
    [Id(1)] public TaskPoolSnapshot? Tasks { get; set; }

    /// <summary>Running totals.</summary>
    [Id(2)] public SiteCounters Counters { get; set; } = new();
}

/// <summary>Tasks accepted since the last checkpoint, written before a submitter is answered.</summary>
[GenerateSerializer, Alias("wh.cloud.SiteIntakeState")]
public sealed class SiteIntakeState
{
    /// <summary>The entries.</summary>
    [Id(0)] public List<IntakeEntry> Entries { get; set; } = new();
}

/// <summary>Ended tasks and idempotency keys, written at most every <c>Cloud:Tasks:HistoryWriteInterval</c>.</summary>
[GenerateSerializer, Alias("wh.cloud.SiteHistoryState")]
public sealed class SiteHistoryState
{
    /// <summary>The history.</summary>
    [Id(0)] public TaskHistorySnapshot? History { get; set; }
}

/// <summary>A site's running totals (persisted with the checkpoint, so they survive a failover).</summary>
[GenerateSerializer, Alias("wh.cloud.SiteCounters")]
public sealed class SiteCounters
{
    [Id(0)] public long StepsDispatched { get; set; }
    [Id(1)] public long SegmentsPublished { get; set; }
    [Id(2)] public long GrantsPublished { get; set; }
    [Id(3)] public long AssignmentsPublished { get; set; }
    [Id(4)] public long ConfirmTimeouts { get; set; }
    [Id(5)] public long RobotStepsHeld { get; set; }
    [Id(6)] public long ForcedWaits { get; set; }
    [Id(7)] public long Fallbacks { get; set; }
    [Id(8)] public long InvalidPlans { get; set; }
    [Id(9)] public long PlanFailures { get; set; }
    [Id(10)] public long ErrandsReached { get; set; }
    [Id(11)] public long TasksFinished { get; set; }
    [Id(12)] public long TasksFailed { get; set; }
    [Id(13)] public long Resumes { get; set; }
    [Id(14)] public long CheckpointFailures { get; set; }

    /// <summary>A copy (the live counters go on changing while a checkpoint is written).</summary>
    public SiteCounters Copy() => (SiteCounters)MemberwiseClone();
}
