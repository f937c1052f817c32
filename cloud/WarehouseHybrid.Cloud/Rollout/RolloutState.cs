namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>Where a rollout is.</summary>
[GenerateSerializer, Alias("wh.cloud.RolloutPhase")]
public enum RolloutPhase
{
    /// <summary>The canary robots run the new version and are being compared with the rest.</summary>
    Canary = 0,
    /// <summary>Every robot of the site was sent the new version.</summary>
    Promoted = 1,
    /// <summary>The canary robots were sent back to their previous model.</summary>
    RolledBack = 2,
}

/// <summary>One line of a rollout's audit trail: who did what, when and why.</summary>
/// <param name="At">Cloud clock.</param>
/// <param name="Actor">The authenticated caller for API actions, <c>rollout-policy</c> for automatic decisions.</param>
/// <param name="Action">started, deployed, evaluated, promoted, rolled-back.</param>
/// <param name="Detail">Why, with the numbers.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.AuditEntry")]
public sealed record AuditEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Actor,
    [property: Id(2)] string Action,
    [property: Id(3)] string Detail);

/// <summary>A rollout as persisted in grain state (and as GET /api/rollouts/{id} returns it).</summary>
[GenerateSerializer, Alias("wh.cloud.RolloutState")]
public sealed record RolloutState
{
    /// <summary>Rollout id.</summary>
    [Id(0)] public string Id { get; init; } = string.Empty;

    /// <summary>Site whose robots take part.</summary>
    [Id(1)] public string SiteId { get; init; } = string.Empty;

    /// <summary>The new model version.</summary>
    [Id(2)] public string Version { get; init; } = string.Empty;

    /// <summary>Requested canary share, percent.</summary>
    [Id(3)] public double Percentage { get; init; }

    /// <summary>Phase now.</summary>
    [Id(4)] public RolloutPhase Phase { get; init; }

    /// <summary>Canary robots (chosen by <see cref="CanarySelector"/>).</summary>
    [Id(5)] public string[] CanaryRobots { get; init; } = [];

    /// <summary>The other robots of the site.</summary>
    [Id(6)] public string[] BaselineRobots { get; init; } = [];

    /// <summary>When it started.</summary>
    [Id(7)] public DateTimeOffset StartedAt { get; init; }

    /// <summary>When it reached Promoted or RolledBack.</summary>
    [Id(8)] public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The rules in force when it started (later config changes do not move the goalposts).</summary>
    [Id(9)] public RolloutRules Rules { get; init; } = new();

    /// <summary>The last evaluation's comparisons.</summary>
    [Id(10)] public RolloutCheck[] LastChecks { get; init; } = [];

    /// <summary>The canary cohort at the last evaluation.</summary>
    [Id(11)] public CohortMetrics? Canary { get; init; }

    /// <summary>The baseline cohort at the last evaluation.</summary>
    [Id(12)] public CohortMetrics? Baseline { get; init; }

    /// <summary>Canary robots running the new version at the last evaluation.</summary>
    [Id(13)] public int Adopted { get; init; }

    /// <summary>Model deployment messages sent.</summary>
    [Id(14)] public long DeploymentsSent { get; init; }

    /// <summary>The audit trail, oldest first.</summary>
    [Id(15)] public List<AuditEntry> Audit { get; init; } = new();

    /// <summary>Per canary robot, the version it ran before (for the roll back).</summary>
    [Id(16)] public Dictionary<string, string> PreviousVersions { get; init; } = new();

    /// <summary>When it was last evaluated.</summary>
    [Id(17)] public DateTimeOffset LastEvaluatedAt { get; init; }
}

/// <summary>A stored package's description (GET /api/models).</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.ModelRecord")]
public sealed record ModelRecord
{
    [Id(0)] public string Version { get; init; } = string.Empty;
    [Id(1)] public string ModelName { get; init; } = string.Empty;
    [Id(2)] public string OnnxSha256 { get; init; } = string.Empty;
    [Id(3)] public string TrainingDataDigest { get; init; } = string.Empty;
    [Id(4)] public int Bytes { get; init; }
    [Id(5)] public DateTimeOffset UploadedAt { get; init; }
    [Id(6)] public string UploadedBy { get; init; } = string.Empty;
}
