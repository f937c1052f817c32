using Microsoft.Extensions.Logging;
using WarehouseHybrid.Edge.Link;

namespace WarehouseHybrid.Edge.Sensing;

/// <summary>Settings of the site sensor subscriber.</summary>
/// <param name="SiteId">The site.</param>
/// <param name="Zones">The site's zones in cell coordinates.</param>
/// <param name="ResolveInterval">How often the robot's zone is re-resolved from its pose between messages.</param>
public sealed record SiteSensorSettings(string SiteId, IReadOnlyList<SiteZone> Zones, TimeSpan ResolveInterval);

/// <summary>
/// The second sensor source: takes the site's sensor topics (<see cref="SiteSensorTopics"/>) over the robot's one MQTT
/// connection (<see cref="CloudLink.AddSubscription"/>, so one reconnect loop and one TLS identity serve both),
/// applies them to a <see cref="SiteSensorState"/> and publishes the conditions at the robot's cell into the
/// <see cref="SensorSnapshotStore"/> (on every message and every <see cref="SiteSensorSettings.ResolveInterval"/>, as
/// the robot moves between zones). Malformed messages are counted and logged with their topic, never applied. The
/// control loop never waits on it.
/// </summary>
public sealed partial class SiteSensorSubscriber : ILinkSubscription, IDisposable
{
    private readonly SiteSensorSettings _settings;
    private readonly SensorSnapshotStore _store;
    private readonly Func<(int X, int Y)?> _robotCell;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SiteSensorState _state;
    private readonly Lock _gate = new();
    private ITimer? _timer;

    /// <summary>Creates a subscriber; attach it to the link with <see cref="CloudLink.AddSubscription"/>, then <see cref="Start"/>.</summary>
    /// <param name="settings">Site and zones.</param>
    /// <param name="store">Where the conditions go.</param>
    /// <param name="robotCell">The robot's current cell (x, y), null when not localised.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Logging.</param>
    public SiteSensorSubscriber(SiteSensorSettings settings, SensorSnapshotStore store, Func<(int X, int Y)?> robotCell, TimeProvider time, ILogger logger)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _robotCell = robotCell ?? throw new ArgumentNullException(nameof(robotCell));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _state = new SiteSensorState(settings.SiteId, settings.Zones);
        TopicFilter = SiteSensorTopics.Filter(settings.SiteId);
    }

    /// <inheritdoc />
    public string TopicFilter { get; }

    /// <summary>Messages applied.</summary>
    public long Applied
    {
        get
        {
            lock (_gate)
            {
                return _state.Applied;
            }
        }
    }

    /// <summary>Messages refused (malformed or unknown).</summary>
    public long Rejected
    {
        get
        {
            lock (_gate)
            {
                return _state.Rejected;
            }
        }
    }

    /// <summary>Starts the zone re-resolution timer.</summary>
    public void Start() =>
        _timer ??= _time.CreateTimer(static s => ((SiteSensorSubscriber)s!).Resolve(), this, _settings.ResolveInterval, _settings.ResolveInterval);

    /// <inheritdoc />
    public void Dispose() => _timer?.Dispose();

    /// <inheritdoc />
    public void OnMessage(string topic, ReadOnlySpan<byte> payload)
    {
        bool ok;
        string error;
        SiteConditions c = default;
        lock (_gate)
        {
            ok = _state.TryApply(topic, payload, _time.GetTimestamp(), out error);
            if (ok)
            {
                c = _state.Resolve(_robotCell());
            }
        }

        if (ok)
        {
            _store.PublishSite(c);
            if (c.EmergencyStop)
            {
                LogSiteEStop(_logger, topic);
            }
        }
        else
        {
            LogRejected(_logger, error);
        }
    }

    private void Resolve()
    {
        SiteConditions c;
        lock (_gate)
        {
            c = _state.Resolve(_robotCell());
        }

        _store.PublishSite(c);
    }

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Site sensor message refused: {Error}")]
    private static partial void LogRejected(ILogger logger, string error);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Site emergency stop engaged ({Topic})")]
    private static partial void LogSiteEStop(ILogger logger, string topic);
}
