using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Localization;
using Heading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Plans;

/// <summary>What the robot should do this tick, from the plan.</summary>
public enum TargetKind : byte
{
    /// <summary>Stand still where it is (no plan, next step not granted, or a wait).</summary>
    Hold = 0,
    /// <summary>Drive straight to the centre of <see cref="StepTarget.Cell"/>.</summary>
    Move = 1,
    /// <summary>Turn in place to <see cref="StepTarget.Heading"/>.</summary>
    Rotate = 2,
}

/// <summary>Where the plan executor's current step wants the robot.</summary>
/// <param name="Kind">Hold, move or rotate.</param>
/// <param name="Step">Global step number (0 when holding without a step).</param>
/// <param name="Cell">Target cell (the current cell when holding).</param>
/// <param name="Heading">Target heading.</param>
/// <param name="X">Target cell centre x, metres.</param>
/// <param name="Y">Target cell centre y, metres.</param>
/// <param name="Theta">Target heading angle, radians.</param>
public readonly record struct StepTarget(TargetKind Kind, uint Step, int Cell, Heading Heading, double X, double Y, double Theta);

/// <summary>The executor's state as operators see it.</summary>
public enum ExecutorState : byte
{
    /// <summary>No pose yet: neither start options nor a plan segment said where the robot is.</summary>
    Unlocalized = 0,
    /// <summary>No step to run.</summary>
    Idle = 1,
    /// <summary>Running a granted step.</summary>
    Executing = 2,
    /// <summary>The next step is known but not granted: stop and wait here.</summary>
    WaitingGrant = 3,
}

/// <summary>How a plan message was taken.</summary>
public enum PlanApplyOutcome : byte
{
    /// <summary>Applied.</summary>
    Accepted = 0,
    /// <summary>Already had it (same plan and revision, or an older one); ignored.</summary>
    Ignored = 1,
    /// <summary>Refused (start pose disagrees, malformed steps); the robot holds.</summary>
    Rejected = 2,
}

/// <summary>The result of applying a plan message.</summary>
/// <param name="Outcome">Accepted, ignored or rejected.</param>
/// <param name="Reason">Why it was ignored or rejected, naming the field and value; empty when accepted.</param>
public readonly record struct PlanApplyResult(PlanApplyOutcome Outcome, string Reason)
{
    internal static PlanApplyResult Accepted => new(PlanApplyOutcome.Accepted, string.Empty);

    internal static PlanApplyResult Ignored(string why) => new(PlanApplyOutcome.Ignored, why);

    internal static PlanApplyResult Rejected(string why) => new(PlanApplyOutcome.Rejected, why);
}

/// <summary>Tolerances that decide when a step is done.</summary>
/// <param name="Position">Metres from the target cell centre.</param>
/// <param name="Angle">Radians from the target heading.</param>
/// <param name="RestLinear">Measured speed below which the robot is at rest, m/s.</param>
/// <param name="RestAngular">Measured yaw rate below which the robot is at rest, rad/s.</param>
public readonly record struct CompletionTolerances(double Position, double Angle, double RestLinear, double RestAngular);

/// <summary>
/// Runs the cloud's discrete plan (docs/plan-contract.md): holds the steps of <see cref="PlanSegment"/>s and
/// <see cref="GrantUpdate"/>s, runs only granted steps, in order, each once; refuses segments whose start
/// disagrees with the robot's own pose; decides completion by tolerance and rest. Pure and single-threaded:
/// the control loop owns it (plan messages reach it through the loop's inbox).
/// Losing the cloud needs no special case: no new grants arrive, so the robot finishes what is granted and holds.
/// </summary>
public sealed class PlanExecutor
{
    private readonly GridMap _map;
    private readonly GridGeometry _geometry;
    private readonly CompletionTolerances _tolerances;
    private readonly List<Entry> _steps = new(capacity: 64);
    private bool _currentStarted;

    /// <summary>Creates an executor for a map of the given size.</summary>
    public PlanExecutor(GridMap map, GridGeometry geometry, CompletionTolerances tolerances)
    {
        ArgumentNullException.ThrowIfNull(map);
        _map = map;
        _geometry = geometry;
        _tolerances = tolerances;
        PlanId = string.Empty;
        TraceId = string.Empty;
    }

