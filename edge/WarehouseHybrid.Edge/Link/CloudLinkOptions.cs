using WarehouseHybrid.Contracts.Security;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Edge.Outbox;

namespace WarehouseHybrid.Edge.Link;

/// <summary>
/// Settings of the robot's MQTT link (configuration section <c>Edge:Link</c>): where its durable state lives, mutual
/// TLS, the outbox's fsync policy and caps, the Sparkplug B session and delivery limits. Validated at start
/// (<see cref="Validate"/>), each error naming the option.
/// </summary>
public sealed class CloudLinkOptions
{
    /// <summary>
    /// Directory of the link's durable state: the outbox segments (<c>outbox/</c>), the Sparkplug bdSeq and the
    /// record stream id. Empty: <c>$STATE_DIRECTORY/link</c> under systemd, else a temporary directory that is
    /// removed when the runtime stops (records then survive broker outages but not a restart; a warning says so).
    /// </summary>
    public string StateDirectory { get; set; } = string.Empty;

    /// <summary>Mutual TLS to the broker (empty: plain TCP, for the in-process demo broker).</summary>
    public ClientTlsFiles Tls { get; set; } = new();

    /// <summary>When appended records reach the disk (docs/adr/0006-outbox.md).</summary>
    public OutboxFsyncPolicy FsyncPolicy { get; set; } = OutboxFsyncPolicy.GroupCommit;

    /// <summary>Group commit period under <see cref="OutboxFsyncPolicy.GroupCommit"/>.</summary>
    public TimeSpan GroupCommitInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Soft cap of the outbox: beyond it the oldest undelivered routine telemetry is dropped (counted).</summary>
    public long OutboxMaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Hard cap: events, task, safety and audit records may use the room up to it, never dropped.</summary>
    public long OutboxHardMaxBytes { get; set; } = 320L * 1024 * 1024;

    /// <summary>Outbox records published and awaiting their PUBACK at once (replay after an outage is about this many times one round trip faster than one at a time).</summary>
    public int MaxInFlight { get; set; } = 64;

    /// <summary>Events waiting in memory for the link's thread to append them; beyond it new events are dropped and counted.</summary>
    public int EventQueueCapacity { get; set; } = 4096;

    /// <summary>Largest inbound command payload accepted.</summary>
    public int MaxCommandBytes { get; set; } = 256 * 1024;

    /// <summary>Largest model deployment accepted on <c>.../cmd/model</c> (it carries a whole model package; larger ones are rejected and reported).</summary>
    public int MaxModelDeploymentBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Publish the robot's telemetry as Sparkplug B 3.0 too (docs/mqtt-topics.md).</summary>
    public bool SparkplugEnabled { get; set; } = true;

    /// <summary>Sparkplug group id; empty: the site id.</summary>
    public string SparkplugGroupId { get; set; } = string.Empty;

    /// <summary>Sparkplug edge node id; empty: the robot id (the broker ACL binds it to the device's certificate).</summary>
    public string SparkplugEdgeNodeId { get; set; } = string.Empty;

    /// <summary>
    /// Sparkplug primary host application id whose STATE gates delivery: while it is offline, Sparkplug data is held
    /// (sent with is_historical later) and the outbox delivers nothing (a broker with no subscriber would drop it).
    /// The cloud bridge publishes this STATE (its default id is <c>warehouse-cloud</c>, which the daemon's
    /// appsettings.json sets). Empty (the default of the type, for embedded set-ups): no primary host; deliver
    /// whenever connected.
    /// </summary>
    public string PrimaryHostId { get; set; } = string.Empty;

    /// <summary>Sparkplug samples held in memory while offline (the oldest are dropped and counted beyond it).</summary>
    public int MaxHeldSamples { get; set; } = 10_000;

    /// <summary>A copy.</summary>
    public CloudLinkOptions Clone()
    {
        var copy = (CloudLinkOptions)MemberwiseClone();
        copy.Tls = new ClientTlsFiles { CaFile = Tls.CaFile, CertificateFile = Tls.CertificateFile, KeyFile = Tls.KeyFile, ServerName = Tls.ServerName };
        return copy;
    }

