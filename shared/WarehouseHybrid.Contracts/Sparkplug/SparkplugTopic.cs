namespace WarehouseHybrid.Contracts.Sparkplug;

/// <summary>The message types of the Sparkplug B 3.0 topic namespace (specification section 4.1.1).</summary>
public enum SparkplugMessageType
{
    /// <summary>Edge node birth certificate.</summary>
    NBIRTH,
    /// <summary>Edge node death certificate (registered as the MQTT Will).</summary>
    NDEATH,
    /// <summary>Device birth certificate.</summary>
    DBIRTH,
    /// <summary>Device death certificate.</summary>
    DDEATH,
    /// <summary>Edge node data.</summary>
    NDATA,
    /// <summary>Device data.</summary>
    DDATA,
    /// <summary>Command to an edge node.</summary>
    NCMD,
    /// <summary>Command to a device.</summary>
    DCMD,
    /// <summary>Host application state (<c>spBv1.0/STATE/{host id}</c>, JSON payload).</summary>
    STATE,
}

/// <summary>
/// A parsed Sparkplug B topic: <c>spBv1.0/{group}/{type}/{edge node}[/{device}]</c> or <c>spBv1.0/STATE/{host id}</c>.
/// Ids are 1-64 characters of <c>[A-Za-z0-9_.-]</c>, so they can never inject topic levels or wildcards.
/// </summary>
/// <param name="Type">The message type.</param>
/// <param name="GroupId">The group id (empty for STATE).</param>
/// <param name="EdgeNodeId">The edge node id (the host id for STATE).</param>
/// <param name="DeviceId">The device id for DBIRTH, DDEATH, DDATA and DCMD; null otherwise.</param>
public readonly record struct SparkplugTopic(SparkplugMessageType Type, string GroupId, string EdgeNodeId, string? DeviceId)
{
    /// <summary>The namespace element of Sparkplug B.</summary>
    public const string Namespace = "spBv1.0";

    /// <summary>The longest id accepted.</summary>
    public const int MaxIdLength = 64;

    /// <summary>Whether a message type addresses a device (has a fourth id level).</summary>
    public static bool IsDeviceType(SparkplugMessageType type) =>
        type is SparkplugMessageType.DBIRTH or SparkplugMessageType.DDEATH or SparkplugMessageType.DDATA or SparkplugMessageType.DCMD;

    /// <summary>An edge node topic (NBIRTH, NDEATH, NDATA, NCMD).</summary>
    public static string Node(string groupId, SparkplugMessageType type, string edgeNodeId)
    {
        if (IsDeviceType(type) || type == SparkplugMessageType.STATE)
        {
            throw new ArgumentException($"{type} is not an edge node message type", nameof(type));
        }

        RequireId(groupId, nameof(groupId));
        RequireId(edgeNodeId, nameof(edgeNodeId));
        return $"{Namespace}/{groupId}/{type}/{edgeNodeId}";
    }

    /// <summary>A device topic (DBIRTH, DDEATH, DDATA, DCMD).</summary>
    public static string Device(string groupId, SparkplugMessageType type, string edgeNodeId, string deviceId)
    {
        if (!IsDeviceType(type))
        {
            throw new ArgumentException($"{type} is not a device message type", nameof(type));
        }

        RequireId(groupId, nameof(groupId));
        RequireId(edgeNodeId, nameof(edgeNodeId));
        RequireId(deviceId, nameof(deviceId));
        return $"{Namespace}/{groupId}/{type}/{edgeNodeId}/{deviceId}";
    }

    /// <summary>The primary host application's state topic <c>spBv1.0/STATE/{host id}</c> (Sparkplug 3.0).</summary>
    public static string State(string hostId)
    {
        RequireId(hostId, nameof(hostId));
        return $"{Namespace}/STATE/{hostId}";
    }

    /// <summary>This topic as a string.</summary>
    public override string ToString() => Type switch
    {
        SparkplugMessageType.STATE => State(EdgeNodeId),
        _ when IsDeviceType(Type) => Device(GroupId, Type, EdgeNodeId, DeviceId ?? string.Empty),
        _ => Node(GroupId, Type, EdgeNodeId),
    };

    /// <summary>Parses a Sparkplug B topic; on failure <paramref name="error"/> says which level is wrong.</summary>
    public static bool TryParse(string topic, out SparkplugTopic parsed, out string error)
    {
        ArgumentNullException.ThrowIfNull(topic);
        parsed = default;
        var parts = topic.Split('/');
        if (parts[0] != Namespace)
        {
            error = $"topic '{Shorten(topic)}': level 1 is '{Shorten(parts[0])}', expected '{Namespace}'";
            return false;
        }

        if (parts.Length == 3 && parts[1] == "STATE")
        {
            if (!IsValidId(parts[2]))
            {
                error = $"topic '{Shorten(topic)}': host id at level 3 is not 1-{MaxIdLength} characters of [A-Za-z0-9_.-]";
                return false;
            }

            parsed = new SparkplugTopic(SparkplugMessageType.STATE, string.Empty, parts[2], null);
            error = string.Empty;
            return true;
        }

        if (parts.Length is < 4 or > 5)
        {
            error = $"topic '{Shorten(topic)}': {parts.Length} levels, expected 4 (node) or 5 (device)";
            return false;
        }

        if (!Enum.TryParse<SparkplugMessageType>(parts[2], ignoreCase: false, out var type) || type == SparkplugMessageType.STATE
            || !parts[2].All(char.IsAsciiLetterUpper))
        {
            error = $"topic '{Shorten(topic)}': level 3 '{Shorten(parts[2])}' is not a Sparkplug message type";
            return false;
        }

        var device = IsDeviceType(type);
        if (device != (parts.Length == 5))
        {
            error = $"topic '{Shorten(topic)}': {type} needs {(device ? 5 : 4)} levels, found {parts.Length}";
            return false;
        }

        for (var i = 1; i < parts.Length; i++)
        {
            if (i != 2 && !IsValidId(parts[i]))
            {
                error = $"topic '{Shorten(topic)}': id at level {i + 1} is not 1-{MaxIdLength} characters of [A-Za-z0-9_.-]";
                return false;
            }
        }

        parsed = new SparkplugTopic(type, parts[1], parts[3], device ? parts[4] : null);
        error = string.Empty;
        return true;
    }

    /// <summary>Whether an id is 1-64 characters of <c>[A-Za-z0-9_.-]</c>.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    private static void RequireId(string id, string name)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException($"Sparkplug id '{Shorten(id ?? "(null)")}' must be 1-{MaxIdLength} characters of [A-Za-z0-9_.-]", name);
        }
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : string.Concat(s.AsSpan(0, 80), "...");
}
