using WarehouseHybrid.Contracts.Sparkplug.Wire;
using Metric = WarehouseHybrid.Contracts.Sparkplug.Wire.Payload.Types.Metric;

namespace WarehouseHybrid.Contracts.Sparkplug;

/// <summary>Where an edge node's Sparkplug session stands.</summary>
public enum SparkplugSessionState
{
    /// <summary>No MQTT session: data is held and sent as historical after the next birth.</summary>
    Disconnected,
    /// <summary>Connected, waiting for the primary host's STATE online before the birth.</summary>
    WaitingForHost,
    /// <summary>Born: data flows as DDATA.</summary>
    Online,
    /// <summary>Connected but the primary host is offline: data is held and sent as historical when it is back.</summary>
    HostOffline,
}

/// <summary>Settings of one edge node's Sparkplug session.</summary>
/// <param name="GroupId">The Sparkplug group id (e.g. the site).</param>
/// <param name="EdgeNodeId">The edge node id (e.g. the robot's computer).</param>
public sealed record SparkplugSessionOptions(string GroupId, string EdgeNodeId)
{
    /// <summary>The primary host application id; when set, births wait for its STATE online (Sparkplug 3.0).</summary>
    public string? PrimaryHostId { get; init; }

    /// <summary>How many samples are held while offline; the oldest are dropped (and counted) beyond it.</summary>
    public int MaxHeldSamples { get; init; } = 10_000;

    /// <summary>
    /// Whether DDATA metrics carry their datatype. The specification says SHOULD NOT (the alias's birth defines
    /// it) but plain payload decoders such as Tahu's need it to decode a value, and it costs two bytes a metric.
    /// </summary>
    public bool DataTypesInData { get; init; } = true;
}

/// <summary>A message the shell publishes.</summary>
/// <param name="Topic">The Sparkplug topic.</param>
/// <param name="Payload">The protobuf payload.</param>
/// <param name="QoS">MQTT QoS (0 for births and data as the specification asks, 1 for the Will).</param>
public sealed record SparkplugMessage(string Topic, byte[] Payload, int QoS);

/// <summary>The reaction to an inbound message: what to publish, or why the message was ignored.</summary>
/// <param name="Messages">Messages to publish, in order.</param>
/// <param name="Rejected">Why the inbound message was rejected or ignored; null when it was handled.</param>
public readonly record struct SparkplugReaction(IReadOnlyList<SparkplugMessage> Messages, string? Rejected);

/// <summary>Session counters.</summary>
/// <param name="Births">NBIRTH messages produced (first births and rebirths).</param>
/// <param name="DataMessages">DDATA messages produced, historical included.</param>
/// <param name="HistoricalSamples">Held samples sent with is_historical.</param>
/// <param name="HeldDropped">Held samples dropped because <see cref="SparkplugSessionOptions.MaxHeldSamples"/> was reached.</param>
/// <param name="InboundRejected">STATE and NCMD messages rejected or ignored.</param>
public readonly record struct SparkplugSessionCounters(long Births, long DataMessages, long HistoricalSamples, long HeldDropped, long InboundRejected);

/// <summary>
/// A pure Sparkplug B 3.0 edge node state machine (no sockets): the shell feeds it connection events, inbound STATE
/// and NCMD payloads and device samples, and publishes the messages it returns. It owns bdSeq (persisted through
/// <see cref="IBdSeqStore"/>, registered in the NDEATH Will), the message seq (0-255, wrapping, NBIRTH = 0), the
/// aliases (unique within the node), report-by-exception DDATA by alias, rebirth on NCMD
/// <c>Node Control/Rebirth</c> = true, and holding data while offline to send with is_historical after the birth.
/// Not thread-safe: one caller at a time.
/// </summary>
public sealed class SparkplugSession
{
    /// <summary>Alias of the node's bdSeq metric.</summary>
    public const ulong BdSeqAlias = 0;

    /// <summary>Alias of the node's rebirth metric.</summary>
    public const ulong RebirthAlias = 1;

    /// <summary>Device k's metric with definition alias a has alias (k + 1) * AliasStride + a.</summary>
    public const ulong AliasStride = 1000;

    private readonly SparkplugSessionOptions _options;
    private readonly SparkplugMetricDefinition[] _definitions;
    private readonly IBdSeqStore _bdSeqStore;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Device> _devices = new(StringComparer.Ordinal);
    private readonly List<Device> _deviceOrder = [];
    private readonly Queue<HeldSample> _held = new();
    private readonly string _nbirthTopic;
    private readonly string _ndeathTopic;
    private int _nextDeviceIndex;
    private byte _nextSeq;
    private long _lastHostTimestamp = -1;
    private long _births;
    private long _dataMessages;
    private long _historical;
    private long _heldDropped;
    private long _inboundRejected;

