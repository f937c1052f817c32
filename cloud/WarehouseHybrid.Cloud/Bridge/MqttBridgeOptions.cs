namespace WarehouseHybrid.Cloud.Bridge;

/// <summary>Settings of the MQTT bridge.</summary>
public sealed class MqttBridgeOptions
{
    /// <summary>Whether the silo runs the bridge at all (false: commands are discarded).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Broker host.</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>Broker port.</summary>
    public int Port { get; set; } = 1883;

    /// <summary>Client id; empty picks <c>cloud-bridge-{random}</c>.</summary>
    public string ClientId { get; set; } = string.Empty;

    /// <summary>Shared-subscription group; empty subscribes without <c>$share</c> (brokers without MQTT 5 shared subscriptions).</summary>
    public string SharedGroup { get; set; } = "cloud";

    /// <summary>Largest inbound payload accepted, in bytes.</summary>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>First reconnect delay (doubles with jitter up to <see cref="ReconnectMaxDelay"/>).</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Commands queued while the broker is away before publishers wait.</summary>
    public int OutboundCapacity { get; set; } = 100_000;

    /// <summary>Mutual TLS to the broker (empty: plain TCP, for the in-process demo broker).</summary>
    public Contracts.Security.ClientTlsFiles Tls { get; set; } = new();

    /// <summary>
    /// The Sparkplug primary host id this bridge announces on <c>spBv1.0/STATE/{id}</c> (retained; the Will says
    /// offline). Edges configured with the same id hold their data while no bridge is up. Empty: announce nothing.
    /// </summary>
    public string PrimaryHostId { get; set; } = "warehouse-cloud";

    /// <summary>
    /// Parallel ingress partitions: messages are handed to their routes (grain calls) this many at once; one robot's
    /// messages always go to the same partition, in order.
    /// </summary>
    public int IngressPartitions { get; set; } = 16;

    /// <summary>
    /// Messages waiting per partition (each acknowledged to the broker only once its route has handled it). When full,
    /// the MQTT receive path waits, so the broker keeps the backlog (its max_queued_messages) instead of this process
    /// growing without bound: at most <see cref="IngressPartitions"/> x this many messages of at most
    /// <see cref="MaxPayloadBytes"/>.
    /// </summary>
    public int IngressCapacity { get; set; } = 256;

    /// <summary>QoS 1 commands awaiting their PUBACK at once (1 = strictly one after the other); they go out in order.</summary>
    public int MaxInFlight { get; set; } = 256;

    /// <summary>Escalation requests being answered at once; beyond it they are refused (counted) and the edge falls back.</summary>
    public int MaxConcurrentEscalations { get; set; } = 64;

    /// <summary>Names the first bad setting, or returns null.</summary>
    public string? Check()
    {
        if (!Enabled)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(Host))
        {
            return "Mqtt.Host must be set";
        }

        if (Port is < 1 or > 65535)
        {
            return $"Mqtt.Port must be 1-65535, got {Port}";
        }

        if (SharedGroup.Length > 0 && !Contracts.Topics.FleetTopics.IsValidId(SharedGroup))
        {
            return $"Mqtt.SharedGroup '{SharedGroup}' must be 1-64 of [A-Za-z0-9_-] or empty";
        }

        if (MaxPayloadBytes is < 64 or > 16 * 1024 * 1024)
        {
            return $"Mqtt.MaxPayloadBytes must be 64 B - 16 MiB, got {MaxPayloadBytes}";
        }

        if (ReconnectDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectDelay)
        {
            return $"Mqtt.ReconnectDelay ({ReconnectDelay}) must be positive and at most Mqtt.ReconnectMaxDelay ({ReconnectMaxDelay})";
        }

        if (MaxInFlight is < 1 or > 65535)
        {
            return $"Mqtt.MaxInFlight must be 1-65535, got {MaxInFlight}";
        }

        if (OutboundCapacity < 1)
        {
            return $"Mqtt.OutboundCapacity must be at least 1, got {OutboundCapacity}";
        }

        if (Tls.Validate("Mqtt.Tls.", TimeProvider.System) is { Count: > 0 } tls)
        {
            return string.Join("; ", tls);
        }

        if (PrimaryHostId.Length > 0 && !Contracts.Sparkplug.SparkplugTopic.IsValidId(PrimaryHostId))
        {
            return $"Mqtt.PrimaryHostId '{PrimaryHostId}' must be 1-64 of [A-Za-z0-9_.-] or empty";
        }

        if (IngressPartitions is < 1 or > 64 || IngressCapacity is < 1 or > 1_000_000)
        {
            return $"Mqtt.IngressPartitions ({IngressPartitions}) must be 1-64 and Mqtt.IngressCapacity ({IngressCapacity}) 1-1,000,000";
        }

        if (MaxConcurrentEscalations is < 1 or > 10_000)
        {
            return $"Mqtt.MaxConcurrentEscalations must be 1-10,000, got {MaxConcurrentEscalations}";
        }

        return null;
    }
}
