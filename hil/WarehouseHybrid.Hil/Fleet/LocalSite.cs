using System.Globalization;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Hil.Demo;
using WarehouseHybrid.Planning.Fleet;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Hil.Fleet;

/// <summary>Counters of a <see cref="LocalSite"/>.</summary>
/// <param name="Step">The site's current step.</param>
/// <param name="TasksSubmitted">Tasks handed to the optimizer.</param>
/// <param name="TasksFinished">Tasks the optimizer reports finished.</param>
/// <param name="SegmentsSent">Plan segments delivered.</param>
/// <param name="GrantsSent">Grant updates delivered.</param>
/// <param name="ConfirmTimeouts">Steps planned after the confirm timeout.</param>
/// <param name="PlanWallTime">Wall time spent in the optimizer.</param>
public readonly record struct LocalSiteStats(uint Step, long TasksSubmitted, long TasksFinished, long SegmentsSent, long GrantsSent, long ConfirmTimeouts, TimeSpan PlanWallTime);

/// <summary>
/// The site for lock-step in-process fleets: the cloud's own step cycle (<see cref="SiteCycle"/>: confirmations,
/// follower grants, held robots) and optimizer (<see cref="IFleetPlanner"/>), on the fleet's virtual clock, with
/// plan segments and grants posted straight into each runtime's plan inbox instead of over MQTT. The messages
/// are the wire contract's (docs/plan-contract.md), so the edge cannot tell the difference.
/// </summary>
public sealed class LocalSite
{
    private readonly SiteCycle _cycle;
    private readonly IFleetPlanner _planner;
    private readonly TaskFeeder _feeder;
    private readonly int _openTarget;
    private readonly TimeSpan _confirmTimeout;
    private readonly TimeSpan _budget;
    private readonly uint[] _lastReported;
    private readonly Random _trace;
    private readonly string _planId;
    private TimeSpan _stepStarted;
    private long _submitted;
    private long _finished;
    private long _segments;
    private long _grants;
    private long _timeouts;
    private TimeSpan _planWall;

    /// <summary>Creates the site for a roster; tasks come from a seeded <see cref="TaskFeeder"/> keeping <paramref name="openTasks"/> open.</summary>
    public LocalSite(GridMap map, IReadOnlyList<RobotSeat> roster, IFleetPlanner planner, int openTasks, int errandsPerTask, int seed, TimeSpan confirmTimeout, TimeSpan planBudget)
    {
        _cycle = new SiteCycle(map, roster);
        _planner = planner;
        _feeder = new TaskFeeder(map, errandsPerTask, seed);
        _openTarget = openTasks;
        _confirmTimeout = confirmTimeout;
        _budget = planBudget;
        _lastReported = new uint[roster.Count];
        Array.Fill(_lastReported, uint.MaxValue);
        _trace = new Random(seed);
        _planId = "local-" + seed.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Counters.</summary>
    public LocalSiteStats Stats => new(_cycle.Step, _submitted, _finished, _segments, _grants, _timeouts, _planWall);

    /// <summary>
    /// Reads every robot's progress, confirms completed steps, delivers released grants, and plans and dispatches the
    /// next step when the cycle allows (everyone confirmed, or the confirm timeout passed).
    /// </summary>
    public void Poll(TimeSpan now, IReadOnlyList<StepProgress> progress, Action<int, Google.Protobuf.IMessage> send)
    {
        for (var i = 0; i < progress.Count; i++)
        {
            var status = progress[i];
            if (status.DiscretePose is not { } pose || status.LastCompletedStep == _lastReported[i])
            {
                continue;
            }

            if (_cycle.Confirm(_cycle.RobotIdAt(i), status.LastCompletedStep, pose) is ConfirmOutcome.CaughtUp or ConfirmOutcome.AlreadyConfirmed)
            {
                _lastReported[i] = status.LastCompletedStep;
            }
        }

        foreach (var g in _cycle.TakeReleasedGrants())
        {
            send(g.RobotIndex, new GrantUpdate
            {
                RobotId = g.RobotId, PlanId = _planId, Revision = g.Revision, GrantedThroughStep = g.Step, TraceId = NextTrace(),
            });
            _grants++;
        }

        var timedOut = now - _stepStarted >= _confirmTimeout;
        if (!_cycle.CanPlan(timedOut))
        {
            return;
        }

        TopUpTasks();
        var round = _cycle.BeginRound(timedOut && _cycle.AwaitingCount > 0);
        var started = TimeProvider.System.GetTimestamp();
        var result = _planner.PlanStep(round.Poses, _budget);
        _planWall += TimeProvider.System.GetElapsedTime(started);
        var dispatch = _cycle.CompleteRound(round, result.Actions);
        _stepStarted = now;
        _finished += result.FinishedTaskIds.Count;
        if (round.TimedOut)
        {
            _timeouts++;
        }

        foreach (var order in dispatch.Orders)
        {
            var segment = new PlanSegment
            {
                RobotId = order.RobotId,
                PlanId = _planId,
                Revision = order.Revision,
                FirstStep = dispatch.Step,
                StartCell = order.Start.Cell,
                StartHeading = (ProtoHeading)order.Start.Heading,
                TraceId = NextTrace(),
            };
            segment.Steps.Add(new PlanStep
            {
                Step = dispatch.Step,
                Action = (PlanAction)order.Action,
                TargetCell = order.Target.Cell,
                TargetHeading = (ProtoHeading)order.Target.Heading,
                Granted = order.Granted,
            });
            send(order.RobotIndex, segment);
            _segments++;
        }
    }

    private void TopUpTasks()
    {
        var missing = _openTarget - _planner.OpenTaskCount;
        if (missing <= 0)
        {
            return;
        }

        foreach (var task in _feeder.Next(missing))
        {
            _planner.SubmitTask(new PlanningTask(task.Id, task.Errands));
            _submitted++;
        }
    }

    // W3C traceparent from the site's seeded generator, so a run repeats exactly.
    private string NextTrace()
    {
        Span<byte> bytes = stackalloc byte[24];
        _trace.NextBytes(bytes);
        return $"00-{Convert.ToHexStringLower(bytes[..16])}-{Convert.ToHexStringLower(bytes[16..])}-01";
    }
}
