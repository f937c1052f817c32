using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

/// <summary>
/// Physical parameters of the simulated robots and their sensors. One set for the whole world (the fleet is
/// homogeneous). Validated by <see cref="Validate"/> when a <see cref="SimWorld"/> is built.
/// </summary>
public sealed record SimWorldOptions
{
    /// <summary>Grid geometry (cell size) shared with the edge.</summary>
    public GridGeometry Geometry { get; init; } = GridGeometry.Default;

    /// <summary>Radius of a robot's body as other robots' range sensors see it, metres.</summary>
    public double BodyRadiusMetres { get; init; } = 0.3;

    /// <summary>Largest forward or backward speed the motors reach, m/s.</summary>
    public double MaxLinearSpeedMps { get; init; } = 1.5;

    /// <summary>Largest yaw rate, rad/s.</summary>
    public double MaxAngularSpeedRadps { get; init; } = Math.PI;

    /// <summary>Linear acceleration (and deceleration without the brake), m/s^2.</summary>
    public double MaxLinearAccelerationMps2 { get; init; } = 1.0;

    /// <summary>Angular acceleration (and deceleration without the brake), rad/s^2.</summary>
    public double MaxAngularAccelerationRadps2 { get; init; } = 2 * Math.PI;

    /// <summary>Linear deceleration with the brake applied (brake flag, watchdog, fault), m/s^2.</summary>
    public double BrakeDecelerationMps2 { get; init; } = 2.0;

    /// <summary>Angular deceleration with the brake applied, rad/s^2.</summary>
    public double BrakeAngularDecelerationRadps2 { get; init; } = 4 * Math.PI;

    /// <summary>Command watchdog used when a command says <c>TimeoutMs = 0</c>.</summary>
    public TimeSpan DefaultCommandTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Distance between the wheels, metres (turns wheel speeds into ticks).</summary>
    public double WheelBaseMetres { get; init; } = 0.5;

    /// <summary>Encoder ticks per metre of wheel travel.</summary>
    public double TicksPerMetre { get; init; } = 2000;

    /// <summary>Relative standard deviation of each wheel's travel per step (0 = exact odometry).</summary>
    public double OdometryNoiseFraction { get; init; }

    /// <summary>Standard deviation of the reported heading, radians (0 = exact).</summary>
    public double HeadingNoiseStdRad { get; init; }

    /// <summary>Standard deviation of each range reading, metres (0 = exact).</summary>
    public double RangeNoiseStdMetres { get; init; }

    /// <summary>Seed of the noise generator, so noisy runs repeat exactly.</summary>
    public int NoiseSeed { get; init; } = 1;

    /// <summary>Range beyond which a beam reports no echo, metres.</summary>
    public double MaxRangeMetres { get; init; } = 10.0;

    /// <summary>Battery voltage at full charge, millivolts.</summary>
    public int BatteryFullMillivolts { get; init; } = 25_200;

    /// <summary>Battery percent lost per hour of simulated time (0 = never drains).</summary>
    public double BatteryDrainPercentPerHour { get; init; }

    /// <summary>Below this speed (m/s) a robot counts as at rest (collisions, stop envelope).</summary>
    public double RestSpeedMps { get; init; } = 0.01;

    /// <summary>
    /// The deceleration the edge's safety shield assumes for its stopping distance (EdgeOptions.BrakeDecel); when set,
    /// every brake that begins while moving must stop within v^2 / (2 * this) + <see cref="ShieldEnvelopeSlackMetres"/>.
    /// Null: not checked.
    /// </summary>
    public double? ShieldBrakeDecelerationMps2 { get; init; }

    /// <summary>Distance allowed beyond the shield's braking distance (one world step of travel and rounding), metres.</summary>
    public double ShieldEnvelopeSlackMetres { get; init; } = 0.03;

    /// <summary>Whether the first invariant violation throws <see cref="InvariantViolationException"/> from Step.</summary>
    public bool ThrowOnViolation { get; init; }

    /// <summary>How many violations are kept (the count goes on beyond it).</summary>
    public int MaxRecordedViolations { get; init; } = 1000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad field.</summary>
    public void Validate()
    {
        Positive(Geometry.CellSizeMetres, "Geometry.CellSizeMetres");
        Positive(BodyRadiusMetres, nameof(BodyRadiusMetres));
        Positive(MaxLinearSpeedMps, nameof(MaxLinearSpeedMps));
        Positive(MaxAngularSpeedRadps, nameof(MaxAngularSpeedRadps));
        Positive(MaxLinearAccelerationMps2, nameof(MaxLinearAccelerationMps2));
        Positive(MaxAngularAccelerationRadps2, nameof(MaxAngularAccelerationRadps2));
        Positive(BrakeDecelerationMps2, nameof(BrakeDecelerationMps2));
        Positive(BrakeAngularDecelerationRadps2, nameof(BrakeAngularDecelerationRadps2));
        Positive(WheelBaseMetres, nameof(WheelBaseMetres));
        Positive(TicksPerMetre, nameof(TicksPerMetre));
        Positive(MaxRangeMetres, nameof(MaxRangeMetres));
        Positive(DefaultCommandTimeout.TotalMilliseconds, nameof(DefaultCommandTimeout));
        Positive(MaxRecordedViolations, nameof(MaxRecordedViolations));
        NonNegative(OdometryNoiseFraction, nameof(OdometryNoiseFraction));
        NonNegative(HeadingNoiseStdRad, nameof(HeadingNoiseStdRad));
        NonNegative(RangeNoiseStdMetres, nameof(RangeNoiseStdMetres));
        NonNegative(BatteryDrainPercentPerHour, nameof(BatteryDrainPercentPerHour));
        NonNegative(RestSpeedMps, nameof(RestSpeedMps));
        NonNegative(ShieldEnvelopeSlackMetres, nameof(ShieldEnvelopeSlackMetres));
        if (ShieldBrakeDecelerationMps2 is { } shield)
        {
            Positive(shield, nameof(ShieldBrakeDecelerationMps2));
        }
        if (BodyRadiusMetres >= Geometry.CellSizeMetres / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(BodyRadiusMetres), BodyRadiusMetres,
                $"SimWorldOptions.BodyRadiusMetres must be less than half a cell ({Geometry.CellSizeMetres / 2} m) so neighbours fit");
        }
    }

    private static void Positive(double value, string field)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(field, value, $"SimWorldOptions.{field} must be positive and finite");
        }
    }

    private static void NonNegative(double value, string field)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(field, value, $"SimWorldOptions.{field} must be zero or positive");
        }
    }
}
