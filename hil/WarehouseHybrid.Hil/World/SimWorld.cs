using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

/// <summary>
/// The simulated warehouse floor: a <see cref="GridMap"/> and the bodies of N robots with continuous poses,
/// moved by a unicycle model under each robot's latest <see cref="MotorCommand"/>, with acceleration and speed
/// limits, brake, board-side command watchdog and emergency stop; people walking along waypoints, items dropped
/// on the floor and cells blocked at run time, all seen by the robots' range sensors.
/// <para>
/// Time advances only through <see cref="Step"/> with a caller-chosen fixed step (no threads, no clocks inside),
/// so the same inputs give the same run, faster than real time for in-process fleets or paced by a
/// real-time driver for real daemons. Public members are thread-safe (one lock), so boards may apply commands
/// from their reader threads while a driver steps the world; <see cref="SenseConcurrent"/> is the exception that
/// lock-step fleets use to sense many robots in parallel between steps.
/// </para>
/// <para>
/// Conventions (those of <see cref="GridGeometry"/>): x = column direction, y = row direction (down the map),
/// angles from +x toward +y (east 0, south pi/2). A positive yaw rate increases the world angle. Range beam
/// <c>i</c> points at world angle <c>heading + i * 22.5 degrees</c> (<see cref="RangeScanLayout.BeamSpacingRad"/>),
/// measured from the robot's centre. Wheel travel follows the textbook unicycle in this frame:
/// right = v + w * b / 2, left = v - w * b / 2, so heading change = (right - left) / b.
/// </para>
/// <para>
/// After every step the invariants are checked (<see cref="InvariantKind"/>): no two robots' centres in one cell,
/// no two robots exchanging cells, no centre in an obstacle cell or off the map and none entering a blocked cell,
/// a cell with a dropped item or a cell with a person, no moving body touching anything, no motion while
/// e-stopped, and (when <see cref="SimWorldOptions.ShieldBrakeDecelerationMps2"/> is set) every brake stopping
/// within the shield's envelope. A violation is recorded once when it begins (<see cref="Violations"/>), and
/// thrown when <see cref="SimWorldOptions.ThrowOnViolation"/> is set.
/// </para>
/// </summary>
public sealed partial class SimWorld
{
    private readonly Lock _gate = new();
    private readonly List<SimRobot> _robots = [];
    private readonly Dictionary<string, int> _indexById = new(StringComparer.Ordinal);
    private readonly List<InvariantViolation> _violations = [];
    private readonly double _cell;
    private TimeSpan _now;
    private long _nowTicks; // _now, readable without the lock (boards read the time on every frame)
    private long _stepCount;
    private double _stepSeconds;
    private Action<int, int>? _moveRange;

    /// <summary>Creates an empty world on a map.</summary>
    public SimWorld(GridMap map, SimWorldOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        Options = options ?? new SimWorldOptions();
        Options.Validate();
        Map = map;
        _cell = Options.Geometry.CellSizeMetres;
        _blocked = new bool[map.CellCount];
        _itemCell = new bool[map.CellCount];
        _wall = new bool[map.CellCount];
        for (var c = 0; c < map.CellCount; c++)
        {
            _wall[c] = !map.IsPassable(c);
        }
        _cellHead = new int[map.CellCount];
        Array.Fill(_cellHead, -1);
        _cellOwnerStamp = new int[map.CellCount];
        _cellOwner = new int[map.CellCount];
        _previousOwnerStamp = new int[map.CellCount];
        _previousOwner = new int[map.CellCount];
        _personStamp = new int[map.CellCount];
    }

    /// <summary>The floor.</summary>
    public GridMap Map { get; }

    /// <summary>The physical parameters.</summary>
    public SimWorldOptions Options { get; }

    /// <summary>Grid geometry (cell size).</summary>
    public GridGeometry Geometry => Options.Geometry;

    /// <summary>Simulated time since the world began.</summary>
    public TimeSpan Now => TimeSpan.FromTicks(Volatile.Read(ref _nowTicks));

    /// <summary>Steps taken so far.</summary>
    public long StepCount
    {
        get { lock (_gate) { return _stepCount; } }
    }

    /// <summary>Number of robots.</summary>
    public int RobotCount
    {
        get { lock (_gate) { return _robots.Count; } }
    }

    /// <summary>The first violation, or null while every invariant has held.</summary>
    public InvariantViolation? FirstViolation
    {
        get { lock (_gate) { return _violations.Count > 0 ? _violations[0] : null; } }
    }

    /// <summary>Violations so far (up to <see cref="SimWorldOptions.MaxRecordedViolations"/>), oldest first; a copy.</summary>
    public IReadOnlyList<InvariantViolation> Violations
    {
        get { lock (_gate) { return [.. _violations]; } }
    }

