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

    /// <summary>
    /// Client id: the broker keeps this bridge's persistent session under it, so it must be the same every time this
    /// silo starts and differ between silos. Empty: the cloud host uses <see cref="DefaultClientId"/> (machine name and
    /// silo port, stable across restarts of one silo, distinct for silos on one machine).
    /// </summary>
    public string ClientId { get; set; } = string.Empty;

    /// <summary>
    /// How long the broker keeps this bridge's session (its subscriptions and the QoS 1 messages queued or in flight
    /// for it) while the bridge is away (MQTT 5 session expiry interval; whole seconds). With a persistent broker a
    /// record the broker acknowledged to a robot reaches the bridge after a silo restart, a dropped link, or a graceful
    /// broker restart. Measured with Mosquitto 2.0.11 (docs/adr/0010-link.md): an offline member of a shared
    /// subscription keeps its share queued (it is not given to the members online) until it returns or the session
    /// expires, when the broker discards it, so this bounds how long a silo that never comes back holds its share; and
    /// a restart restores the session and its queue but not a <c>$share</c> subscription (a plain one, with an empty
    /// <see cref="SharedGroup"/>, is restored). Zero (default): no session, clean start every time, so the members
    /// online take over a dead silo's share at once. Set it (minutes) for one silo on a plain subscription, or for
    /// silos whose identities come back after a crash.
    /// </summary>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.Zero;

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

    /// <summary>The client id used when <see cref="ClientId"/> is empty: <c>cloud-bridge-{machine}-{silo port}</c>.</summary>
    public static string DefaultClientId(string machineName, int siloPort)
    {
        var machine = new string([.. machineName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        return $"cloud-bridge-{(machine.Length > 0 ? machine : "host")}-{siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

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

        if (ClientId.Length > 128 || ClientId.Any(c => char.IsControl(c) || c is '/' or '+' or '#'))
        {
            return $"Mqtt.ClientId '{ClientId}' must be at most 128 characters without control characters, '/', '+' or '#'";
        }

        if (SessionExpiry < TimeSpan.Zero || SessionExpiry.TotalSeconds >= uint.MaxValue || SessionExpiry.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return $"Mqtt.SessionExpiry must be whole seconds from 0 (no session) to below 2^32 s, got {SessionExpiry}";
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
