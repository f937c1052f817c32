namespace WarehouseHybrid.Edge.Link;

/// <summary>
/// Something else of the robot that takes messages over the link's one MQTT connection (the site sensors): the link
/// subscribes to <see cref="TopicFilter"/> on every (re)connect and hands it each message whose topic matches.
/// </summary>
public interface ILinkSubscription
{
    /// <summary>The MQTT topic filter (QoS 1).</summary>
    string TopicFilter { get; }

    /// <summary>Handles one message; called on the MQTT client's receive path, so it must be quick and never throw.</summary>
    void OnMessage(string topic, ReadOnlySpan<byte> payload);
}
