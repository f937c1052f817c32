namespace WarehouseHybrid.Edge.Sensing;

/// <summary>
/// What the site's own sensors (MQTT, docs/mqtt-topics.md "Site sensors") say about this robot's surroundings:
/// the site-wide e-stop, and the speed limit and occupancy of the zone the robot is in. A struct copied into every
/// <see cref="SensorSnapshot"/>; the safety shield brakes on <see cref="EmergencyStop"/> and caps speed at
/// <see cref="SpeedLimitMps"/>.
/// </summary>
public struct SiteConditions
{
    /// <summary>Whether any site message arrived yet (false: no site facts, nothing is limited).</summary>
    public bool HasData;

    /// <summary><see cref="TimeProvider.GetTimestamp"/> of the latest site message.</summary>
    public long ReceivedTimestamp;

    /// <summary>The site-wide emergency stop is engaged (kept until the site releases it: staleness never clears it).</summary>
    public bool EmergencyStop;

    /// <summary>Speed limit of the robot's zone, m/s; <see cref="double.PositiveInfinity"/> when none applies.</summary>
    public double SpeedLimitMps;

    /// <summary>The robot's zone is reported occupied (people or equipment): a fact for the policies.</summary>
    public bool ZoneOccupied;

    /// <summary>The zone the robot is in (empty when none or not localised).</summary>
    public string Zone;

    /// <summary>No site facts: no limit, no e-stop.</summary>
    public static SiteConditions None => new() { SpeedLimitMps = double.PositiveInfinity, Zone = string.Empty };
}
