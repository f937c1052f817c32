using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

/// <summary>
/// The simulated warehouse floor: a <see cref="GridMap"/> and the bodies of N robots with continuous poses,
/// moved by a unicycle model under each robot's latest <see cref="MotorCommand"/>, with acceleration and speed
/// limits, brake, board-side command watchdog and emergency stop.
/// <para>
/// Time advances only through <see cref="Step"/> with a caller-chosen fixed step (no threads, no clocks inside),
/// so the same inputs give the same run, faster than real time for in-process fleets or paced by a
/// real-time driver for real daemons. Public members are thread-safe (one lock), so boards may apply commands
/// from their reader threads while a driver steps the world.
/// </para>
/// <para>
/// Conventions (those of <see cref="GridGeometry"/>): x = column direction, y = row direction (down the map),
/// angles from +x toward +y (east 0, south pi/2). A positive yaw rate increases the world angle. Range beam
/// <c>i</c> points at world angle <c>heading + i * 22.5 degrees</c> (<see cref="RangeScanLayout.BeamSpacingRad"/>),
/// measured from the robot's centre. Wheel travel follows the textbook unicycle in this frame:
/// right = v + w * b / 2, left = v - w * b / 2, so heading change = (right - left) / b.
/// </para>
/// <para>
/// After every step the invariants are checked: no two robots' centres in one cell, no two robots exchanging
/// cells, no centre in an obstacle cell or off the map, no motion while e-stopped. A violation is recorded once
/// when it begins (<see cref="Violations"/>), and thrown when <see cref="SimWorldOptions.ThrowOnViolation"/> is set.
/// </para>
/// </summary>
public sealed class SimWorld
{
    private readonly Lock _gate = new();
    private readonly List<SimRobot> _robots = [];
    private readonly Dictionary<string, int> _indexById = new(StringComparer.Ordinal);
    private readonly List<InvariantViolation> _violations = [];
    private readonly Random _noise;
    private readonly double _cell;

    // Invariant bookkeeping reused between steps (no per-step allocation when nothing is wrong).
    private HashSet<ViolationKey> _activeNow = [];
    private HashSet<ViolationKey> _activeBefore = [];
    private readonly Dictionary<int, int> _robotByCell = [];
    private readonly Dictionary<int, int> _robotByPreviousCell = [];
    private int[] _previousCells = [];
    private double[] _previousPose = [];
    private bool[] _estoppedAtStart = [];
    private long _violationCount;

    /// <summary>Creates an empty world on a map.</summary>
    public SimWorld(GridMap map, SimWorldOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        Options = options ?? new SimWorldOptions();
        Options.Validate();
        Map = map;
        _cell = Options.Geometry.CellSizeMetres;
        _noise = new Random(Options.NoiseSeed);
    }

    /// <summary>The floor.</summary>
    public GridMap Map { get; }

    /// <summary>The physical parameters.</summary>
    public SimWorldOptions Options { get; }

    /// <summary>Grid geometry (cell size).</summary>
    public GridGeometry Geometry => Options.Geometry;

    /// <summary>Simulated time since the world began.</summary>
    public TimeSpan Now
    {
        get { lock (_gate) { return _now; } }
    }

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

    private TimeSpan _now;
    private long _stepCount;

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
            if (cell < 0 || !Map.IsPassable(cell))
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