    /// <summary>Creates a session for an edge node whose devices all report <paramref name="deviceMetrics"/>.</summary>
    public SparkplugSession(SparkplugSessionOptions options, IReadOnlyList<SparkplugMetricDefinition> deviceMetrics, IBdSeqStore bdSeqStore, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(deviceMetrics);
        _options = options;
        _bdSeqStore = bdSeqStore ?? throw new ArgumentNullException(nameof(bdSeqStore));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        if (options.MaxHeldSamples < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxHeldSamples {options.MaxHeldSamples} must be >= 0");
        }

        _definitions = [.. deviceMetrics];
        var names = new HashSet<string>(StringComparer.Ordinal);
        var aliases = new HashSet<ulong>();
        foreach (var d in _definitions)
        {
            if (string.IsNullOrEmpty(d.Name) || !names.Add(d.Name))
            {
                throw new ArgumentException($"metric name '{d.Name}' is empty or repeated", nameof(deviceMetrics));
            }

            if (d.Alias >= AliasStride || !aliases.Add(d.Alias))
            {
                throw new ArgumentException($"metric '{d.Name}': alias {d.Alias} is repeated or not below {AliasStride}", nameof(deviceMetrics));
            }

            if (!SparkplugValue.IsSupported(d.Type))
            {
                throw new ArgumentException($"metric '{d.Name}': data type {d.Type} is not a scalar type", nameof(deviceMetrics));
            }
        }

        _nbirthTopic = SparkplugTopic.Node(options.GroupId, SparkplugMessageType.NBIRTH, options.EdgeNodeId);
        _ndeathTopic = SparkplugTopic.Node(options.GroupId, SparkplugMessageType.NDEATH, options.EdgeNodeId);
        NodeCommandTopic = SparkplugTopic.Node(options.GroupId, SparkplugMessageType.NCMD, options.EdgeNodeId);
        HostStateTopic = options.PrimaryHostId is null ? null : SparkplugTopic.State(options.PrimaryHostId);
    }

    /// <summary>Where the session stands.</summary>
    public SparkplugSessionState State { get; private set; } = SparkplugSessionState.Disconnected;

    /// <summary>The bdSeq of the current (or last) MQTT session; -1 before the first <see cref="BeginConnect"/>.</summary>
    public int BdSeq { get; private set; } = -1;

    /// <summary>The seq the next message after the birth will carry.</summary>
    public byte NextSeq => _nextSeq;

    /// <summary>Samples held for historical delivery.</summary>
    public int HeldSamples => _held.Count;

    /// <summary>The node command topic the shell subscribes to.</summary>
    public string NodeCommandTopic { get; }

    /// <summary>The primary host's STATE topic the shell subscribes to, or null without a primary host.</summary>
    public string? HostStateTopic { get; }

    /// <summary>Counters.</summary>
    public SparkplugSessionCounters Counters => new(_births, _dataMessages, _historical, _heldDropped, _inboundRejected);

    /// <summary>
    /// Call before each MQTT CONNECT: takes the next bdSeq (previous + 1, wrapping at 256; 0 on first start),
    /// persists it, and returns the NDEATH to register as the MQTT Will.
    /// </summary>
    public SparkplugMessage BeginConnect()
    {
        var next = _bdSeqStore.TryLoad(out var last) ? (byte)(last + 1) : (byte)0; // byte arithmetic wraps 255 -> 0
        _bdSeqStore.Save(next);
        BdSeq = next;
        State = SparkplugSessionState.Disconnected;
        var payload = new Payload();
        payload.Metrics.Add(new Metric { Name = SparkplugPayloadReader.BdSeqMetric, Datatype = (uint)DataType.Uint64, LongValue = next });
        return new SparkplugMessage(_ndeathTopic, SparkplugPayloadEncoding.Encode(payload), 1);
    }

    /// <summary>
    /// Call when the MQTT session is up (Will registered with the last <see cref="BeginConnect"/>). Without a
    /// primary host the births are returned at once; with one, they follow its STATE online.
    /// </summary>
    public IReadOnlyList<SparkplugMessage> OnConnected()
    {
        if (BdSeq < 0)
        {
            throw new InvalidOperationException("OnConnected before BeginConnect: the Will (NDEATH) must carry the bdSeq");
        }

        if (_options.PrimaryHostId is not null)
        {
            State = SparkplugSessionState.WaitingForHost;
            return [];
        }

        return Birth();
    }

    /// <summary>Call when the MQTT session is lost: data is held until the next birth.</summary>
    public void OnDisconnected() => State = SparkplugSessionState.Disconnected;

