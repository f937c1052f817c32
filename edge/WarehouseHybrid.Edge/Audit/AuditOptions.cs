namespace WarehouseHybrid.Edge.Audit;

/// <summary>
/// Settings of the audit log (configuration section <c>Edge:Audit</c>). With no <see cref="Directory"/> the daemon
/// uses <c>$STATE_DIRECTORY/audit</c> under systemd; without either, auditing is off.
/// </summary>
public sealed class AuditOptions
{
    /// <summary>Directory of the audit files (absolute); empty: <c>$STATE_DIRECTORY/audit</c> when systemd gives a state directory, else off.</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>A file is closed and a new one started before it would grow past this many bytes.</summary>
    public long MaxFileBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>Disk bound: the oldest files are deleted (and the deletion audited) so all files together stay within this.</summary>
    public long MaxTotalBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Entries the queue between the control loop and the writer holds; beyond it entries are dropped and counted.</summary>
    public int QueueCapacity { get; set; } = 4096;

    /// <summary>How often the control loop audits a sampled decision (besides every mode change); zero: never.</summary>
    public TimeSpan DecisionSampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest time written records may stay in the page cache before an fsync (also at rotation and shutdown).</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The directory to use after applying the systemd default; null when auditing is off.</summary>
    public string? ResolveDirectory(Func<string, string?>? getEnv = null) => Hosting.StateDirectory.Resolve(Directory, "audit", getEnv);

    /// <summary>A copy.</summary>
    public AuditOptions Clone() => (AuditOptions)MemberwiseClone();

    /// <summary>Every problem, each naming the option (prefix <paramref name="section"/>) and the value; empty when valid.</summary>
    public IReadOnlyList<string> Validate(string section = "Edge:Audit")
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(Directory) && (Directory.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || !Path.IsPathFullyQualified(Directory)))
        {
            errors.Add($"{section}:Directory: '{Directory}' must be an absolute path");
        }

        if (MaxFileBytes < 4096 || MaxFileBytes > 1L << 30)
        {
            errors.Add($"{section}:MaxFileBytes: {MaxFileBytes} must be in [4096, 1 GiB]");
        }

        if (MaxTotalBytes < 2 * MaxFileBytes)
        {
            errors.Add($"{section}:MaxTotalBytes: {MaxTotalBytes} must be at least twice MaxFileBytes ({MaxFileBytes}): the current file and at least one closed one");
        }

        if (QueueCapacity < 16 || QueueCapacity > 1_000_000)
        {
            errors.Add($"{section}:QueueCapacity: {QueueCapacity} must be in [16, 1000000]");
        }

        if (DecisionSampleInterval < TimeSpan.Zero || DecisionSampleInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{section}:DecisionSampleInterval: {DecisionSampleInterval} must be in [0, 1 h] (0: no sampled decisions)");
        }

        if (FsyncInterval <= TimeSpan.Zero || FsyncInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{section}:FsyncInterval: {FsyncInterval} must be in (0, 10 min]");
        }

        return errors;
    }
}
