namespace WarehouseHybrid.Hil.World;

/// <summary>Which world invariant was broken.</summary>
public enum InvariantKind
{
    /// <summary>Two robots' centres in one cell.</summary>
    SharedCell = 0,
    /// <summary>Two robots exchanged cells in one step (passed through each other).</summary>
    Swap = 1,
    /// <summary>A robot's centre in an obstacle cell, or entering a blocked cell or one with a dropped item.</summary>
    InObstacle = 2,
    /// <summary>A robot's centre outside the map.</summary>
    OffMap = 3,
    /// <summary>A robot moved while its emergency stop was engaged.</summary>
    MovedWhileEmergencyStopped = 4,
    /// <summary>A robot's centre entered a cell a person stands in.</summary>
    EnteredPersonCell = 5,
    /// <summary>A moving robot's body touched a wall, another robot, a person or a dropped item.</summary>
    Collision = 6,
    /// <summary>A braking robot travelled farther than the safety shield's stopping envelope allows.</summary>
    StopEnvelopeExceeded = 7,
}

/// <summary>
/// One broken invariant with its context. A condition that persists over many steps is recorded once, when it
/// begins.
/// </summary>
/// <param name="Kind">What was broken.</param>
/// <param name="Time">World time after the offending step.</param>
/// <param name="StepNumber">Number of the offending step (1 = the first step).</param>
/// <param name="RobotIds">The robots (and people or items, by id) involved.</param>
/// <param name="Cells">The cells involved (for a swap: the cells before, in robot order; -1 = off the map).</param>
/// <param name="Message">A sentence for logs and test failures.</param>
public sealed record InvariantViolation(
    InvariantKind Kind,
    TimeSpan Time,
    long StepNumber,
    IReadOnlyList<string> RobotIds,
    IReadOnlyList<int> Cells,
    string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind} at t={Time.TotalSeconds:F3}s (step {StepNumber}): {Message}";
}

/// <summary>Thrown by <see cref="SimWorld.Step"/> when <see cref="SimWorldOptions.ThrowOnViolation"/> is set.</summary>
public sealed class InvariantViolationException : Exception
{
    /// <summary>Creates the exception for a violation.</summary>
    public InvariantViolationException(InvariantViolation violation)
        : base(violation?.ToString())
    {
        ArgumentNullException.ThrowIfNull(violation);
        Violation = violation;
    }

    /// <summary>The violation that stopped the world.</summary>
    public InvariantViolation Violation { get; }
}
