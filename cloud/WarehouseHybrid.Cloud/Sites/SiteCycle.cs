using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Validation;

namespace WarehouseHybrid.Cloud.Sites;

/// <summary>What a confirmation did to the cycle.</summary>
public enum ConfirmOutcome
{
    /// <summary>The robot is not on the roster.</summary>
    UnknownRobot = 0,
    /// <summary>The robot has now completed every step it was given: it can take part in the next step.</summary>
    CaughtUp = 1,
    /// <summary>The robot had already confirmed its last step; nothing changed.</summary>
    AlreadyConfirmed = 2,
    /// <summary>The robot reports an older step than the one it was given; it stays held.</summary>
    Behind = 3,
}

/// <summary>One robot's granted step of a dispatch.</summary>
/// <param name="RobotIndex">Roster index.</param>
/// <param name="RobotId">Robot id.</param>
/// <param name="Start">The confirmed pose the step starts from.</param>
/// <param name="Action">The action.</param>
/// <param name="Target">The pose after the action.</param>
/// <param name="Revision">The robot's plan revision (increases with every segment sent to it).</param>
public readonly record struct RobotStepOrder(int RobotIndex, string RobotId, RobotPose Start, RobotAction Action, RobotPose Target, ulong Revision)
{
    /// <summary>
    /// Whether the robot may start the step at once. False for a robot that follows another into the cell
    /// that robot is leaving: its grant comes when the leader confirms (docs/plan-contract.md).
    /// </summary>
    public bool Granted { get; init; } = true;

    /// <summary>The robot whose confirmation grants this step, or -1.</summary>
    public int GrantedBy { get; init; } = -1;
}

/// <summary>A grant released by a leader's confirmation: the follower may now run <paramref name="Step"/>.</summary>
/// <param name="RobotIndex">The follower's index.</param>
/// <param name="RobotId">The follower's id.</param>
/// <param name="Step">The step it may run.</param>
/// <param name="Revision">The plan revision that step was sent in.</param>
public readonly record struct ReleasedGrant(int RobotIndex, string RobotId, uint Step, ulong Revision);

/// <summary>A snapshot taken when planning of a step starts; hand it back to <see cref="SiteCycle.CompleteRound"/>.</summary>
public sealed class PlanningRound
{
    internal PlanningRound(uint step, RobotPose[] poses, bool[] movable, RobotPose[] heldTargets, bool timedOut)
    {
        Step = step;
        Poses = poses;
        Movable = movable;
        HeldTargets = heldTargets;
        TimedOut = timedOut;
    }

    /// <summary>The step being planned (S+1).</summary>
    public uint Step { get; }

    /// <summary>Every robot's confirmed pose at S: the optimizer's input.</summary>
    public RobotPose[] Poses { get; }

    /// <summary>Robots that have confirmed their last step and will get this step.</summary>
    public bool[] Movable { get; }

    /// <summary>Where a held robot may be heading (its last dispatched target); equals its pose for movable robots.</summary>
    internal RobotPose[] HeldTargets { get; }

    /// <summary>Whether the round started because the confirm timeout passed.</summary>
    public bool TimedOut { get; }
}

/// <summary>The result of a planned step: the granted steps to send and what was held back.</summary>
/// <param name="Step">The step number.</param>
/// <param name="Orders">One order per robot that gets the step.</param>
/// <param name="Held">Robots that got nothing (not confirmed).</param>
/// <param name="ForcedWaits">Moves turned into waits so no robot enters a cell a held robot may occupy.</param>
/// <param name="PlanWasInvalid">True when the optimizer's step broke a rule and every robot was made to wait.</param>
public sealed record StepDispatch(uint Step, IReadOnlyList<RobotStepOrder> Orders, int Held, int ForcedWaits, bool PlanWasInvalid);

/// <summary>One robot's place in the cycle, as the step checkpoint stores it.</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.RobotTrack")]
public readonly record struct RobotTrack
{
    /// <summary>Last confirmed pose (the start of its current step while it is awaited).</summary>
    [Id(0)] public RobotPose Pose { get; init; }

    /// <summary>Where its current step takes it.</summary>
    [Id(1)] public RobotPose Target { get; init; }

    /// <summary>The pose its current step started from.</summary>
    [Id(2)] public RobotPose StepStart { get; init; }

    /// <summary>The action of its current step.</summary>
    [Id(3)] public RobotAction StepAction { get; init; }

    /// <summary>Last step it confirmed (-1 before the first).</summary>
    [Id(4)] public long ConfirmedStep { get; init; }

    /// <summary>Last step it was given.</summary>
    [Id(5)] public uint DispatchedStep { get; init; }

    /// <summary>Whether the site waits for it.</summary>
    [Id(6)] public bool Awaited { get; init; }

    /// <summary>Its plan revision.</summary>
    [Id(7)] public ulong Revision { get; init; }

    /// <summary>The leader whose confirmation grants its step, or -1.</summary>
    [Id(8)] public int WaitingFor { get; init; }

    /// <summary>Whether its current step was sent granted.</summary>
    [Id(9)] public bool StepGranted { get; init; }
}

