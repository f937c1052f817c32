using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

// What the boards measure: encoders, wheel speeds, IMU heading, the 16-beam range scan cast against walls, blocked
// cells, other robots, people and dropped items, battery and flags.
public sealed partial class SimWorld
{
    private static readonly double[] BeamCos = BeamOffsets(Math.Cos);
    private static readonly double[] BeamSin = BeamOffsets(Math.Sin);

    /// <summary>
    /// What a robot's board measures now: encoder ticks, wheel speeds, IMU heading, the 16-beam range scan,
    /// battery and bumper/e-stop/brake flags. <c>BoardTimeMs</c> is the world time in ms; the board sets Status.
    /// </summary>
    public SensorFrame Sense(int index)
    {
        lock (_gate)
        {
            EnsureBodies();
            return SenseLocked(Robot(index));
        }
    }

    /// <summary>
    /// <see cref="Sense"/> without the lock, for lock-step fleets that sense many robots in parallel between steps:
    /// the caller guarantees that nothing steps or changes the world meanwhile and that no robot is sensed by two
    /// threads at once. Each robot has its own noise generator, so the result does not depend on the threads.
    /// </summary>
    public SensorFrame SenseConcurrent(int index) => SenseLocked(_robots[index]);

    /// <summary>Brings the body index up to date after robots, people or items were added (call before <see cref="SenseConcurrent"/>).</summary>
    public void PrepareSensing()
    {
        lock (_gate)
        {
            EnsureBodies();
        }
    }

    /// <summary>The 16-beam range scan of a robot in millimetres (beam i at heading + i * 22.5 degrees).</summary>
    public RangeScan Scan(int index)
    {
        lock (_gate)
        {
            EnsureBodies();
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
            EnsureBodies();
            var r = Robot(index);
            var (sin, cos) = Math.SinCos(worldAngleRad);
            return Cast(r.Index, r.X, r.Y, cos, sin, Options.MaxRangeMetres);
        }
    }

    private void EnsureBodies()
    {
        if (_bodiesDirty)
        {
            RebuildBodies();
        }
    }

    private SensorFrame SenseLocked(SimRobot r)
    {
        var frame = new SensorFrame
        {
            BoardTimeMs = unchecked((uint)(long)_now.TotalMilliseconds),
            LeftTicks = Ticks(r.LeftTravel),
            RightTicks = Ticks(r.RightTravel),
            LeftWheelMps = (float)(r.V - (r.W * Options.WheelBaseMetres / 2)),
            RightWheelMps = (float)(r.V + (r.W * Options.WheelBaseMetres / 2)),
            HeadingRad = (float)GridGeometry.NormalizeAngle(r.Theta + r.HeadingBias + Gaussian(r.SensorNoise, Options.HeadingNoiseStdRad)),
            BatteryMillivolts = (ushort)Math.Clamp(Options.BatteryFullMillivolts * (0.8 + (0.2 * r.BatteryPercent / 100)), 0, ushort.MaxValue),
            BatteryPercent = (byte)Math.Round(r.BatteryPercent),
            Flags = (r.Bumper ? SensorFlags.Bumper : 0) | (r.EmergencyStop ? SensorFlags.EmergencyStop : 0) | (r.Braked ? SensorFlags.Braked : 0),
            Status = BoardStatus.Ok,
        };
        ScanLocked(r, frame.Ranges);
        return frame;
    }

    private void ScanLocked(SimRobot r, Span<ushort> ranges)
    {
        // Each beam's direction is the heading's rotated by the beam's fixed offset: one sine/cosine per scan
        // instead of one per beam (the scan is the hottest path of a large fleet).
        // The origin's cell is found once for all beams (the same arithmetic Cast would do per beam).
        var (sin, cos) = Math.SinCos(r.Theta);
        var origin = new RayOrigin(r.Index, r.X, r.Y, _cell);
        var inside = Map.InBounds(origin.Row, origin.Column) && !IsWall(Map.CellAt(origin.Row, origin.Column));
        for (var b = 0; b < RangeScanLayout.BeamCount; b++)
        {
            var dx = (cos * BeamCos[b]) - (sin * BeamSin[b]);
            var dy = (sin * BeamCos[b]) + (cos * BeamSin[b]);
            var d = inside ? CastFrom(origin, dx, dy, Options.MaxRangeMetres) : 0;
            if (d >= Options.MaxRangeMetres)
            {
                ranges[b] = RangeScanLayout.NoEchoMillimetres;
                continue;
            }

            d = Math.Max(0, (d * r.RangeScale) + Gaussian(r.SensorNoise, Options.RangeNoiseStdMetres));
            ranges[b] = (ushort)Math.Min(RangeScanLayout.NoEchoMillimetres - 1, Math.Round(d * 1000));
        }
    }

