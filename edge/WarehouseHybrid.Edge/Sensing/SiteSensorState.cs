using System.Globalization;
using System.Text.Json;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Edge.Sensing;

/// <summary>A rectangle of grid cells the site publishes speed limits and occupancy for (inclusive bounds).</summary>
/// <param name="Id">Zone id as it appears in the topic (1-64 of [A-Za-z0-9_-]).</param>
/// <param name="MinX">Leftmost column.</param>
/// <param name="MinY">Top row.</param>
/// <param name="MaxX">Rightmost column.</param>
/// <param name="MaxY">Bottom row.</param>
public sealed record SiteZone(string Id, int MinX, int MinY, int MaxX, int MaxY)
{
    /// <summary>Whether the cell (x, y) lies in the zone.</summary>
    public bool Contains(int x, int y) => x >= MinX && x <= MaxX && y >= MinY && y <= MaxY;

    /// <summary>
    /// Parses "id:minX,minY,maxX,maxY" (the configuration form); throws <see cref="FormatException"/> naming
    /// <paramref name="where"/> and what is wrong.
    /// </summary>
    public static SiteZone Parse(string text, string where)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new FormatException($"{where}: '{text}' is not 'id:minX,minY,maxX,maxY'");
        }

        var id = text[..colon];
        if (!FleetTopics.IsValidId(id))
        {
            throw new FormatException($"{where}: zone id '{id}' must be 1-64 of [A-Za-z0-9_-]");
        }

        var parts = text[(colon + 1)..].Split(',');
        var v = new int[4];
        if (parts.Length != 4)
        {
            throw new FormatException($"{where}: zone '{id}' needs 4 numbers minX,minY,maxX,maxY, got {parts.Length}");
        }

        for (var i = 0; i < 4; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out v[i]) || v[i] < 0)
            {
                throw new FormatException($"{where}: zone '{id}' value {i + 1} '{parts[i]}' is not a non-negative integer");
            }
        }

        if (v[2] < v[0] || v[3] < v[1])
        {
            throw new FormatException($"{where}: zone '{id}' max ({v[2]},{v[3]}) is below min ({v[0]},{v[1]})");
        }

        return new SiteZone(id, v[0], v[1], v[2], v[3]);
    }
}

/// <summary>The site sensor topics under <c>wh/v1/{site}/site/</c> (docs/mqtt-topics.md, "Site sensors").</summary>
public static class SiteSensorTopics
{
    /// <summary>The filter the edge subscribes to.</summary>
    public static string Filter(string site) => $"{FleetTopics.Root}/{site}/site/#";

    /// <summary>Site-wide e-stop: <c>{"engaged": true, "source": "panel-3"}</c>, retained, QoS 1.</summary>
    public static string EmergencyStop(string site) => $"{FleetTopics.Root}/{site}/site/estop";

    /// <summary>Zone speed limit: <c>{"maxMps": 0.5}</c>; <c>{"maxMps": null}</c> or an empty retained payload lifts it.</summary>
    public static string SpeedLimit(string site, string zone) => $"{FleetTopics.Root}/{site}/site/zones/{zone}/speed-limit";

    /// <summary>Zone occupancy: <c>{"occupied": true}</c>, retained, QoS 1.</summary>
    public static string Occupancy(string site, string zone) => $"{FleetTopics.Root}/{site}/site/zones/{zone}/occupancy";
}

/// <summary>
/// The pure core of site sensing: applies site messages (topic + JSON payload) and resolves what applies at the
/// robot's cell. Not thread-safe: the subscriber serialises calls.
/// </summary>
public sealed class SiteSensorState
{
    private readonly string _prefix;
    private readonly IReadOnlyList<SiteZone> _zones;
    private readonly Dictionary<string, double> _limits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _occupied = new(StringComparer.Ordinal);
    private bool _eStop;
    private long _received;
    private bool _hasData;

    /// <summary>State for one site and its configured zones.</summary>
    public SiteSensorState(string site, IReadOnlyList<SiteZone> zones)
    {
        if (!FleetTopics.IsValidId(site))
        {
            throw new ArgumentException($"site id '{site}' must be 1-64 of [A-Za-z0-9_-]", nameof(site));
        }

        _prefix = $"{FleetTopics.Root}/{site}/site/";
        _zones = zones ?? throw new ArgumentNullException(nameof(zones));
    }

