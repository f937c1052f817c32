using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Runtime;

namespace WarehouseHybrid.Hil.Fleet;

/// <summary>
/// The network between the lock-step fleet's robots and its local site, with the faults a broker and a WAN bring:
/// added latency with jitter (each message, each way), a broker outage or a killed silo (nothing gets through; the
/// site keeps seeing the last progress it heard), and a partition of single robots. Commands sent meanwhile are
/// held and delivered when the path is back, as the cloud bridge retries its QoS 1 publications. Deterministic
/// for a seed. Runs on the fleet's thread.
/// </summary>
public sealed class SiteLink
{
    private readonly PriorityQueue<(int Robot, IMessage Message), (TimeSpan Due, long Order)> _inFlight = new();
    private readonly List<(int Robot, IMessage Message)> _held = [];
    private readonly HashSet<int> _partitioned = [];
    private readonly Random _random;
    private readonly List<(TimeSpan Time, StepProgress[] Statuses)> _history = [];
    private StepProgress[] _heard = [];
    private long _order;

    /// <summary>Creates a clean link.</summary>
    public SiteLink(int seed)
    {
        _random = new Random(seed);
    }

    /// <summary>Added one-way latency.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Uniform extra delay in [0, Jitter] per message.</summary>
    public TimeSpan Jitter { get; set; }

    /// <summary>While true nothing gets through (broker down, or the silo killed).</summary>
    public bool Down { get; set; }

    /// <summary>Called for each message as it reaches a robot's inbox (recording).</summary>
    public Action<int, IMessage>? OnDelivered { get; set; }

    /// <summary>Messages delivered to robots.</summary>
    public long Delivered { get; private set; }

    /// <summary>Messages that had to wait for the path to come back.</summary>
    public long HeldBack { get; private set; }

    /// <summary>Cuts (or restores) one robot off the network.</summary>
    public void SetPartitioned(int robot, bool partitioned)
    {
        if (partitioned)
        {
            _partitioned.Add(robot);
        }
        else
        {
            _partitioned.Remove(robot);
        }
    }

    /// <summary>Whether a robot can reach the site now.</summary>
    public bool Reachable(int robot) => !Down && !_partitioned.Contains(robot);

    /// <summary>The cloud sends a command to a robot at <paramref name="now"/>.</summary>
    public void Send(int robot, IMessage message, TimeSpan now)
    {
        if (!Reachable(robot))
        {
            _held.Add((robot, message));
            HeldBack++;
            return;
        }

        _inFlight.Enqueue((robot, message), (now + Delay(), _order++));
    }

    /// <summary>Delivers every command due by <paramref name="now"/> (and releases held ones whose path is back).</summary>
    public void Deliver(TimeSpan now, IReadOnlyList<EdgeRuntime> runtimes)
    {
        for (var i = 0; i < _held.Count;)
        {
            if (Reachable(_held[i].Robot))
            {
                _inFlight.Enqueue(_held[i], (now + Delay(), _order++));
                _held.RemoveAt(i);
            }
            else
            {
                i++;
            }
        }

        while (_inFlight.TryPeek(out var item, out var key) && key.Due <= now)
        {
            _inFlight.Dequeue();
            var inbox = runtimes[item.Robot].PlanInbox;
            switch (item.Message)
            {
                case PlanSegment s: inbox.Post(s); break;
                case GrantUpdate g: inbox.Post(g); break;
                case TaskAssignment t: inbox.Post(t); break;
            }

            OnDelivered?.Invoke(item.Robot, item.Message);
            Delivered++;
        }
    }

    /// <summary>
    /// What the site hears at <paramref name="now"/>: each robot's status as it was one latency ago, or the last one
    /// heard while it is unreachable.
    /// </summary>
    public IReadOnlyList<StepProgress> Hear(TimeSpan now, StepProgress[] statuses)
    {
        if (_heard.Length != statuses.Length)
        {
            _heard = (StepProgress[])statuses.Clone();
        }

        if (Latency == TimeSpan.Zero && Jitter == TimeSpan.Zero)
        {
            _history.Clear();
            for (var i = 0; i < statuses.Length; i++)
            {
                if (Reachable(i))
                {
                    _heard[i] = statuses[i];
                }
            }

            return _heard;
        }

        _history.Add((now, (StepProgress[])statuses.Clone()));
        for (var i = 0; i < statuses.Length; i++)
        {
            if (!Reachable(i))
            {
                continue;
            }

            var seenAt = now - Delay();
            for (var h = _history.Count - 1; h >= 0; h--)
            {
                if (_history[h].Time <= seenAt)
                {
                    _heard[i] = _history[h].Statuses[i];
                    break;
                }
            }
        }

        var keepFrom = now - Latency - Jitter - TimeSpan.FromSeconds(1);
        _history.RemoveAll(h => h.Time < keepFrom);
        return _heard;
    }

    private TimeSpan Delay() => Latency + (Jitter > TimeSpan.Zero ? Jitter * _random.NextDouble() : TimeSpan.Zero);
}