    /// <summary>Handles a payload received on <see cref="HostStateTopic"/>.</summary>
    public SparkplugReaction OnHostState(ReadOnlySpan<byte> payload)
    {
        if (!SparkplugHostState.TryParse(payload, out var host, out var error))
        {
            return Reject(error);
        }

        if (host.TimestampMs < _lastHostTimestamp)
        {
            return Reject($"stale STATE (timestamp {host.TimestampMs} < {_lastHostTimestamp}) ignored");
        }

        _lastHostTimestamp = host.TimestampMs;
        switch (State)
        {
            case SparkplugSessionState.WaitingForHost or SparkplugSessionState.HostOffline when host.Online:
                return new SparkplugReaction(Birth(), null);
            case SparkplugSessionState.Online when !host.Online:
                State = SparkplugSessionState.HostOffline;
                return new SparkplugReaction([], null);
            default:
                return new SparkplugReaction([], null);
        }
    }

    /// <summary>Handles a payload received on <see cref="NodeCommandTopic"/>: <c>Node Control/Rebirth</c> = true re-sends the births.</summary>
    public SparkplugReaction OnNodeCommand(ReadOnlySpan<byte> payload)
    {
        if (!SparkplugPayloadReader.TryRead(payload, SparkplugMessageType.NCMD, out var command, out var error))
        {
            return Reject(error);
        }

        foreach (var m in command.Metrics)
        {
            var isRebirth = (m.HasName && m.Name == SparkplugPayloadReader.RebirthMetric) || (!m.HasName && m.HasAlias && m.Alias == RebirthAlias);
            if (!isRebirth)
            {
                continue;
            }

            if (!SparkplugValue.TryRead(m, DataType.Boolean, out var value, out var why))
            {
                return Reject($"NCMD '{SparkplugPayloadReader.RebirthMetric}': {why}");
            }

            if (!value.AsBoolean || value.IsNull)
            {
                return Reject($"NCMD '{SparkplugPayloadReader.RebirthMetric}' is not true");
            }

            // Not online: the births follow anyway on connect or when the host comes back.
            return State == SparkplugSessionState.Online ? new SparkplugReaction(Birth(), null) : new SparkplugReaction([], null);
        }

        return Reject("NCMD carries no metric this edge node handles");
    }

