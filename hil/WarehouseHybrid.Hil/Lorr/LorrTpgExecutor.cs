using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// The entry's executor under LoRR 2026 rules, carrying out the planner's multi-step plans under
/// delays with the product's action-dependency grants (a temporal plan graph, as the Start-Kit's
/// default executor after Ma, Kumar and Koenig 2017): each plan's actions are appended to the
/// robot's staged actions (waits dropped), and each planned entry into a cell joins that cell's
/// queue in plan order. Every tick a robot may start its next staged action when it is a turn, or a
/// forward move into a cell whose queue it heads (everyone planned to enter before it has left);
/// otherwise it holds. Nothing staged is ever dropped, so every planned step is eventually carried
/// out in order: plans that are collision-free and free of rotation cycles at plan time cannot
/// collide or deadlock however the robots are delayed.
/// </summary>
public sealed class LorrTpgExecutor
{
    private readonly GridMap _map;
    private readonly Queue<RobotAction>[] _staged;
    private readonly Dictionary<int, Queue<int>> _cellQueues = new();
    private readonly int[] _lastCell;

    /// <summary>Creates the executor with every robot first in the queue of its start cell.</summary>
    public LorrTpgExecutor(GridMap map, IReadOnlyList<RobotPose> starts)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(starts);
        _map = map;
        _staged = new Queue<RobotAction>[starts.Count];
        _lastCell = new int[starts.Count];
        Predicted = starts.ToArray();
        for (var i = 0; i < starts.Count; i++)
        {
            _staged[i] = new Queue<RobotAction>();
            _lastCell[i] = starts[i].Cell;
            QueueOf(starts[i].Cell).Enqueue(i);
        }
    }

    /// <summary>Each robot's pose once its staged actions are done (where the next plan starts).</summary>
    public RobotPose[] Predicted { get; }

    /// <summary>Staged actions not yet completed, per robot.</summary>
    public int Backlog(int robot) => _staged[robot].Count;

    /// <summary>The next staged action of <paramref name="robot"/>, or wait.</summary>
    public RobotAction Front(int robot) => _staged[robot].TryPeek(out var a) ? a : RobotAction.Wait;

    /// <summary>Appends a plan (per robot, actions from its predicted pose, one per planned step).</summary>
    public void Stage(IReadOnlyList<IReadOnlyList<RobotAction>> plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var length = 0;
        foreach (var p in plan)
        {
            length = Math.Max(length, p?.Count ?? 0);
        }

        // Step by step across robots, so each cell's queue follows the plan's time order.
        for (var t = 0; t < length; t++)
        {
            for (var i = 0; i < plan.Count && i < _staged.Length; i++)
            {
                var actions = plan[i];
                if (actions is null || t >= actions.Count || actions[t] == RobotAction.Wait)
                {
                    continue;
                }

                var a = actions[t];
                if (a == RobotAction.Forward)
                {
                    var next = Predicted[i].ForwardCell(_map);
                    if (!_map.IsPassable(next))
                    {
                        continue; // not a move the model allows: not staged
                    }

                    QueueOf(next).Enqueue(i);
                }

                Predicted[i] = Predicted[i].Apply(a, _map);
                _staged[i].Enqueue(a);
            }
        }
    }

    /// <summary>
    /// The commands of one tick: each robot's requested action (its staged front when granted, else
    /// wait), from the robots' current poses and whether each is part-way through an action.
    /// </summary>
    public void Commands(ReadOnlySpan<RobotPose> poses, Func<int, bool> busy, Span<RobotAction> requested) =>
        Commands(poses, busy, ReadOnlySpan<int>.Empty, 0, requested);

    /// <summary>
    /// The commands of one tick, with each robot's ticks already spent on its action under way
    /// (<paramref name="progress"/>, of <paramref name="counter"/> per action; empty: unknown). With
    /// progress known, a robot may follow the robot ahead into a cell it is leaving straight ahead
    /// (same heading) a tick behind it, instead of waiting until it has landed in the next cell: it
    /// progresses only while it stays at least a full cell behind the leader's current position,
    /// which holds whether or not the leader is delayed this tick, so squares never overlap.
    /// </summary>
    public void Commands(ReadOnlySpan<RobotPose> poses, Func<int, bool> busy, ReadOnlySpan<int> progress, int counter, Span<RobotAction> requested)
    {
        ArgumentNullException.ThrowIfNull(busy);
        var follow = FollowClosely && progress.Length == poses.Length && counter > 1;

        // A robot that has left a cell stops holding that cell's queue.
        for (var i = 0; i < poses.Length; i++)
        {
            if (poses[i].Cell != _lastCell[i])
            {
                var q = QueueOf(_lastCell[i]);
                if (q.Count > 0 && q.Peek() == i)
                {
                    q.Dequeue();
                }

                _lastCell[i] = poses[i].Cell;
            }
        }

        for (var i = 0; i < poses.Length; i++)
        {
            if (!_staged[i].TryPeek(out var a))
            {
                requested[i] = RobotAction.Wait;
                continue;
            }

            if (a != RobotAction.Forward)
            {
                requested[i] = a; // turns need no grant
                continue;
            }

            var next = poses[i].ForwardCell(_map);
            var q = next >= 0 ? QueueOf(next) : null;
            if (q is null)
            {
                requested[i] = RobotAction.Wait;
            }
            else if (q.Count == 0 || q.Peek() == i)
            {
                requested[i] = RobotAction.Forward;
            }
            else if (follow)
            {
                requested[i] = MayFollow(i, q, poses, busy, progress) ? RobotAction.Forward : RobotAction.Wait;
            }
            else
            {
                // Without progress a move under way was granted as the queue's head when it started.
                requested[i] = busy(i) ? RobotAction.Forward : RobotAction.Wait;
            }
        }
    }

    /// <summary>Whether robots may follow the robot ahead closely when progress is known (default true).</summary>
    public bool FollowClosely { get; init; } = true;

    // Robot i may progress into the cell whose queue is q when it is next after the head, the head
    // stands in that cell leaving it with i's heading, and after this tick i is still no further
    // into its move than the head already is into its own (the squares stay a full cell apart).
    private bool MayFollow(int i, Queue<int> q, ReadOnlySpan<RobotPose> poses, Func<int, bool> busy, ReadOnlySpan<int> progress)
    {
        var head = q.Peek();
        if (q.Count < 2 || q.ElementAt(1) != i)
        {
            return false;
        }

        var cell = poses[i].ForwardCell(_map);
        return poses[head].Cell == cell
            && poses[head].Heading == poses[i].Heading
            && busy(head)
            && Front(head) == RobotAction.Forward
            && progress[i] + 1 <= progress[head];
    }

    /// <summary>Drops each robot's staged front whose action has just completed (its pose changed).</summary>
    public void Completed(ReadOnlySpan<RobotPose> before, ReadOnlySpan<RobotPose> after)
    {
        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] != after[i] && _staged[i].Count > 0)
            {
                _staged[i].Dequeue();
            }
        }
    }

    private Queue<int> QueueOf(int cell)
    {
        if (!_cellQueues.TryGetValue(cell, out var q))
        {
            q = new Queue<int>();
            _cellQueues[cell] = q;
        }

        return q;
    }
}
