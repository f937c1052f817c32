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

    /// <summary>QoS 1 commands awaiting their PUBACK at once (1 = strictly one after the other).</summary>
    public int MaxInFlight { get; set; } = 256;

    /// <summary>Robots' records are handed to their grains on this many lanes at once (one robot always on the same lane, in order).</summary>
    public int InboundLanes { get; set; } = 16;

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

        if (InboundLanes is < 1 or > 1024)
        {
            return $"Mqtt.InboundLanes must be 1-1024, got {InboundLanes}";
        }

        if (OutboundCapacity < 1)
        {
            return $"Mqtt.OutboundCapacity must be at least 1, got {OutboundCapacity}";
        }

        return null;
    }
}