    /// <summary>
    /// Reports a device's current values (in the order of the definitions). A new device gets its DBIRTH when
    /// online; a known one gets a DDATA with the changed metrics by alias, or has them held while offline.
    /// </summary>
    public IReadOnlyList<SparkplugMessage> SetDevice(string deviceId, ReadOnlySpan<SparkplugValue> values)
    {
        if (values.Length != _definitions.Length)
        {
            throw new ArgumentException($"device '{deviceId}': expected {_definitions.Length} values, got {values.Length}", nameof(values));
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].Type != _definitions[i].Type)
            {
                throw new ArgumentException($"device '{deviceId}': metric '{_definitions[i].Name}' is {_definitions[i].Type}, value is {values[i].Type}", nameof(values));
            }
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!_devices.TryGetValue(deviceId, out var device))
        {
            device = new Device(deviceId, _nextDeviceIndex++, values.ToArray(), SparkplugTopic.Device(_options.GroupId, SparkplugMessageType.DBIRTH, _options.EdgeNodeId, deviceId),
                SparkplugTopic.Device(_options.GroupId, SparkplugMessageType.DDATA, _options.EdgeNodeId, deviceId),
                SparkplugTopic.Device(_options.GroupId, SparkplugMessageType.DDEATH, _options.EdgeNodeId, deviceId));
            _devices.Add(deviceId, device);
            _deviceOrder.Add(device);
            return State == SparkplugSessionState.Online ? [DeviceBirth(device, now)] : [];
        }

        List<int>? changed = null;
        for (var i = 0; i < values.Length; i++)
        {
            if (!values[i].Equals(device.Current[i]))
            {
                (changed ??= []).Add(i);
                device.Current[i] = values[i];
            }
        }

        if (changed is null)
        {
            return [];
        }

        if (State == SparkplugSessionState.Online && device.Born)
        {
            var payload = NewPayload(now, NextSeqValue());
            foreach (var i in changed)
            {
                payload.Metrics.Add(DataMetric(device, i, device.Current[i], historicalAt: null));
            }

            _dataMessages++;
            return [new SparkplugMessage(device.DataTopic, SparkplugPayloadEncoding.Encode(payload), 0)];
        }

        Hold(new HeldSample(device, now, [.. changed.Select(i => (i, device.Current[i]))]));
        return [];
    }

    /// <summary>Removes a device: DDEATH when it was born in the current session.</summary>
    public IReadOnlyList<SparkplugMessage> RemoveDevice(string deviceId)
    {
        if (!_devices.Remove(deviceId, out var device))
        {
            return [];
        }

        _deviceOrder.Remove(device);
        var wasBorn = device.Born;
        device.Born = false; // held samples of a removed device are not replayed
        if (State != SparkplugSessionState.Online || !wasBorn)
        {
            return [];
        }

        var payload = NewPayload(_time.GetUtcNow().ToUnixTimeMilliseconds(), NextSeqValue());
        return [new SparkplugMessage(device.DeathTopic, SparkplugPayloadEncoding.Encode(payload), 0)];
    }

    /// <summary>The alias a device's metric carries (unique within this edge node).</summary>
    public ulong AliasOf(string deviceId, int metricIndex) =>
        _devices.TryGetValue(deviceId, out var d) ? ((ulong)d.Index + 1) * AliasStride + _definitions[metricIndex].Alias
            : throw new KeyNotFoundException($"device '{deviceId}' is unknown");

    private List<SparkplugMessage> Birth()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        State = SparkplugSessionState.Online;
        _births++;
        var nbirth = NewPayload(now, 0);
        nbirth.Metrics.Add(new Metric { Name = SparkplugPayloadReader.BdSeqMetric, Alias = BdSeqAlias, Datatype = (uint)DataType.Uint64, LongValue = (ulong)BdSeq });
        nbirth.Metrics.Add(new Metric { Name = SparkplugPayloadReader.RebirthMetric, Alias = RebirthAlias, Datatype = (uint)DataType.Boolean, BooleanValue = false });
        _nextSeq = 1;
        var messages = new List<SparkplugMessage>(1 + _deviceOrder.Count + _held.Count)
        {
            new(_nbirthTopic, SparkplugPayloadEncoding.Encode(nbirth), 0),
        };
        foreach (var device in _deviceOrder)
        {
            messages.Add(DeviceBirth(device, now));
        }

        while (_held.TryDequeue(out var sample))
        {
            if (!sample.Device.Born)
            {
                continue; // removed meanwhile
            }

            var payload = NewPayload(now, NextSeqValue());
            foreach (var (index, value) in sample.Values)
            {
                payload.Metrics.Add(DataMetric(sample.Device, index, value, historicalAt: sample.TimestampMs));
            }

            _historical++;
            _dataMessages++;
            messages.Add(new SparkplugMessage(sample.Device.DataTopic, SparkplugPayloadEncoding.Encode(payload), 0));
        }

        return messages;
    }

    private SparkplugMessage DeviceBirth(Device device, long now)
    {
        var payload = NewPayload(now, NextSeqValue());
        for (var i = 0; i < _definitions.Length; i++)
        {
            var metric = new Metric { Name = _definitions[i].Name, Alias = AliasOf(device, i) };
            device.Current[i].WriteTo(metric, withType: true);
            payload.Metrics.Add(metric);
        }

        device.Born = true;
        return new SparkplugMessage(device.BirthTopic, SparkplugPayloadEncoding.Encode(payload), 0);
    }

    private Metric DataMetric(Device device, int index, SparkplugValue value, long? historicalAt)
    {
        var metric = new Metric { Alias = AliasOf(device, index) };
        value.WriteTo(metric, withType: _options.DataTypesInData);
        if (historicalAt is { } at)
        {
            metric.IsHistorical = true;
            metric.Timestamp = (ulong)at;
        }

        return metric;
    }

    private void Hold(HeldSample sample)
    {
        if (_options.MaxHeldSamples == 0)
        {
            _heldDropped++;
            return;
        }

        while (_held.Count >= _options.MaxHeldSamples)
        {
            _held.Dequeue();
            _heldDropped++;
        }

        _held.Enqueue(sample);
    }

    private ulong AliasOf(Device device, int index) => ((ulong)device.Index + 1) * AliasStride + _definitions[index].Alias;

    private byte NextSeqValue()
    {
        var seq = _nextSeq;
        _nextSeq = unchecked((byte)(seq + 1));
        return seq;
    }

    private static Payload NewPayload(long timestampMs, byte seq) => new() { Timestamp = (ulong)timestampMs, Seq = seq };

    private SparkplugReaction Reject(string reason)
    {
        _inboundRejected++;
        return new SparkplugReaction([], reason);
    }

    private sealed class Device(string id, int index, SparkplugValue[] current, string birthTopic, string dataTopic, string deathTopic)
    {
        public string Id { get; } = id;
        public int Index { get; } = index;
        public SparkplugValue[] Current { get; } = current;
        public string BirthTopic { get; } = birthTopic;
        public string DataTopic { get; } = dataTopic;
        public string DeathTopic { get; } = deathTopic;
        public bool Born { get; set; }
    }

    private sealed record HeldSample(Device Device, long TimestampMs, (int Index, SparkplugValue Value)[] Values);
}
