using Microsoft.Extensions.Logging;
using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Hil.Board;

/// <summary>Log messages of the virtual boards and the world driver (event ids 7100-7199).</summary>
internal static partial class BoardLog
{
    [LoggerMessage(EventId = 7100, Level = LogLevel.Information, Message = "Board {RobotId}: serial line closed by the daemon")]
    public static partial void LineClosed(ILogger logger, string robotId);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "Board {RobotId}: write failed ({Reason}); the board stops sending")]
    public static partial void WriteFailed(ILogger logger, string robotId, string reason);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Board {RobotId}: rejected a frame from the daemon: {Error} ({Detail})")]
    public static partial void FrameRejected(ILogger logger, string robotId, FrameError error, string? detail);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "Board {RobotId}: fault 0x{Code:X4} severity {Severity}")]
    public static partial void FaultReported(ILogger logger, string robotId, ushort code, byte severity);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Information, Message = "Board {RobotId}: latched fault cleared by the daemon")]
    public static partial void FaultCleared(ILogger logger, string robotId);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Error, Message = "Board {RobotId}: receive loop failed")]
    public static partial void ReceiveFailed(ILogger logger, string robotId, Exception exception);

    [LoggerMessage(EventId = 7110, Level = LogLevel.Information, Message = "World driver started: step {StepMs} ms, {Boards} boards, {Robots} robots")]
    public static partial void DriverStarted(ILogger logger, double stepMs, int boards, int robots);

    [LoggerMessage(EventId = 7111, Level = LogLevel.Information, Message = "World driver stopped after {Steps} steps ({Skipped} skipped, max lateness {MaxLatenessMs} ms)")]
    public static partial void DriverStopped(ILogger logger, long steps, long skipped, double maxLatenessMs);

    [LoggerMessage(EventId = 7112, Level = LogLevel.Error, Message = "World invariant violated: {Violation}")]
    public static partial void InvariantViolated(ILogger logger, string violation);

    [LoggerMessage(EventId = 7113, Level = LogLevel.Error, Message = "World driver stopped by an error")]
    public static partial void DriverFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7114, Level = LogLevel.Warning, Message = "World driver fell {Steps} steps behind real time and skipped them")]
    public static partial void StepsSkipped(ILogger logger, long steps);
}
