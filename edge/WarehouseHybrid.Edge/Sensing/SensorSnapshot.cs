using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Edge.Sensing;

/// <summary>
/// The latest serial sensor frame with when it arrived and the odometry integrated over every frame
/// received so far (so the control loop loses no motion when it samples slower than the board sends).
/// </summary>
public struct SensorSnapshot
{
    /// <summary>The latest frame.</summary>
    public SensorFrame Frame;

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the frame arrived.</summary>
    public long ReceivedTimestamp;

    /// <summary>Frames received so far; 0 means <see cref="Frame"/> is not valid yet.</summary>
    public ulong FrameCount;

    /// <summary>Cumulative world-frame displacement integrated from wheel speeds and IMU heading, metres.</summary>
    public double OdometryX;

    /// <summary>Cumulative world-frame displacement along y, metres.</summary>
    public double OdometryY;

    /// <summary>The site's sensors (MQTT) as they apply to this robot, with their own age (<see cref="SiteConditions.ReceivedTimestamp"/>).</summary>
    public SiteConditions Site;

    /// <summary>Whether any frame has arrived.</summary>
    public readonly bool HasFrame => FrameCount > 0;

    /// <summary>Measured forward speed, m/s (mean of the wheels).</summary>
    public readonly double LinearMps => HasFrame ? (Frame.LeftWheelMps + Frame.RightWheelMps) * 0.5 : 0.0;
}

/// <summary>Where a reading comes from.</summary>
public enum SensorSource : byte
{
    /// <summary>The controller board over the serial line.</summary>
    Serial = 0,
    /// <summary>Zone sensors and e-stops published by the site over MQTT.</summary>
    Site = 1,
}

/// <summary>
/// Holds the latest <see cref="SensorSnapshot"/>: the serial reader thread writes it, the control loop
/// copies it out without waiting for I/O (a tiny lock around a struct copy, no allocation).
/// </summary>
public sealed class SensorSnapshotStore
{
    /// <summary>Board frames more than this apart are treated as a gap and not integrated (seconds).</summary>
    private const double MaxIntegrationGapSeconds = 0.5;

    private readonly Lock _gate = new();
    private SensorSnapshot _latest;

    /// <summary>Stores a new frame and integrates the motion since the previous one (board clock for dt).</summary>
    public void Publish(in SensorFrame frame, long receivedTimestamp)
    {
        lock (_gate)
        {
            if (_latest.HasFrame)
            {
                var dt = unchecked(frame.BoardTimeMs - _latest.Frame.BoardTimeMs) / 1000.0;
                if (dt > 0 && dt <= MaxIntegrationGapSeconds)
                {
                    // Trapezoid rule on speed, mid-heading for direction.
                    var v0 = (_latest.Frame.LeftWheelMps + _latest.Frame.RightWheelMps) * 0.5;
                    var v1 = (frame.LeftWheelMps + frame.RightWheelMps) * 0.5;
                    var distance = (v0 + v1) * 0.5 * dt;
                    var mid = _latest.Frame.HeadingRad + (AngleDiff(_latest.Frame.HeadingRad, frame.HeadingRad) * 0.5);
                    _latest.OdometryX += distance * Math.Cos(mid);
                    _latest.OdometryY += distance * Math.Sin(mid);
                }
            }

            _latest.Frame = frame;
            _latest.ReceivedTimestamp = receivedTimestamp;
            _latest.FrameCount++;
        }
    }

    /// <summary>Replaces the site conditions (the site sensor subscriber, on its own thread).</summary>
    public void PublishSite(in SiteConditions site)
    {
        lock (_gate)
        {
            _latest.Site = site;
        }
    }

    /// <summary>Copies out the latest snapshot.</summary>
    public void Read(out SensorSnapshot snapshot)
    {
        lock (_gate)
        {
            snapshot = _latest;
        }
    }

    private static double AngleDiff(double from, double to)
    {
        var d = (to - from) % (2 * Math.PI);
        if (d > Math.PI)
        {
            d -= 2 * Math.PI;
        }
        else if (d <= -Math.PI)
        {
            d += 2 * Math.PI;
        }

        return d;
    }
}

/// <summary>Age and staleness of readings per source, against a configurable timeout.</summary>
/// <param name="time">The clock the readings were stamped with.</param>
/// <param name="staleAfter">Readings older than this are stale.</param>
public sealed class SensorFreshness(TimeProvider time, TimeSpan staleAfter)
{
    /// <summary>The timeout.</summary>
    public TimeSpan StaleAfter { get; } = staleAfter;

    /// <summary>Age of a reading stamped at <paramref name="receivedTimestamp"/>, at <paramref name="nowTimestamp"/>.</summary>
    public TimeSpan Age(long receivedTimestamp, long nowTimestamp) => time.GetElapsedTime(receivedTimestamp, nowTimestamp);

    /// <summary>Age of the site conditions at <paramref name="nowTimestamp"/>; null when no site message arrived yet.</summary>
    public TimeSpan? SiteAge(in SensorSnapshot snapshot, long nowTimestamp) =>
        snapshot.Site.HasData ? Age(snapshot.Site.ReceivedTimestamp, nowTimestamp) : null;

    /// <summary>Whether the snapshot is missing or older than the timeout.</summary>
    public bool IsStale(in SensorSnapshot snapshot, long nowTimestamp) =>
        !snapshot.HasFrame || Age(snapshot.ReceivedTimestamp, nowTimestamp) > StaleAfter;
}
