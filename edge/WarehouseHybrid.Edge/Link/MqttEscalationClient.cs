using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Decision;

namespace WarehouseHybrid.Edge.Link;

/// <summary>Escalation client counters.</summary>
/// <param name="Sent">Requests published.</param>
/// <param name="Refused">Requests refused by <see cref="MqttEscalationClient.TrySend"/> (link down, queue full, bad request).</param>
/// <param name="Expired">Requests whose deadline passed before they could be published (not sent).</param>
/// <param name="Answered">Responses matched to a waiting request within its deadline.</param>
/// <param name="Late">Responses discarded: their request's deadline had passed or the id is unknown (answered twice, never asked).</param>
/// <param name="Malformed">Responses that did not parse, had no correlation data, or named another robot.</param>
public readonly record struct EscalationCounters(long Sent, long Refused, long Expired, long Answered, long Late, long Malformed);

/// <summary>
/// <see cref="IEscalationClient"/> over the link's MQTT connection. <see cref="TrySend"/> never blocks the control
/// thread: it queues the request (bounded) for the link's sender, which publishes it on
/// <c>FleetTopics.EscalationRequest</c> at QoS 1 with the MQTT 5 response topic <c>.../cmd/escalation</c>, the
/// request id as correlation data, the traceparent as a user property and a message expiry at the deadline. A
/// response is matched by its correlation data (or request id) to a request still within its deadline; anything
/// later, unknown or repeated is discarded and counted. Escalations bypass the durable outbox on purpose: an answer
/// after the deadline is worthless, the deterministic fallback has already acted.
/// </summary>
public sealed class MqttEscalationClient : IEscalationClient
{
    private readonly string _robotId;
    private readonly TimeProvider _time;
    private readonly Func<bool> _linkUp;
    private readonly Action _wake;
    private readonly Channel<EscalationRequest> _queue;
    private readonly ConcurrentDictionary<string, long> _waiting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (EscalationResponse Response, long DeadlineMs)> _answers = new(StringComparer.Ordinal);
    private long _sent;
    private long _refused;
    private long _expired;
    private long _answered;
    private long _late;
    private long _malformed;

    /// <summary>Creates the client of one robot.</summary>
    /// <param name="robotId">The robot (requests and responses must name it).</param>
    /// <param name="capacity">Requests waiting for the sender at most.</param>
    /// <param name="time">The clock deadlines are judged by.</param>
    /// <param name="linkUp">Whether the link can publish now.</param>
    /// <param name="wake">Wakes the sender after a request is queued.</param>
    internal MqttEscalationClient(string robotId, int capacity, TimeProvider time, Func<bool> linkUp, Action wake)
    {
        _robotId = robotId;
        _time = time;
        _linkUp = linkUp;
        _wake = wake;
        _queue = Channel.CreateBounded<EscalationRequest>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <inheritdoc />
    public bool IsAvailable => _linkUp();

    /// <summary>Counters.</summary>
    public EscalationCounters Counters => new(
        Interlocked.Read(ref _sent), Interlocked.Read(ref _refused), Interlocked.Read(ref _expired), Interlocked.Read(ref _answered),
        Interlocked.Read(ref _late), Interlocked.Read(ref _malformed));

    /// <inheritdoc />
    public bool TrySend(EscalationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = NowMs();
        Prune(now);
        if (!_linkUp() || request.RequestId.Length == 0 || (request.RobotId.Length > 0 && request.RobotId != _robotId) || request.DeadlineUnixMs <= now)
        {
            Interlocked.Increment(ref _refused);
            return false;
        }

        if (request.RobotId.Length == 0)
        {
            request = request.Clone();
            request.RobotId = _robotId;
        }

        if (!_waiting.TryAdd(request.RequestId, request.DeadlineUnixMs))
        {
            Interlocked.Increment(ref _refused);
            return false;
        }

        if (!_queue.Writer.TryWrite(request))
        {
            _waiting.TryRemove(request.RequestId, out _);
            Interlocked.Increment(ref _refused);
            return false;
        }

        _wake();
        return true;
    }

    /// <inheritdoc />
    public bool TryTakeResponse(string requestId, [NotNullWhen(true)] out EscalationResponse? response)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        if (_answers.TryRemove(requestId, out var answer))
        {
            response = answer.Response;
            return true;
        }

        response = null;
        return false;
    }

    /// <summary>The next request for the sender, skipping (and counting) those already past their deadline.</summary>
    internal bool TryDequeue([NotNullWhen(true)] out EscalationRequest? request, out long remainingMs)
    {
        while (_queue.Reader.TryRead(out request))
        {
            remainingMs = request.DeadlineUnixMs - NowMs();
            if (remainingMs > 0)
            {
                return true;
            }

            _waiting.TryRemove(request.RequestId, out _);
            Interlocked.Increment(ref _expired);
        }

        remainingMs = 0;
        return false;
    }

    /// <summary>Counts a request that went out.</summary>
    internal void Published() => Interlocked.Increment(ref _sent);

    /// <summary>Drops a request whose publish failed: it will not be answered, the fallback decides.</summary>
    internal void Unsent(EscalationRequest request) => _waiting.TryRemove(request.RequestId, out _);

    /// <summary>Takes a message from <c>.../cmd/escalation</c>.</summary>
    internal void OnResponse(byte[]? correlationData, ReadOnlySpan<byte> payload)
    {
        EscalationResponse response;
        try
        {
            response = EscalationResponse.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException)
        {
            Interlocked.Increment(ref _malformed);
            return;
        }

        var id = correlationData is { Length: > 0 } ? Encoding.UTF8.GetString(correlationData) : response.RequestId;
        if (id.Length == 0 || (response.RobotId.Length > 0 && response.RobotId != _robotId) || (response.RequestId.Length > 0 && response.RequestId != id))
        {
            Interlocked.Increment(ref _malformed);
            return;
        }

        var now = NowMs();
        if (!_waiting.TryRemove(id, out var deadline) || deadline <= now)
        {
            Interlocked.Increment(ref _late);
            return;
        }

        _answers[id] = (response, deadline);
        Interlocked.Increment(ref _answered);
    }

    private void Prune(long now)
    {
        // Requests past their deadline will never be answered usefully, and answers nobody took are stale.
        foreach (var (id, deadline) in _waiting)
        {
            if (deadline <= now)
            {
                _waiting.TryRemove(id, out _);
            }
        }

        foreach (var (id, answer) in _answers)
        {
            if (answer.DeadlineMs + 10_000 <= now)
            {
                _answers.TryRemove(id, out _);
            }
        }
    }

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();
}