    /// <summary>Whether the discrete pose is known.</summary>
    public bool HasPose { get; private set; }

    /// <summary>The discrete pose after <see cref="LastCompletedStep"/>.</summary>
    public RobotPose DiscretePose { get; private set; }

    /// <summary>Global step number of the last completed step (0 before any).</summary>
    public uint LastCompletedStep { get; private set; }

    /// <summary>The plan id of the latest accepted segment.</summary>
    public string PlanId { get; private set; }

    /// <summary>The revision of the latest accepted segment.</summary>
    public ulong Revision { get; private set; }

    /// <summary>Trace id of the latest accepted plan message.</summary>
    public string TraceId { get; private set; }

    /// <summary>Whether any segment has been accepted.</summary>
    public bool HasPlan { get; private set; }

    /// <summary>The highest step granted so far in the current revision (0 when none).</summary>
    public uint GrantedThroughStep
    {
        get
        {
            uint through = LastCompletedStep;
            foreach (var s in _steps)
            {
                if (!s.Granted || s.Step != through + 1)
                {
                    break;
                }

                through = s.Step;
            }

            return through;
        }
    }

    /// <summary>Number of steps held (completed ones are dropped).</summary>
    public int PendingStepCount => _steps.Count;

    /// <summary>The state for telemetry.</summary>
    public ExecutorState State
    {
        get
        {
            if (!HasPose)
            {
                return ExecutorState.Unlocalized;
            }

            if (!TryNext(out var next))
            {
                return ExecutorState.Idle;
            }

            return next.Granted ? ExecutorState.Executing : ExecutorState.WaitingGrant;
        }
    }

    /// <summary>Sets the discrete pose known at boot (start options); ignored once a pose is known.</summary>
    public void SetInitialPose(RobotPose pose)
    {
        if (!HasPose)
        {
            DiscretePose = pose;
            HasPose = true;
        }
    }

    /// <summary>Where the current step wants the robot; a hold at the discrete pose when nothing granted is due.</summary>
    public StepTarget CurrentTarget
    {
        get
        {
            if (!HasPose)
            {
                return default;
            }

            if (!TryNext(out var next) || !next.Granted || next.Action == RobotAction.Wait)
            {
                return Target(TargetKind.Hold, next.Granted ? next.Step : 0, DiscretePose.Cell, DiscretePose.Heading);
            }

            var kind = next.Action == RobotAction.Forward ? TargetKind.Move : TargetKind.Rotate;
            return Target(kind, next.Step, next.TargetCell, next.TargetHeading);
        }
    }

