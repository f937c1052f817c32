namespace WarehouseHybrid.Edge.Link;

/// <summary>Cloud link counters: every drop and refusal is counted somewhere here or in the outbox's counters.</summary>
/// <param name="Connects">Successful connections (first and reconnects).</param>
/// <param name="ConnectFailures">Failed connection attempts.</param>
/// <param name="TelemetryPublished">Telemetry records delivered (PUBACK received); re-deliveries after a reconnect count again.</param>
/// <param name="TelemetryDropped">Telemetry records not stored: refused by the outbox (cap, disk) or no outbox.</param>
/// <param name="EventsPublished">Event records delivered (PUBACK received).</param>
/// <param name="EventsDropped">Events lost before the outbox: the in-memory queue was full, or the outbox refused them.</param>
/// <param name="CommandsReceived">Plan, grant and task messages accepted by the parser.</param>
/// <param name="MalformedCommands">Command payloads that failed to parse, were too large or were addressed to another robot.</param>
public readonly record struct CloudLinkCounters(
    long Connects, long ConnectFailures, long TelemetryPublished, long TelemetryDropped, long EventsPublished, long EventsDropped,
    long CommandsReceived, long MalformedCommands)
{
    /// <summary>Records appended to the outbox and acknowledged durable.</summary>
    public long RecordsStored { get; init; }

    /// <summary>Records whose append was acknowledged but whose fsync failed (stored, durability unsure).</summary>
    public long SyncFailures { get; init; }

    /// <summary>Outbox records the broker refused for good (e.g. not authorized): skipped after logging, never retried.</summary>
    public long RefusedByBroker { get; init; }

    /// <summary>Publishes that failed because the connection went away (the records are re-sent after the reconnect).</summary>
    public long PublishFailures { get; init; }

    /// <summary>Records waiting in the outbox for delivery.</summary>
    public long Backlog { get; init; }

    /// <summary>Sparkplug messages published.</summary>
    public long SparkplugPublished { get; init; }

    /// <summary>Sparkplug messages dropped (queue full, or stale when the session was re-born).</summary>
    public long SparkplugDropped { get; init; }

    /// <summary>Whether delivery waits for the primary host to come online.</summary>
    public bool WaitingForHost { get; init; }

    /// <summary>Whether the outbox is open (false: its directory could not be opened; telemetry and events are dropped and counted).</summary>
    public bool OutboxOpen { get; init; }
}