/// <summary>The whole cycle as the step checkpoint stores it.</summary>
/// <param name="Step">The current step S.</param>
/// <param name="Robots">Every robot, in roster order.</param>
/// <param name="PoseMismatches">Confirmations whose pose differed from the target.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.CycleCheckpoint")]
public sealed record CycleCheckpoint([property: Id(0)] uint Step, [property: Id(1)] RobotTrack[] Robots, [property: Id(2)] long PoseMismatches);

/// <summary>
/// The site's step clock as plain code (docs/plan-contract.md): which robots have confirmed the
/// current step, when the next can be planned, and the step each robot gets. A robot that has not
/// confirmed is held at its last confirmed pose and blocks both that cell and the cell it was sent
/// to; moves of other robots into those cells become waits (and so on down any chain of followers).
/// Not thread-safe: one owner (the site grain).
/// </summary>
public sealed class SiteCycle
{
    private readonly GridMap _map;
    private readonly Track[] _robots;
    private readonly Dictionary<string, int> _index;
    private readonly PlanValidator _validator;
    private readonly int[] _occupancy;
    private readonly List<ReleasedGrant> _released = new();
    private PlanningRound? _round;

    /// <summary>Starts the cycle at step 0 with every robot at its start pose, not yet confirmed.</summary>
    public SiteCycle(GridMap map, IReadOnlyList<RobotSeat> roster)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(roster);
        _map = map;
        _robots = new Track[roster.Count];
        _index = new Dictionary<string, int>(roster.Count, StringComparer.Ordinal);
        for (var i = 0; i < roster.Count; i++)
        {
            var start = new RobotPose(roster[i].StartCell, roster[i].StartHeading);
            _robots[i] = new Track(roster[i].RobotId, start);
            _index.Add(roster[i].RobotId, i);
        }