    /// <summary>
    /// Applies a plan segment: steps from the one after the last completed step on replace what was held
    /// from the segment's first step; older steps are ignored. Refused when the start disagrees.
    /// </summary>
    public PlanApplyResult Apply(PlanSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        if (HasPlan && segment.PlanId == PlanId && segment.Revision <= Revision)
        {
            return PlanApplyResult.Ignored($"plan '{segment.PlanId}' revision {segment.Revision} is not newer than {Revision}");
        }

        if (!_map.InBounds(segment.StartCell) || !IsHeading(segment.StartHeading))
        {
            return PlanApplyResult.Rejected($"start_cell {segment.StartCell} / start_heading {(int)segment.StartHeading} is not a pose on the {_map.Width}x{_map.Height} map");
        }

        if (segment.FirstStep == 0)
        {
            return PlanApplyResult.Rejected("first_step is 0; steps count from 1 (step S is the pose after S actions)");
        }

        // Decode and chain the steps: each must follow from the previous pose by its action.
        var start = new RobotPose(segment.StartCell, (Heading)segment.StartHeading);
        var pose = start;
        var decoded = new Entry[segment.Steps.Count];
        for (var i = 0; i < segment.Steps.Count; i++)
        {
            var s = segment.Steps[i];
            var expectedStep = segment.FirstStep + (uint)i;
            if (s.Step != expectedStep)
            {
                return PlanApplyResult.Rejected($"steps[{i}].step is {s.Step}, expected {expectedStep} (steps must run from first_step without gaps)");
            }

            if ((int)s.Action is < 0 or > 3 || !IsHeading(s.TargetHeading))
            {
                return PlanApplyResult.Rejected($"steps[{i}] (step {s.Step}): action {(int)s.Action} / target_heading {(int)s.TargetHeading} out of range");
            }

            var action = (RobotAction)(int)s.Action;
            var after = pose.Apply(action, _map);
            if (after.Cell < 0)
            {
                return PlanApplyResult.Rejected($"steps[{i}] (step {s.Step}): forward from cell {pose.Cell} facing {pose.Heading} leaves the map");
            }

            if (after.Cell != s.TargetCell || after.Heading != (Heading)s.TargetHeading)
            {
                return PlanApplyResult.Rejected($"steps[{i}] (step {s.Step}): {action} from ({pose.Cell}, {pose.Heading}) gives ({after.Cell}, {after.Heading}), not target ({s.TargetCell}, {(Heading)s.TargetHeading})");
            }

            decoded[i] = new Entry(s.Step, action, s.TargetCell, (Heading)s.TargetHeading, s.Granted);
            pose = after;
        }

        if (!HasPose)
        {
            // Not localised: the cloud's confirmed pose is the best there is.
            DiscretePose = start;
            HasPose = true;
            LastCompletedStep = segment.FirstStep - 1;
        }
        else if (!HasPlan && _steps.Count == 0 && LastCompletedStep == 0)
        {
            // First plan after a boot pose: the site's clock starts wherever it is.
            if (start != DiscretePose)
            {
                return RejectStart(segment.FirstStep - 1, start);
            }

            LastCompletedStep = segment.FirstStep - 1;
        }
        else
        {
            var check = CheckContinuity(segment.FirstStep, start, decoded);
            if (check.Outcome != PlanApplyOutcome.Accepted)
            {
                return check;
            }
        }

        // Replace held steps from the first new one on; keep older held steps.
        var from = Math.Max(segment.FirstStep, LastCompletedStep + 1);
        var inProgressKept = _currentStarted && TryNext(out var current) && current.Step >= from;
        _steps.RemoveAll(e => e.Step >= from);
        foreach (var e in decoded)
        {
            if (e.Step > LastCompletedStep)
            {
                _steps.Add(e);
            }
        }

        if (!inProgressKept)
        {
            _currentStarted = false;
        }

        PlanId = segment.PlanId;
        Revision = segment.Revision;
        TraceId = segment.TraceId;
        HasPlan = true;
        return PlanApplyResult.Accepted;
    }

    /// <summary>Extends grants of the current plan revision up to and including a step.</summary>
    public PlanApplyResult Apply(GrantUpdate grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (!HasPlan || grant.PlanId != PlanId || grant.Revision != Revision)
        {
            return PlanApplyResult.Ignored($"grant for plan '{grant.PlanId}' revision {grant.Revision} does not match the current plan '{PlanId}' revision {Revision}");
        }

        for (var i = 0; i < _steps.Count; i++)
        {
            if (_steps[i].Step <= grant.GrantedThroughStep && !_steps[i].Granted)
            {
                _steps[i] = _steps[i] with { Granted = true };
            }
        }

        TraceId = grant.TraceId;
        return PlanApplyResult.Accepted;
    }