    /// <summary>Messages applied.</summary>
    public long Applied { get; private set; }

    /// <summary>Messages refused (unknown topic, malformed payload).</summary>
    public long Rejected { get; private set; }

    /// <summary>
    /// Applies one message; false with <paramref name="error"/> naming the topic and the problem when refused
    /// (the state is unchanged then).
    /// </summary>
    public bool TryApply(string topic, ReadOnlySpan<byte> payload, long receivedTimestamp, out string error)
    {
        ArgumentNullException.ThrowIfNull(topic);
        error = string.Empty;
        if (!topic.StartsWith(_prefix, StringComparison.Ordinal))
        {
            return Refuse(topic, "not a site sensor topic of this site", out error);
        }

        var leaf = topic[_prefix.Length..];
        try
        {
            if (leaf == "estop")
            {
                _eStop = payload.IsEmpty ? false : ReadBool(payload, "engaged");
            }
            else if (leaf.StartsWith("zones/", StringComparison.Ordinal))
            {
                var rest = leaf["zones/".Length..].Split('/');
                if (rest.Length != 2 || !FleetTopics.IsValidId(rest[0]))
                {
                    return Refuse(topic, "expected zones/{zone}/speed-limit or zones/{zone}/occupancy", out error);
                }

                switch (rest[1])
                {
                    case "speed-limit":
                        var limit = payload.IsEmpty ? (double?)null : ReadLimit(payload);
                        if (limit is { } l)
                        {
                            _limits[rest[0]] = l;
                        }
                        else
                        {
                            _limits.Remove(rest[0]);
                        }

                        break;
                    case "occupancy":
                        _occupied[rest[0]] = !payload.IsEmpty && ReadBool(payload, "occupied");
                        break;
                    default:
                        return Refuse(topic, $"unknown zone leaf '{rest[1]}'", out error);
                }
            }
            else
            {
                return Refuse(topic, $"unknown site leaf '{leaf}'", out error);
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return Refuse(topic, ex.Message, out error);
        }

        _received = receivedTimestamp;
        _hasData = true;
        Applied++;
        return true;
    }

    /// <summary>What applies at cell (x, y) (null: robot not localised: the strictest zone limit applies).</summary>
    public SiteConditions Resolve((int X, int Y)? cell)
    {
        var c = SiteConditions.None;
        c.HasData = _hasData;
        c.ReceivedTimestamp = _received;
        c.EmergencyStop = _eStop;
        foreach (var zone in _zones)
        {
            if (cell is { } at && !zone.Contains(at.X, at.Y))
            {
                continue;
            }

            if (_limits.TryGetValue(zone.Id, out var limit) && limit < c.SpeedLimitMps)
            {
                c.SpeedLimitMps = limit;
                c.Zone = zone.Id;
            }

            if (_occupied.TryGetValue(zone.Id, out var occupied) && occupied)
            {
                c.ZoneOccupied = true;
                c.Zone = c.Zone.Length == 0 ? zone.Id : c.Zone;
            }

            if (cell is not null && c.Zone.Length == 0)
            {
                c.Zone = zone.Id;
            }
        }

        return c;
    }

    private static bool ReadBool(ReadOnlySpan<byte> payload, string field)
    {
        var reader = new Utf8JsonReader(payload);
        using var doc = JsonDocument.ParseValue(ref reader);
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(field, out var v) || v.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new FormatException($"payload needs a boolean \"{field}\"");
        }

        return v.GetBoolean();
    }

    private static double? ReadLimit(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        using var doc = JsonDocument.ParseValue(ref reader);
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("maxMps", out var v))
        {
            throw new FormatException("payload needs \"maxMps\" (a number >= 0, or null to lift the limit)");
        }

        if (v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d) || d < 0)
        {
            throw new FormatException($"\"maxMps\" must be a finite number >= 0, got {v.GetRawText()}");
        }

        return d;
    }

    private bool Refuse(string topic, string why, out string error)
    {
        Rejected++;
        error = $"{topic}: {why}";
        return false;
    }
}
