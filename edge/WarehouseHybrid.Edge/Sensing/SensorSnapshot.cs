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

    /// <summary>Whether the site sensors are expected and their connection is up (filled in by <see cref="SensorSnapshotStore.Read"/>).</summary>
    public SiteLinkState SiteLink;

    /// <summary>Whether any frame has arrived.</summary>
    public readonly bool HasFrame => FrameCount > 0;

    /// <summary>Measured forward speed, m/s (mean of the wheels).</summary>
    public readonly double LinearMps => HasFrame ? (Frame.LeftWheelMps + Frame.RightWheelMps) * 0.5 : 0.0;
}

/// <summary>Whether the site sensor connection (MQTT) is expected and up.</summary>
public enum SiteLinkState : byte
{
    /// <summary>No site sensor source is configured: site facts are optional.</summary>
    NotExpected = 0,
    /// <summary>The source is connected: what it delivered (retained state included) is current.</summary>
    Up = 1,
    /// <summary>The source is configured but not connected: its facts may be stale or missing.</summary>
    Down = 2,
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
    private Func<bool>? _siteConnected;

    /// <summary>
    /// Declares the site sensor source (the MQTT subscriber): from now on every snapshot says whether its connection is
    /// up (<see cref="SensorSnapshot.SiteLink"/>), so the control loop can tell current site facts from stale ones.
    /// </summary>
    public void AttachSiteLink(Func<bool> isConnected) => Volatile.Write(ref _siteConnected, isConnected ?? throw new ArgumentNullException(nameof(isConnected)));

    /// <summary>Stores a new frame and integrates the motion since the previous one (board clock for dt); returns the new <see cref="SensorSnapshot.FrameCount"/>.</summary>
    public ulong Publish(in SensorFrame frame, long receivedTimestamp)
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
            return ++_latest.FrameCount;
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
        var site = Volatile.Read(ref _siteConnected);
        var link = site is null ? SiteLinkState.NotExpected : site() ? SiteLinkState.Up : SiteLinkState.Down;
        lock (_gate)
        {
            snapshot = _latest;
        }

        snapshot.SiteLink = link;
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

/// <summary>
/// Whether the site's facts (e-stop, zone limits) can be trusted as current. Site messages are retained and carry no
/// heartbeat, so their age says nothing; the connection does: while it is up, the broker has delivered the current
/// retained state. Stale means the source is configured and has never connected since start (missing), or has been
/// disconnected for longer than <paramref name="graceAfterLoss"/> (a reconnect within it changes nothing). The last
/// known facts stay in force either way: an engaged e-stop is only ever released by a fresh message.
/// Called once per tick by the control thread.
/// </summary>
/// <param name="time">The clock of the timestamps.</param>
/// <param name="graceAfterLoss">How long a lost connection may stay lost before the facts count as stale.</param>
public sealed class SiteFreshness(TimeProvider time, TimeSpan graceAfterLoss)
{
    private bool _everUp;
    private long _downSince = -1;

    /// <summary>Judges the snapshot's site link at <paramref name="nowTimestamp"/>; true when the site facts are stale or missing.</summary>
    public bool IsStale(in SensorSnapshot snapshot, long nowTimestamp)
    {
        switch (snapshot.SiteLink)
        {
            case SiteLinkState.NotExpected:
                return false;
            case SiteLinkState.Up:
                _everUp = true;
                _downSince = -1;
                return false;
        }

        if (!_everUp)
        {
            return true;
        }

        if (_downSince < 0)
        {
            _downSince = nowTimestamp;
        }

        return time.GetElapsedTime(_downSince, nowTimestamp) > graceAfterLoss;
    }
}