    /// <summary>
    /// Checks whether the current step is done at the estimated pose; on completion advances the discrete pose
    /// and returns true with the step number. Wait steps complete at once. Call once per control tick.
    /// </summary>
    public bool Advance(in ContinuousPose pose, double measuredLinear, double measuredAngular, out uint completedStep)
    {
        completedStep = 0;
        if (!HasPose || !TryNext(out var next) || !next.Granted)
        {
            return false;
        }

        _currentStarted = true;
        if (next.Action != RobotAction.Wait)
        {
            var (cx, cy) = _geometry.CellCentre(_map, next.TargetCell);
            var dx = pose.X - cx;
            var dy = pose.Y - cy;
            var angleError = Math.Abs(GridGeometry.AngleDifference(pose.Theta, GridGeometry.Angle(next.TargetHeading)));
            var atRest = Math.Abs(measuredLinear) < _tolerances.RestLinear && Math.Abs(measuredAngular) < _tolerances.RestAngular;
            if ((dx * dx) + (dy * dy) > _tolerances.Position * _tolerances.Position || angleError > _tolerances.Angle || !atRest)
            {
                return false;
            }
        }

        _steps.RemoveAt(0);
        _currentStarted = false;
        DiscretePose = new RobotPose(next.TargetCell, next.TargetHeading);
        LastCompletedStep = next.Step;
        completedStep = next.Step;
        return true;
    }

    private PlanApplyResult CheckContinuity(uint firstStep, RobotPose start, Entry[] decoded)
    {
        var before = firstStep - 1;
        if (before == LastCompletedStep)
        {
            return start == DiscretePose ? InProgressCheck(decoded) : RejectStart(before, start);
        }

        if (before < LastCompletedStep)
        {
            // The segment starts in the past: its step at our last completed step must end where we are.
            var index = (int)(LastCompletedStep - firstStep);
            if (index >= decoded.Length)
            {
                return PlanApplyResult.Ignored($"segment ends at step {firstStep + (uint)decoded.Length - 1}, already completed through {LastCompletedStep}");
            }

            var there = new RobotPose(decoded[index].TargetCell, decoded[index].TargetHeading);
            return there == DiscretePose ? InProgressCheck(decoded) : RejectStart(LastCompletedStep, there);
        }

        // The segment starts after a held step: it must continue from that step's target.
        foreach (var e in _steps)
        {
            if (e.Step == before)
            {
                var there = new RobotPose(e.TargetCell, e.TargetHeading);
                return there == start
                    ? PlanApplyResult.Accepted
                    : PlanApplyResult.Rejected($"start ({start.Cell}, {start.Heading}) at step {before} disagrees with held step {before} target ({there.Cell}, {there.Heading})");
            }
        }

        // A gap with nothing held: the site moved its clock on while this robot stood still (confirm timeout).
        if (_steps.Count == 0 && start == DiscretePose)
        {
            LastCompletedStep = before;
            return PlanApplyResult.Accepted;
        }

        return RejectStart(before, start);
    }

    private PlanApplyResult InProgressCheck(Entry[] decoded)
    {
        // A step already under way cannot be swapped for another mid-motion.
        if (_currentStarted && TryNext(out var current))
        {
            foreach (var e in decoded)
            {
                if (e.Step == current.Step && (e.Action != current.Action || e.TargetCell != current.TargetCell || e.TargetHeading != current.TargetHeading))
                {
                    return PlanApplyResult.Rejected($"step {current.Step} is in progress as {current.Action} to ({current.TargetCell}, {current.TargetHeading}); the segment changes it to {e.Action} to ({e.TargetCell}, {e.TargetHeading})");
                }
            }
        }

        return PlanApplyResult.Accepted;
    }

    private PlanApplyResult RejectStart(uint step, RobotPose claimed) =>
        PlanApplyResult.Rejected($"start pose ({claimed.Cell}, {claimed.Heading}) at step {step} disagrees with the robot's pose ({DiscretePose.Cell}, {DiscretePose.Heading}) after step {LastCompletedStep}");

    private bool TryNext(out Entry next)
    {
        if (_steps.Count > 0 && _steps[0].Step == LastCompletedStep + 1)
        {
            next = _steps[0];
            return true;
        }

        next = default;
        return false;
    }

    private StepTarget Target(TargetKind kind, uint step, int cell, Heading heading)
    {
        var (x, y) = _geometry.CellCentre(_map, cell);
        return new StepTarget(kind, step, cell, heading, x, y, GridGeometry.Angle(heading));
    }

    private static bool IsHeading(Contracts.Fleet.Heading h) => (int)h is >= 0 and <= 3;

    private readonly record struct Entry(uint Step, RobotAction Action, int TargetCell, Heading TargetHeading, bool Granted);
}