            var robot = new SimRobot(_robots.Count, id) { X = x, Y = y, Theta = GridGeometry.NormalizeAngle(thetaRad), Cell = cell };
            _robots.Add(robot);
            _indexById.Add(id, robot.Index);
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
            var r = Robot(index);
            return new RobotState(r.Index, r.Id, r.X, r.Y, r.Theta, r.V, r.W, r.Cell, Ticks(r.LeftTravel), Ticks(r.RightTravel),
                r.EmergencyStop, r.Bumper, r.Braked, r.WatchdogExpired, r.MotorsDisabled, r.BatteryPercent);
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
                result[i] = GetRobot(i);
            }

            return result;
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
            var r = Robot(index);
            r.Command = command;
            r.HasCommand = true;
            r.CommandTime = _now;
            r.CommandTimeout = command.TimeoutMs == 0 ? Options.DefaultCommandTimeout : TimeSpan.FromMilliseconds(command.TimeoutMs);
            r.WatchdogExpired = false;
        }
    }

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
            var seconds = dt.TotalSeconds;
            for (var i = 0; i < n; i++)
            {
                var r = _robots[i];
                _previousCells[i] = r.Cell;
                _previousPose[3 * i] = r.X;
                _previousPose[(3 * i) + 1] = r.Y;
                _previousPose[(3 * i) + 2] = r.Theta;
                _estoppedAtStart[i] = r.EmergencyStop;
                Move(r, seconds);
            }

            _now += dt;
            _stepCount++;
            for (var i = 0; i < n; i++)
            {
                var r = _robots[i];
                r.Cell = Geometry.CellAt(Map, r.X, r.Y);
                if (Options.BatteryDrainPercentPerHour > 0)
                {
                    r.BatteryPercent = Math.Max(0, r.BatteryPercent - (Options.BatteryDrainPercentPerHour * seconds / 3600));
                }
            }

            UpdateBumpers();
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
    /// What a robot's board measures now: encoder ticks, wheel speeds, IMU heading, the 16-beam range scan,
    /// battery and bumper/e-stop/brake flags. <c>BoardTimeMs</c> is the world time in ms; the board sets Status.
    /// </summary>
    public SensorFrame Sense(int index)
    {
        lock (_gate)
        {
            var r = Robot(index);
            var frame = new SensorFrame
            {
                BoardTimeMs = unchecked((uint)(long)_now.TotalMilliseconds),
                LeftTicks = Ticks(r.LeftTravel),
                RightTicks = Ticks(r.RightTravel),
                LeftWheelMps = (float)(r.V - (r.W * Options.WheelBaseMetres / 2)),
                RightWheelMps = (float)(r.V + (r.W * Options.WheelBaseMetres / 2)),
                HeadingRad = (float)GridGeometry.NormalizeAngle(r.Theta + Gaussian(Options.HeadingNoiseStdRad)),
                BatteryMillivolts = (ushort)Math.Clamp(Options.BatteryFullMillivolts * (0.8 + (0.2 * r.BatteryPercent / 100)), 0, ushort.MaxValue),
                BatteryPercent = (byte)Math.Round(r.BatteryPercent),
                Flags = (r.Bumper ? SensorFlags.Bumper : 0) | (r.EmergencyStop ? SensorFlags.EmergencyStop : 0) | (r.Braked ? SensorFlags.Braked : 0),
                Status = BoardStatus.Ok,
            };
            ScanLocked(r, frame.Ranges);
            return frame;
        }
    }

    /// <summary>The 16-beam range scan of a robot in millimetres (beam i at heading + i * 22.5 degrees).</summary>
    public RangeScan Scan(int index)
    {
        lock (_gate)
        {
            var scan = default(RangeScan);
            ScanLocked(Robot(index), scan);
            return scan;
        }
    }

    /// <summary>Distance in metres along a world angle from a robot's centre to the first thing it would see.</summary>
    public double CastRay(int index, double worldAngleRad)
    {
        lock (_gate)
        {
            var r = Robot(index);
            return CastLocked(r, worldAngleRad, Options.MaxRangeMetres);
        }
    }

    private void ScanLocked(SimRobot r, Span<ushort> ranges)
    {
        for (var b = 0; b < RangeScanLayout.BeamCount; b++)
        {
            var d = CastLocked(r, r.Theta + (b * RangeScanLayout.BeamSpacingRad), Options.MaxRangeMetres);
            if (d >= Options.MaxRangeMetres)
            {
                ranges[b] = RangeScanLayout.NoEchoMillimetres;
                continue;
            }

            d = Math.Max(0, d + Gaussian(Options.RangeNoiseStdMetres));
            ranges[b] = (ushort)Math.Min(RangeScanLayout.NoEchoMillimetres - 1, Math.Round(d * 1000));
        }
    }

    private double CastLocked(SimRobot r, double angle, double maxRange)
    {
        var best = RangeScanner.CastGrid(Map, _cell, r.X, r.Y, angle, maxRange);
        var radius = Options.BodyRadiusMetres;
        var reach = best + radius;
        foreach (var other in _robots)
        {
            if (ReferenceEquals(other, r) || Math.Abs(other.X - r.X) > reach || Math.Abs(other.Y - r.Y) > reach)
            {
                continue;
            }

            var d = RangeScanner.CastCircle(r.X, r.Y, angle, other.X, other.Y, radius);
            if (d < best)
            {
                best = d;
            }
        }

        return best;
    }

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
        r.Braked = brake;
        double targetV, targetW, linAcc, angAcc;
        if (brake)
        {
            (targetV, targetW) = (0, 0);
            (linAcc, angAcc) = (Options.BrakeDecelerationMps2, Options.BrakeAngularDecelerationRadps2);
        }
        else
        {
            targetV = Clamp(r.Command.LinearMps, Options.MaxLinearSpeedMps);
            targetW = Clamp(r.Command.AngularRadps, Options.MaxAngularSpeedRadps);
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
        r.LeftTravel += Noisy(ds - half);
        r.RightTravel += Noisy(ds + half);
    }

    private void UpdateBumpers()
    {
        var radius = Options.BodyRadiusMetres;
        var touch = 4 * radius * radius;
        foreach (var r in _robots)
        {
            r.Bumper = RangeScanner.TouchesObstacleOrEdge(Map, _cell, r.X, r.Y, radius);
        }

        for (var i = 0; i < _robots.Count; i++)
        {
            for (var j = i + 1; j < _robots.Count; j++)
            {
                var a = _robots[i];
                var b = _robots[j];
                var dx = a.X - b.X;
                var dy = a.Y - b.Y;
                if ((dx * dx) + (dy * dy) < touch)
                {
                    a.Bumper = true;
                    b.Bumper = true;
                }
            }
        }
    }

    private void CheckInvariants()
    {
        (_activeBefore, _activeNow) = (_activeNow, _activeBefore);
        _activeNow.Clear();
        _robotByCell.Clear();
        _robotByPreviousCell.Clear();
        for (var i = 0; i < _robots.Count; i++)
        {
            _robotByPreviousCell.TryAdd(_previousCells[i], i);
        }

        for (var i = 0; i < _robots.Count; i++)
        {
            var r = _robots[i];
            if (r.Cell < 0)
            {
                Report(new ViolationKey(InvariantKind.OffMap, i, -1, -1), [r.Id], [-1],
                    $"robot '{r.Id}' left the map at ({r.X:F3}, {r.Y:F3}) m");
            }
            else if (!Map.IsPassable(r.Cell))
            {
                Report(new ViolationKey(InvariantKind.InObstacle, i, -1, r.Cell), [r.Id], [r.Cell],
                    $"robot '{r.Id}' is in obstacle cell {r.Cell} (row {Map.Row(r.Cell)}, column {Map.Column(r.Cell)})");
            }

            if (r.Cell >= 0)
            {
                if (_robotByCell.TryGetValue(r.Cell, out var first))
                {
                    var o = _robots[first];
                    Report(new ViolationKey(InvariantKind.SharedCell, first, i, r.Cell), [o.Id, r.Id], [r.Cell],
                        $"robots '{o.Id}' and '{r.Id}' are both in cell {r.Cell} (row {Map.Row(r.Cell)}, column {Map.Column(r.Cell)})");
                }
                else
                {
                    _robotByCell.Add(r.Cell, i);
                }
            }

            var before = _previousCells[i];
            if (r.Cell != before && r.Cell >= 0 && _robotByPreviousCell.TryGetValue(r.Cell, out var j) && j > i
                && _robots[j].Cell == before)
            {
                var o = _robots[j];
                Report(new ViolationKey(InvariantKind.Swap, i, j, before), [r.Id, o.Id], [before, r.Cell],
                    $"robots '{r.Id}' and '{o.Id}' swapped cells {before} and {r.Cell} (passed through each other)");
            }

            if (_estoppedAtStart[i] && (r.X != _previousPose[3 * i] || r.Y != _previousPose[(3 * i) + 1] || r.Theta != _previousPose[(3 * i) + 2]))
            {
                Report(new ViolationKey(InvariantKind.MovedWhileEmergencyStopped, i, -1, r.Cell), [r.Id], [r.Cell],
                    $"robot '{r.Id}' moved while its emergency stop was engaged");
            }
        }
    }

    private void Report(ViolationKey key, string[] ids, int[] cells, string message)
    {
        _activeNow.Add(key);
        if (_activeBefore.Contains(key))
        {
            return; // still the same condition as last step: recorded when it began
        }

        _violationCount++;
        if (_violations.Count < Options.MaxRecordedViolations)
        {
            _violations.Add(new InvariantViolation(key.Kind, _now, _stepCount, ids, cells, message));
        }
    }

    private void EnsureScratch(int n)
    {
        if (_previousCells.Length < n)
        {
            _previousCells = new int[n];
            _previousPose = new double[3 * n];
            _estoppedAtStart = new bool[n];
        }
    }

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

    private double Noisy(double travel) =>
        Options.OdometryNoiseFraction > 0 ? travel * (1 + Gaussian(Options.OdometryNoiseFraction)) : travel;

    private double Gaussian(double std)
    {
        if (std <= 0)
        {
            return 0;
        }

        // Box-Muller; one draw per call keeps the sequence simple to reason about.
        var u1 = 1.0 - _noise.NextDouble();
        var u2 = _noise.NextDouble();
        return std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private readonly record struct ViolationKey(InvariantKind Kind, int RobotA, int RobotB, int Cell);
}