    /// <summary>Every problem, each naming the option (<c>Edge:Link:...</c>); empty when valid.</summary>
    public IReadOnlyList<string> Validate(TimeProvider time)
    {
        const string P = "Edge:Link:";
        var errors = new List<string>();
        if (StateDirectory.Length > 0 && StateDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            errors.Add($"{P}StateDirectory: '{StateDirectory}' is not a valid path");
        }

        errors.AddRange((Tls ?? new ClientTlsFiles()).Validate(P + "Tls:", time));
        if (GroupCommitInterval <= TimeSpan.Zero || GroupCommitInterval > TimeSpan.FromSeconds(10))
        {
            errors.Add($"{P}GroupCommitInterval: {GroupCommitInterval} must be in (0, 10 s]");
        }

        if (OutboxMaxBytes < 64 * 1024 || OutboxHardMaxBytes < OutboxMaxBytes)
        {
            errors.Add($"{P}OutboxMaxBytes/OutboxHardMaxBytes: {OutboxMaxBytes}/{OutboxHardMaxBytes} must be >= 64 KiB and ordered");
        }

        if (MaxInFlight is < 1 or > 1024)
        {
            errors.Add($"{P}MaxInFlight: {MaxInFlight} must be 1-1024");
        }

        if (EventQueueCapacity is < 16 or > 1_000_000)
        {
            errors.Add($"{P}EventQueueCapacity: {EventQueueCapacity} must be 16-1,000,000");
        }

        if (MaxCommandBytes is < 1024 or > 16 * 1024 * 1024)
        {
            errors.Add($"{P}MaxCommandBytes: {MaxCommandBytes} must be 1 KiB - 16 MiB");
        }

        if (MaxModelDeploymentBytes is < 64 * 1024 or > 256 * 1024 * 1024)
        {
            errors.Add($"{P}MaxModelDeploymentBytes: {MaxModelDeploymentBytes} must be 64 KiB - 256 MiB");
        }

        if (SparkplugGroupId.Length > 0 && !SparkplugTopic.IsValidId(SparkplugGroupId))
        {
            errors.Add($"{P}SparkplugGroupId: '{SparkplugGroupId}' must be 1-64 of [A-Za-z0-9_.-]");
        }

        if (SparkplugEdgeNodeId.Length > 0 && !SparkplugTopic.IsValidId(SparkplugEdgeNodeId))
        {
            errors.Add($"{P}SparkplugEdgeNodeId: '{SparkplugEdgeNodeId}' must be 1-64 of [A-Za-z0-9_.-]");
        }

        if (PrimaryHostId.Length > 0 && !SparkplugTopic.IsValidId(PrimaryHostId))
        {
            errors.Add($"{P}PrimaryHostId: '{PrimaryHostId}' must be 1-64 of [A-Za-z0-9_.-] or empty");
        }

        if (MaxHeldSamples is < 0 or > 10_000_000)
        {
            errors.Add($"{P}MaxHeldSamples: {MaxHeldSamples} must be 0-10,000,000");
        }

        return errors;
    }

    /// <summary>The state directory after applying the default; <paramref name="temporary"/> when it is a throw-away one.</summary>
    public string ResolveStateDirectory(string siteId, string robotId, out bool temporary, Func<string, string?>? getEnv = null)
    {
        temporary = false;
        if (StateDirectory.Length > 0)
        {
            return StateDirectory;
        }

        var state = (getEnv ?? Environment.GetEnvironmentVariable)("STATE_DIRECTORY");
        if (!string.IsNullOrWhiteSpace(state))
        {
            return Path.Combine(state.Split(':')[0], "link");
        }

        temporary = true;
        return Path.Combine(Path.GetTempPath(), $"wh-edge-link-{siteId}-{robotId}-{Environment.ProcessId}-{Guid.NewGuid():N}");
    }
}