        _validator = new PlanValidator(map);
        _occupancy = new int[map.CellCount];
    }

    /// <summary>The current step S (the last one dispatched; 0 before the first).</summary>
    public uint Step { get; private set; }

    /// <summary>Number of robots.</summary>
    public int RobotCount => _robots.Length;

    /// <summary>Whether a round is being planned.</summary>
    public bool IsPlanning => _round is not null;

    /// <summary>Robots that have completed every step they were given.</summary>
    public int CaughtUpCount => _robots.Count(r => r.CaughtUp);

    /// <summary>Robots that were given the current step and have not confirmed it yet.</summary>
    public int AwaitingCount => _robots.Count(r => r.Awaited && !r.CaughtUp);

    /// <summary>Confirmations whose reported pose differed from the step's target (the reported one is used).</summary>
    public long PoseMismatches { get; private set; }

    /// <summary>Whether the next step may be planned now.</summary>
    /// <param name="timedOut">True when the confirm timeout of the current step has passed.</param>
    public bool CanPlan(bool timedOut) => !IsPlanning && CaughtUpCount > 0 && (timedOut || AwaitingCount == 0);

    /// <summary>Roster index of a robot, or -1.</summary>
    public int IndexOf(string robotId) => _index.TryGetValue(robotId, out var i) ? i : -1;

    /// <summary>Robot id at a roster index.</summary>
    public string RobotIdAt(int index) => _robots[index].Id;

    /// <summary>A robot's place in the cycle.</summary>
    public RobotTrack TrackAt(int index) => _robots[index].ToTrack();

    /// <summary>A robot's last confirmed pose.</summary>
    public RobotPose ConfirmedPose(int index) => _robots[index].Pose;

    /// <summary>Flag of <see cref="CopyRobotView"/>: the robot has not confirmed the step it was given (held back).</summary>
    public const byte ViewAwaited = 1;

    /// <summary>Flag of <see cref="CopyRobotView"/>: the robot's current step waits for its leader's grant.</summary>
    public const byte ViewWaitingForGrant = 2;

    /// <summary>
    /// Copies every robot's confirmed cell and heading, its planned target cell and its flags
    /// (<see cref="ViewAwaited"/>, <see cref="ViewWaitingForGrant"/>) into columns (the dashboard's map).
    /// </summary>
    public void CopyRobotView(Span<int> cells, Span<byte> headings, Span<int> targets, Span<byte> flags)
    {
        for (var i = 0; i < _robots.Length; i++)
        {
            var r = _robots[i];
            cells[i] = r.Pose.Cell;
            headings[i] = (byte)r.Pose.Heading;
            targets[i] = r.Target.Cell;
            flags[i] = (byte)((r.CaughtUp ? 0 : ViewAwaited) | (r.WaitingFor >= 0 ? ViewWaitingForGrant : 0));
        }
    }

    /// <summary>
    /// Records that a robot completed <paramref name="completedStep"/> and stands at
    /// <paramref name="reportedPose"/> (ignored when off the map or on an obstacle: the step's
    /// target is used instead).
    /// </summary>
    public ConfirmOutcome Confirm(string robotId, long completedStep, RobotPose reportedPose)
    {
        if (!_index.TryGetValue(robotId, out var i))
        {
            return ConfirmOutcome.UnknownRobot;
        }

        var r = _robots[i];
        if (r.CaughtUp)
        {
            return ConfirmOutcome.AlreadyConfirmed;
        }

        if (completedStep < r.DispatchedStep)
        {
            return ConfirmOutcome.Behind;
        }

        var pose = r.Target;
        if (_map.IsPassable(reportedPose.Cell) && Enum.IsDefined(reportedPose.Heading))
        {
            if (reportedPose != r.Target)
            {
                PoseMismatches++;
            }

            pose = reportedPose;
        }

        r.ConfirmedStep = completedStep;
        r.Pose = pose;
        r.Target = pose;
        ReleaseFollowersOf(i);
        return ConfirmOutcome.CaughtUp;
    }

    /// <summary>The cycle for the step checkpoint.</summary>
    public CycleCheckpoint Checkpoint() => new(Step, _robots.Select(static r => r.ToTrack()).ToArray(), PoseMismatches);

    /// <summary>
    /// Resumes from a checkpoint of the same roster (after a failover). Returns false, changing nothing, when the
    /// checkpoint does not fit the roster.
    /// </summary>
    public bool Restore(CycleCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.Robots.Length != _robots.Length || _round is not null)
        {
            return false;
        }

        for (var i = 0; i < _robots.Length; i++)
        {
            _robots[i].Load(checkpoint.Robots[i]);
        }

        Step = checkpoint.Step;
        PoseMismatches = checkpoint.PoseMismatches;
        return true;
    }

    /// <summary>
    /// The step orders of robots still awaited for the current step, as they were sent: after a failover the site
    /// sends them again (the robot ignores a revision it already has).
    /// </summary>
    public IReadOnlyList<RobotStepOrder> PendingOrders()
    {
        var orders = new List<RobotStepOrder>();
        for (var i = 0; i < _robots.Length; i++)
        {
            var r = _robots[i];
            if (r.Awaited && !r.CaughtUp && r.DispatchedStep == Step && Step > 0)
            {
                orders.Add(new RobotStepOrder(i, r.Id, r.StepStart, r.StepAction, r.Target, r.Revision) { Granted = r.StepGranted && r.WaitingFor < 0, GrantedBy = r.WaitingFor });
            }
        }

        return orders;
    }

    /// <summary>
    /// Moves the clock forward to <paramref name="step"/> when robots report having completed steps the checkpoint
    /// never saw dispatched (the checkpoint write failed before the silo died): the next step follows theirs.
    /// </summary>
    public void FastForward(uint step)
    {
        if (step > Step && _round is null)
        {
            Step = step;
        }
    }

    /// <summary>
    /// Grants released by confirmations since the last call (followers whose leader has now left the cell);
    /// the site publishes them as <c>GrantUpdate</c>s.
    /// </summary>
    public IReadOnlyList<ReleasedGrant> TakeReleasedGrants()
    {
        if (_released.Count == 0)
        {
            return [];
        }

        var grants = _released.ToArray();
        _released.Clear();
        return grants;
    }

    /// <summary>Robots whose current step still waits for a grant.</summary>
    public int UngrantedCount => _robots.Count(r => r.WaitingFor >= 0);

    private void ReleaseFollowersOf(int leader)
    {
        for (var f = 0; f < _robots.Length; f++)
        {
            var follower = _robots[f];
            if (follower.WaitingFor == leader)
            {
                follower.WaitingFor = -1;
                _released.Add(new ReleasedGrant(f, follower.Id, follower.DispatchedStep, follower.Revision));
            }
        }
    }

    /// <summary>Takes the snapshot for planning step S+1. Robots still unconfirmed stop being awaited (they are held).</summary>
    public PlanningRound BeginRound(bool timedOut)
    {
        if (_round is not null)
        {
            throw new InvalidOperationException($"step {_round.Step} is already being planned");
        }

        var n = _robots.Length;
        var poses = new RobotPose[n];
        var movable = new bool[n];
        var held = new RobotPose[n];
        for (var i = 0; i < n; i++)
        {
            var r = _robots[i];
            poses[i] = r.Pose;
            movable[i] = r.CaughtUp;
            held[i] = r.Target;
            if (!r.CaughtUp)
            {
                r.Awaited = false;
            }
        }

        _round = new PlanningRound(Step + 1, poses, movable, held, timedOut);
        return _round;
    }

    /// <summary>Gives up a round (the optimizer failed): the step is not advanced.</summary>
    public void AbortRound(PlanningRound round)
    {
        if (ReferenceEquals(_round, round))
        {
            _round = null;
        }
    }

    /// <summary>
    /// Applies the optimizer's actions for the round: checks them with the plan validator (an
    /// invalid step becomes all-wait, as in LoRR), turns moves into cells a held robot may occupy
    /// into waits, advances the step and returns the orders for the robots that get it.
    /// </summary>
    public StepDispatch CompleteRound(PlanningRound round, ReadOnlySpan<RobotAction> actions)
    {
        if (!ReferenceEquals(_round, round))
        {
            throw new InvalidOperationException($"round for step {round.Step} is not the one being planned");
        }

        var n = _robots.Length;
        var chosen = new RobotAction[n];
        var invalid = actions.Length != n;
        if (!invalid)
        {
            actions.CopyTo(chosen);
            var after = new RobotPose[n];
            invalid = !_validator.ValidateStep(round.Poses, chosen, after);
        }

        if (invalid)
        {
            Array.Fill(chosen, RobotAction.Wait);
        }

        for (var i = 0; i < n; i++)
        {
            if (!round.Movable[i])
            {
                chosen[i] = RobotAction.Wait;
            }
        }

        var forced = HoldBackMovesIntoBlockedCells(round, chosen);

        // A robot that moves into the cell another robot is leaving in this same step may start only once
        // that robot has confirmed (a reservation grant): physically the leader may be late. Robots that
        // would follow each other round a cycle could never be granted, so a cycle waits instead.
        var leaderOf = FindLeaders(round, chosen);
        if (BreakFollowCycles(leaderOf, chosen))
        {
            forced += HoldBackMovesIntoBlockedCells(round, chosen);
            leaderOf = FindLeaders(round, chosen);
        }

        var orders = new List<RobotStepOrder>(n);
        var heldCount = 0;
        for (var i = 0; i < n; i++)
        {
            var r = _robots[i];
            if (!round.Movable[i])
            {
                heldCount++;
                continue;
            }

            var start = round.Poses[i];
            var target = start.Apply(chosen[i], _map);
            r.Revision++;
            r.DispatchedStep = round.Step;
            r.StepStart = start;
            r.StepAction = chosen[i];
            r.StepGranted = leaderOf[i] < 0;
            r.Target = target;
            r.Awaited = true;
            r.WaitingFor = leaderOf[i];
            orders.Add(new RobotStepOrder(i, r.Id, start, chosen[i], target, r.Revision) { Granted = leaderOf[i] < 0, GrantedBy = leaderOf[i] });
        }

        Step = round.Step;
        _round = null;
        return new StepDispatch(round.Step, orders, heldCount, forced, invalid);
    }

    // For each robot moving forward into a cell another robot occupies now (and leaves in this step), that robot.
    private int[] FindLeaders(PlanningRound round, RobotAction[] chosen)
    {
        var n = chosen.Length;
        var leaderOf = new int[n];
        Array.Fill(leaderOf, -1);
        var startOccupant = new Dictionary<int, int>(n);
        for (var i = 0; i < n; i++)
        {
            startOccupant[round.Poses[i].Cell] = i;
        }

        for (var i = 0; i < n; i++)
        {
            if (round.Movable[i] && chosen[i] == RobotAction.Forward)
            {
                var into = round.Poses[i].Apply(RobotAction.Forward, _map).Cell;
                if (startOccupant.TryGetValue(into, out var leader) && leader != i)
                {
                    leaderOf[i] = leader;
                }
            }
        }

        return leaderOf;
    }

    // Turns every robot on a cycle of followers into a wait; true when it changed anything.
    private static bool BreakFollowCycles(int[] leaderOf, RobotAction[] chosen)
    {
        var n = leaderOf.Length;
        var state = new byte[n]; // 0 unseen, 1 on the current walk, 2 done
        var walk = new List<int>();
        var changed = false;
        for (var start = 0; start < n; start++)
        {
            walk.Clear();
            var at = start;
            while (at >= 0 && state[at] == 0)
            {
                state[at] = 1;
                walk.Add(at);
                at = leaderOf[at];
            }

            if (at >= 0 && state[at] == 1)
            {
                // at is on a cycle made by this walk: every robot from it to the walk's end waits.
                for (var k = walk.IndexOf(at); k < walk.Count; k++)
                {
                    chosen[walk[k]] = RobotAction.Wait;
                    leaderOf[walk[k]] = -1;
                }

                changed = true;
            }

            foreach (var m in walk)
            {
                state[m] = 2;
            }
        }

        return changed;
    }

    // Counts, per cell, the robots that may stand there after the step: held robots in both their
    // confirmed and their target cell, the others in their end cell. A mover whose end cell is shared
    // waits instead; repeat until nothing changes (waiting only ever removes conflicts it caused).
    private int HoldBackMovesIntoBlockedCells(PlanningRound round, RobotAction[] chosen)
    {
        var n = chosen.Length;
        var touched = new List<int>(n * 2);
        var forced = 0;
        bool changed;
        do
        {
            changed = false;
            foreach (var c in touched)
            {
                _occupancy[c] = 0;
            }

            touched.Clear();
            for (var i = 0; i < n; i++)
            {
                if (round.Movable[i])
                {
                    Occupy(round.Poses[i].Apply(chosen[i], _map).Cell, touched);
                }
                else
                {
                    Occupy(round.Poses[i].Cell, touched);
                    if (round.HeldTargets[i].Cell != round.Poses[i].Cell)
                    {
                        Occupy(round.HeldTargets[i].Cell, touched);
                    }
                }
            }

            for (var i = 0; i < n; i++)
            {
                if (!round.Movable[i] || chosen[i] != RobotAction.Forward)
                {
                    continue;
                }

                var end = round.Poses[i].Apply(RobotAction.Forward, _map).Cell;
                if (_occupancy[end] > 1)
                {
                    chosen[i] = RobotAction.Wait;
                    forced++;
                    changed = true;
                }
            }
        }
        while (changed);

        foreach (var c in touched)
        {
            _occupancy[c] = 0;
        }

        return forced;
    }

    private void Occupy(int cell, List<int> touched)
    {
        if ((uint)cell >= (uint)_occupancy.Length)
        {
            return;
        }

        if (_occupancy[cell]++ == 0)
        {
            touched.Add(cell);
        }
    }

    private sealed class Track(string id, RobotPose start)
    {
        public string Id { get; } = id;

        public RobotPose Pose { get; set; } = start;

        public RobotPose Target { get; set; } = start;

        public long ConfirmedStep { get; set; } = -1;

        public uint DispatchedStep { get; set; }

        public bool Awaited { get; set; } = true;

        public ulong Revision { get; set; }

        public bool CaughtUp => ConfirmedStep >= DispatchedStep;

        /// <summary>The leader whose confirmation grants this robot's current step, or -1.</summary>
        public int WaitingFor { get; set; } = -1;

        public RobotPose StepStart { get; set; } = start;

        public RobotAction StepAction { get; set; } = RobotAction.Wait;

        public bool StepGranted { get; set; } = true;

        public RobotTrack ToTrack() => new()
        {
            Pose = Pose,
            Target = Target,
            StepStart = StepStart,
            StepAction = StepAction,
            ConfirmedStep = ConfirmedStep,
            DispatchedStep = DispatchedStep,
            Awaited = Awaited,
            Revision = Revision,
            WaitingFor = WaitingFor,
            StepGranted = StepGranted,
        };

        public void Load(RobotTrack t)
        {
            Pose = t.Pose;
            Target = t.Target;
            StepStart = t.StepStart;
            StepAction = t.StepAction;
            ConfirmedStep = t.ConfirmedStep;
            DispatchedStep = t.DispatchedStep;
            Awaited = t.Awaited;
            Revision = t.Revision;
            WaitingFor = t.WaitingFor;
            StepGranted = t.StepGranted;
        }
    }
}