    /// <summary>Total violations so far, including those beyond the recorded ones.</summary>
    public long ViolationCount
    {
        get { lock (_gate) { return _violationCount; } }
    }

    /// <summary>Adds a robot at the centre of a cell, facing a heading; returns its index.</summary>
    public int AddRobot(string id, int cell, Heading heading)
    {
        if (!Map.InBounds(cell))
        {
            throw new ArgumentOutOfRangeException(nameof(cell), cell, $"robot '{id}': cell {cell} is not on map '{Map.Name}' ({Map.Width}x{Map.Height})");
        }

        var (x, y) = Geometry.CellCentre(Map, cell);
        return AddRobot(id, x, y, GridGeometry.Angle(heading));
    }

    /// <summary>Adds a robot at a world pose (metres, world-angle radians); returns its index.</summary>
    public int AddRobot(string id, double x, double y, double thetaRad)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        lock (_gate)
        {
            if (_indexById.ContainsKey(id))
            {
                throw new ArgumentException($"a robot named '{id}' is already in the world", nameof(id));
            }

            var cell = Geometry.CellAt(Map, x, y);
            if (cell < 0 || !IsFree(cell))
            {
                throw new ArgumentException($"robot '{id}': ({x:F3}, {y:F3}) is {(cell < 0 ? "off the map" : $"in obstacle cell {cell}")}", nameof(x));
            }

            foreach (var other in _robots)
            {
                if (other.Cell == cell)
                {
                    throw new ArgumentException($"robot '{id}': cell {cell} is already occupied by robot '{other.Id}'", nameof(x));
                }
            }

            var robot = new SimRobot(_robots.Count, id, StreamSeeds.Derive(Options.NoiseSeed, _robots.Count, 1), StreamSeeds.Derive(Options.NoiseSeed, _robots.Count))
            {
                X = x, Y = y, Theta = GridGeometry.NormalizeAngle(thetaRad), Cell = cell,
            };
            _robots.Add(robot);
            _indexById.Add(id, robot.Index);
            _bodiesDirty = true;
            return robot.Index;
        }
    }

    /// <summary>The index of a robot by name, or -1.</summary>
    public int IndexOf(string id)
    {
        lock (_gate)
        {
            return _indexById.TryGetValue(id, out var i) ? i : -1;
        }
    }

    /// <summary>A snapshot of a robot.</summary>
    public RobotState GetRobot(int index)
    {
        lock (_gate)
        {
            return StateOf(Robot(index));
        }
    }

    /// <summary>Snapshots of every robot, in index order.</summary>
    public RobotState[] GetRobots()
    {
        lock (_gate)
        {
            var result = new RobotState[_robots.Count];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = StateOf(_robots[i]);
            }

            return result;
        }
    }

    /// <summary>Whether a robot's command watchdog has expired and whether its bumper touches something (the board's events), without a snapshot.</summary>
    public (bool WatchdogExpired, bool Bumper) EventFlags(int index)
    {
        lock (_gate)
        {
            return EventFlagsOf(Robot(index));
        }
    }

    /// <summary>
    /// <see cref="EventFlags"/> without the lock, for lock-step fleets (the contract of <see cref="SimWorld.SenseConcurrent"/>:
    /// nothing steps or changes the world meanwhile and no robot is served by two threads at once).
    /// </summary>
    public (bool WatchdogExpired, bool Bumper) EventFlagsConcurrent(int index) => EventFlagsOf(_robots[index]);

    /// <summary>Fills <paramref name="destination"/> with the robots' ground-truth poses (x, y, heading), no allocation.</summary>
    public void CopyPoses(Span<(double X, double Y, double Theta)> destination)
    {
        lock (_gate)
        {
            for (var i = 0; i < _robots.Count && i < destination.Length; i++)
            {
                var r = _robots[i];
                destination[i] = (r.X, r.Y, r.Theta);
            }
        }
    }

    /// <summary>
    /// Hands a robot's board a new motor command, stamped with the current world time; it replaces the previous
    /// one and restarts the command watchdog (<c>TimeoutMs</c>, or the default when 0).
    /// </summary>
    public void ApplyCommand(int index, in MotorCommand command)
    {
        lock (_gate)
        {
            ApplyCommandTo(Robot(index), command);
        }
    }

    /// <summary>
    /// <see cref="ApplyCommand"/> without the lock, for lock-step fleets that apply many robots' commands in parallel
    /// between steps (the contract of <see cref="SimWorld.SenseConcurrent"/>); only the robot's own state changes.
    /// </summary>
    public void ApplyCommandConcurrent(int index, in MotorCommand command) => ApplyCommandTo(_robots[index], command);

    /// <summary>Engages or releases a robot's emergency stop. Engaging halts the robot at once.</summary>
    public void SetEmergencyStop(int index, bool engaged)
    {
        lock (_gate)
        {
            var r = Robot(index);
            r.EmergencyStop = engaged;
            if (engaged)
            {
                r.V = 0;
                r.W = 0;
                r.Braked = true;
                r.BrakeTracked = false;
            }
        }
    }

    /// <summary>Disables (a latched board fault) or re-enables a robot's motors; disabled motors brake.</summary>
    public void SetMotorsDisabled(int index, bool disabled)
    {
        lock (_gate)
        {
            Robot(index).MotorsDisabled = disabled;
        }
    }

    /// <summary>
    /// Makes a robot's motors deliver only a fraction of the commanded speeds (a worn drive, a heavy load: the
    /// "robot delayed" fault); 0 stalls it, 1 restores it.
    /// </summary>
    public void SetSpeedFactor(int index, double factor)
    {
        if (!(factor >= 0 && factor <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "a speed factor is in [0, 1]");
        }

        lock (_gate)
        {
            Robot(index).SpeedFactor = factor;
        }
    }

    /// <summary>
    /// Biases a robot's sensors (drifted inputs): <paramref name="headingBiasRad"/> is added to the IMU heading and
    /// every range is multiplied by <paramref name="rangeScale"/>.
    /// </summary>
    public void SetSensorBias(int index, double headingBiasRad, double rangeScale)
    {
        if (!double.IsFinite(headingBiasRad) || !(rangeScale > 0) || double.IsInfinity(rangeScale))
        {
            throw new ArgumentOutOfRangeException(nameof(rangeScale), rangeScale, "a sensor bias needs a finite heading offset and a positive range scale");
        }

        lock (_gate)
        {
            var r = Robot(index);
            r.HeadingBias = headingBiasRad;
            r.RangeScale = rangeScale;
        }
    }

    /// <summary>Places a robot somewhere else between steps (scenarios, tests); its velocity is zeroed.</summary>
    public void Teleport(int index, double x, double y, double thetaRad)
    {
        lock (_gate)
        {
            var r = Robot(index);
            r.X = x;
            r.Y = y;
            r.Theta = GridGeometry.NormalizeAngle(thetaRad);
            r.V = 0;
            r.W = 0;
            r.Cell = Geometry.CellAt(Map, x, y);
            r.BrakeTracked = false;
            _bodiesDirty = true;
        }
    }

    /// <summary>Advances the world by one fixed step and checks the invariants.</summary>
    /// <exception cref="InvariantViolationException">A new violation when <see cref="SimWorldOptions.ThrowOnViolation"/> is set.</exception>
    public void Step(TimeSpan dt)
    {
        if (dt <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(dt), dt, "a world step must be longer than zero");
        }

        InvariantViolation? thrown = null;
        lock (_gate)
        {
            var n = _robots.Count;
            EnsureScratch(n);
            _stepSeconds = dt.TotalSeconds;
            ForEachRobotRange(n, _moveRange ??= MoveRange);
            _now += dt;
            Volatile.Write(ref _nowTicks, _now.Ticks);
            _stepCount++;
            MovePeople(_stepSeconds);
            RebuildBodies();
            var before = _violations.Count;
            var countBefore = _violationCount;
            CheckInvariants();
            if (Options.ThrowOnViolation && _violationCount > countBefore)
            {
                thrown = _violations.Count > before ? _violations[before] : _violations[^1];
            }
        }

        if (thrown is not null)
        {
            throw new InvariantViolationException(thrown);
        }
    }

    /// <summary>
    /// Runs the per-robot parts of <see cref="Step"/> (kinematics, then the invariants that look at one robot and the
    /// bodies around it) over ranges of robots, possibly on several threads, returning when every range is done; null
    /// runs them on the caller. Each range touches only its own robots' state and reads what no range writes, and
    /// violations are reported afterwards in robot order, so a run is the same whichever threads ran it. Set it before
    /// stepping; lock-step fleets hand in their workers. It gets the robot count and the body for [from, to).
    /// </summary>
    public Action<int, Action<int, int>>? RobotRanges { get; set; }

    private void ForEachRobotRange(int n, Action<int, int> range)
    {
        if (RobotRanges is { } parallel && n > 1)
        {
            parallel(n, range);
        }
        else
        {
            range(0, n);
        }
    }

    // Kinematics and each robot's cell and battery: reads the robot, the options and the time, writes the robot.
    private void MoveRange(int from, int to)
    {
        var seconds = _stepSeconds;
        for (var i = from; i < to; i++)
        {
            var r = _robots[i];
            _previousCells[i] = r.Cell;
            _previousPose[3 * i] = r.X;
            _previousPose[(3 * i) + 1] = r.Y;
            _previousPose[(3 * i) + 2] = r.Theta;
            _estoppedAtStart[i] = r.EmergencyStop;
            Move(r, seconds);
            r.Cell = Geometry.CellAt(Map, r.X, r.Y);
            if (Options.BatteryDrainPercentPerHour > 0)
            {
                r.BatteryPercent = Math.Max(0, r.BatteryPercent - (Options.BatteryDrainPercentPerHour * seconds / 3600));
            }
        }
    }

    private static (bool WatchdogExpired, bool Bumper) EventFlagsOf(SimRobot r) => (r.WatchdogExpired, r.Bumper);

    private void ApplyCommandTo(SimRobot r, in MotorCommand command)
    {
        r.Command = command;
        r.HasCommand = true;
        r.CommandTime = _now;
        r.CommandTimeout = command.TimeoutMs == 0 ? Options.DefaultCommandTimeout : TimeSpan.FromMilliseconds(command.TimeoutMs);
        r.WatchdogExpired = false;
    }

    private RobotState StateOf(SimRobot r) =>
        new(r.Index, r.Id, r.X, r.Y, r.Theta, r.V, r.W, r.Cell, Ticks(r.LeftTravel), Ticks(r.RightTravel),
            r.EmergencyStop, r.Bumper, r.Braked, r.WatchdogExpired, r.MotorsDisabled, r.BatteryPercent);

    private void Move(SimRobot r, double dt)
    {
        if (r.EmergencyStop)
        {
            r.V = 0;
            r.W = 0;
            r.Braked = true;
            return;
        }

        if (r.HasCommand && !r.WatchdogExpired && _now - r.CommandTime >= r.CommandTimeout)
        {
            r.WatchdogExpired = true;
        }

        var brake = !r.HasCommand || r.WatchdogExpired || r.MotorsDisabled || (r.Command.Flags & MotorFlags.Brake) != 0;
        if (brake && !r.Braked && Math.Abs(r.V) > Options.RestSpeedMps)
        {
            // A brake begins while moving: the stop is measured against the shield's envelope.
            r.BrakeTracked = true;
            r.BrakeStartX = r.X;
            r.BrakeStartY = r.Y;
            r.BrakeStartSpeed = Math.Abs(r.V);
        }
        else if (!brake)
        {
            r.BrakeTracked = false;
        }

        r.Braked = brake;
        double targetV, targetW, linAcc, angAcc;
        if (brake)
        {
            (targetV, targetW) = (0, 0);
            (linAcc, angAcc) = (Options.BrakeDecelerationMps2, Options.BrakeAngularDecelerationRadps2);
        }
        else
        {
            targetV = Clamp(r.Command.LinearMps, Options.MaxLinearSpeedMps) * r.SpeedFactor;
            targetW = Clamp(r.Command.AngularRadps, Options.MaxAngularSpeedRadps) * r.SpeedFactor;
            (linAcc, angAcc) = (Options.MaxLinearAccelerationMps2, Options.MaxAngularAccelerationRadps2);
        }

        var ds = VelocityProfile.Advance(ref r.V, targetV, linAcc, dt);
        var dTheta = VelocityProfile.Advance(ref r.W, targetW, angAcc, dt);
        if (Math.Abs(dTheta) < 1e-12)
        {
            r.X += ds * Math.Cos(r.Theta);
            r.Y += ds * Math.Sin(r.Theta);
        }
        else
        {
            // Constant-curvature arc with the step's mean linear and angular velocity.
            var radius = ds / dTheta;
            var end = r.Theta + dTheta;
            r.X += radius * (Math.Sin(end) - Math.Sin(r.Theta));
            r.Y -= radius * (Math.Cos(end) - Math.Cos(r.Theta));
        }

        r.Theta = GridGeometry.NormalizeAngle(r.Theta + dTheta);
        var half = dTheta * Options.WheelBaseMetres / 2;
        r.LeftTravel += Noisy(r, ds - half);
        r.RightTravel += Noisy(r, ds + half);
    }

    // Each robot's own odometry noise (robots move in parallel); a fixed mix, so a seed gives the same run in every process.
    private SimRobot Robot(int index)
    {
        if ((uint)index >= (uint)_robots.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"no robot {index}; the world has {_robots.Count}");
        }

        return _robots[index];
    }

    private int Ticks(double travelMetres) => unchecked((int)(long)Math.Floor(travelMetres * Options.TicksPerMetre));

    private static double Clamp(float value, double limit) =>
        float.IsFinite(value) ? Math.Clamp(value, -limit, limit) : 0;

    private double Noisy(SimRobot r, double travel) =>
        Options.OdometryNoiseFraction > 0 ? travel * (1 + Gaussian(r.OdometryNoise, Options.OdometryNoiseFraction)) : travel;

    private static double Gaussian(Random random, double std)
    {
        if (std <= 0)
        {
            return 0;
        }

        // Box-Muller; one draw per call keeps the sequence simple to reason about.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