    private static double[] BeamOffsets(Func<double, double> f)
    {
        var values = new double[RangeScanLayout.BeamCount];
        for (var b = 0; b < values.Length; b++)
        {
            values[b] = f(b * RangeScanLayout.BeamSpacingRad);
        }

        return values;
    }

    /// <summary>
    /// One ray (unit direction dx, dy): Amanatides-Woo traversal of the cells it crosses, testing the bodies listed in each visited cell,
    /// up to the first wall, blocked cell or map edge. A hit inside a cell can only be beaten by a body listed in a
    /// cell the ray entered earlier, so the walk stops once the next cell starts beyond the best hit.
    /// </summary>
    private double Cast(int self, double x, double y, double dx, double dy, double maxRange)
    {
        var origin = new RayOrigin(self, x, y, _cell);
        if (!Map.InBounds(origin.Row, origin.Column) || IsWall(Map.CellAt(origin.Row, origin.Column)))
        {
            return 0;
        }

        return CastFrom(origin, dx, dy, maxRange);
    }

    // Cast from an origin already known to be on the map and outside walls.
    private double CastFrom(in RayOrigin origin, double dx, double dy, double maxRange)
    {
        var (self, x, y, gx, gy) = (origin.Self, origin.X, origin.Y, origin.Gx, origin.Gy);
        var col = origin.Column;
        var row = origin.Row;
        var stepCol = dx > 0 ? 1 : dx < 0 ? -1 : 0;
        var stepRow = dy > 0 ? 1 : dy < 0 ? -1 : 0;
        var tDeltaX = stepCol != 0 ? 1 / Math.Abs(dx) : double.PositiveInfinity;
        var tDeltaY = stepRow != 0 ? 1 / Math.Abs(dy) : double.PositiveInfinity;
        var tMaxX = stepCol > 0 ? (col + 1 - gx) * tDeltaX : stepCol < 0 ? (gx - col) * tDeltaX : double.PositiveInfinity;
        var tMaxY = stepRow > 0 ? (row + 1 - gy) * tDeltaY : stepRow < 0 ? (gy - row) * tDeltaY : double.PositiveInfinity;
        var best = maxRange;
        var entered = 0.0; // distance (cells) at which the ray entered the current cell
        while (true)
        {
            // Bodies in the current cell.
            for (var e = _cellHead[Map.CellAt(row, col)]; e >= 0; e = _entryNext[e])
            {
                var b = _entryBody[e];
                if (b == self)
                {
                    continue;
                }

                var d = RangeScanner.CastCircle(x, y, dx, dy, _bodyX[b], _bodyY[b], _bodyR[b]);
                if (d < best)
                {
                    best = d;
                }
            }

            double t;
            if (tMaxX < tMaxY)
            {
                t = tMaxX;
                col += stepCol;
                tMaxX += tDeltaX;
            }
            else
            {
                t = tMaxY;
                row += stepRow;
                tMaxY += tDeltaY;
            }

            entered = t * _cell;
            if (entered >= best)
            {
                return best;
            }

            if (!Map.InBounds(row, col) || IsWall(Map.CellAt(row, col)))
            {
                return entered;
            }
        }
    }

    // A ray's origin in metres and in cells (shared by the beams of one scan).
    private readonly struct RayOrigin
    {
        public RayOrigin(int self, double x, double y, double cell)
        {
            Self = self;
            X = x;
            Y = y;
            Gx = x / cell;
            Gy = y / cell;
            Column = (int)Math.Floor(Gx);
            Row = (int)Math.Floor(Gy);
        }

        public int Self { get; }

        public double X { get; }

        public double Y { get; }

        public double Gx { get; }

        public double Gy { get; }

        public int Column { get; }

        public int Row { get; }
    }
}
