using Microsoft.Extensions.Logging;

namespace WarehouseHybrid.Edge.Outbox;

/// <summary>Log messages of the outbox (event ids 3400-3499).</summary>
internal static partial class OutboxLog
{
    [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "Outbox {Directory}: {Segments} segments, {Records} records, {Pending} pending after recovery")]
    public static partial void Recovered(ILogger logger, string directory, int segments, long records, long pending);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Warning, Message = "Outbox: torn tail of {Segment} truncated at offset {Offset} ({Bytes} bytes): {Problem}")]
    public static partial void TornTail(ILogger logger, string segment, long offset, long bytes, string problem);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Error, Message = "Outbox: corrupt segment {Segment} quarantined as {QuarantinedAs} at offset {Offset}, {Kept} good records kept: {Problem}")]
    public static partial void Quarantined(ILogger logger, string segment, string quarantinedAs, long offset, int kept, string problem);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Warning, Message = "Outbox: cap reached, dropped {Dropped} undelivered telemetry records from {Segment}")]
    public static partial void TelemetryDropped(ILogger logger, int dropped, string segment);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Error, Message = "Outbox: append of a {Class} record failed ({Rejection}): {Detail}")]
    public static partial void AppendFailed(ILogger logger, OutboxRecordClass @class, OutboxRejection rejection, string detail);

    [LoggerMessage(EventId = 3405, Level = LogLevel.Warning, Message = "Outbox: delivery cursor unreadable, delivery restarts at the oldest record: {Problem}")]
    public static partial void CursorUnreadable(ILogger logger, string problem);

    [LoggerMessage(EventId = 3406, Level = LogLevel.Error, Message = "Outbox: fsync failed: {Detail}")]
    public static partial void SyncFailed(ILogger logger, string detail);
}
