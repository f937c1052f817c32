using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.World;

// The invariants checked after every step, in O(robots + bodies) with no allocation while nothing is wrong.
public sealed partial class SimWorld
{
    private HashSet<ViolationKey> _activeNow = [];
    private HashSet<ViolationKey> _activeBefore = [];
    private readonly int[] _cellOwner;
    private readonly int[] _cellOwnerStamp;
    private readonly int[] _previousOwner;
    private readonly int[] _previousOwnerStamp;
    private readonly int[] _personStamp;
    private int _stamp;
    private int[] _previousCells = [];
    private double[] _previousPose = [];
    private bool[] _estoppedAtStart = [];
    private long _violationCount;
    private List<DeferredViolation>?[] _deferred = [];
    private Action<int, int>? _bodyChecksRange;

    private void CheckInvariants()
    {
        (_activeBefore, _activeNow) = (_activeNow, _activeBefore);
        _activeNow.Clear();
        _stamp++;
        var n = _robots.Count;
        for (var i = 0; i < n; i++)
        {
            var before = _previousCells[i];
            if (before >= 0 && _previousOwnerStamp[before] != _stamp)
            {
                _previousOwnerStamp[before] = _stamp;
                _previousOwner[before] = i;
            }
        }

        foreach (var p in _people)
        {
            if (!p.Gone && p.Cell >= 0)
            {
                _personStamp[p.Cell] = _stamp;
            }
        }

        // Contacts and stop envelopes look at one robot and the body index (which nothing changes now), so they run
        // over ranges of robots, possibly in parallel; what they find is reported below, after the robot's cell
        // checks, which is the order a single loop over the robots reports in.
        ForEachRobotRange(n, _bodyChecksRange ??= BodyChecksRange);

        for (var i = 0; i < n; i++)
        {
            var r = _robots[i];
            var before = _previousCells[i];
            var moved = r.Cell != before;
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
            else if (moved && _blocked[r.Cell])
            {
                Report(new ViolationKey(InvariantKind.InObstacle, i, -2, r.Cell), [r.Id], [r.Cell],
                    $"robot '{r.Id}' entered blocked cell {r.Cell} (row {Map.Row(r.Cell)}, column {Map.Column(r.Cell)}){ItemIn(r.Cell)}");
            }

            if (r.Cell >= 0)
            {
                if (_cellOwnerStamp[r.Cell] == _stamp)
                {
                    var o = _robots[_cellOwner[r.Cell]];
                    Report(new ViolationKey(InvariantKind.SharedCell, o.Index, i, r.Cell), [o.Id, r.Id], [r.Cell],
                        $"robots '{o.Id}' and '{r.Id}' are both in cell {r.Cell} (row {Map.Row(r.Cell)}, column {Map.Column(r.Cell)})");
                }
                else
                {
                    _cellOwnerStamp[r.Cell] = _stamp;
                    _cellOwner[r.Cell] = i;
                }

                if (moved && _personStamp[r.Cell] == _stamp)
                {
                    var person = _people.First(p => !p.Gone && p.Cell == r.Cell);
                    Report(new ViolationKey(InvariantKind.EnteredPersonCell, i, -1, r.Cell), [r.Id, person.Id], [before, r.Cell],
                        $"robot '{r.Id}' entered cell {r.Cell} (row {Map.Row(r.Cell)}, column {Map.Column(r.Cell)}) where person '{person.Id}' stands");
                }
            }

            if (moved && r.Cell >= 0 && _previousOwnerStamp[r.Cell] == _stamp)
            {
                var j = _previousOwner[r.Cell];
                if (j > i && _robots[j].Cell == before)
                {
                    var o = _robots[j];
                    Report(new ViolationKey(InvariantKind.Swap, i, j, before), [r.Id, o.Id], [before, r.Cell],
                        $"robots '{r.Id}' and '{o.Id}' swapped cells {before} and {r.Cell} (passed through each other)");
                }
            }

            if (_estoppedAtStart[i] && (r.X != _previousPose[3 * i] || r.Y != _previousPose[(3 * i) + 1] || r.Theta != _previousPose[(3 * i) + 2]))
            {
                Report(new ViolationKey(InvariantKind.MovedWhileEmergencyStopped, i, -1, r.Cell), [r.Id], [r.Cell],
                    $"robot '{r.Id}' moved while its emergency stop was engaged");
            }

            if (_deferred[i] is { Count: > 0 } found)
            {
                foreach (var d in found)
                {
                    Report(d.Key, d.Ids, d.Cells, d.Message);
                }

                found.Clear();
            }
        }
    }

    private void BodyChecksRange(int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var r = _robots[i];
            CheckContacts(r);
            CheckStopEnvelope(r);
        }
    }

    // A violation found by a per-robot check, kept in the robot's own list until the serial pass reports it.
    private void Defer(int robot, ViolationKey key, string[] ids, int[] cells, string message) =>
        (_deferred[robot] ??= []).Add(new DeferredViolation(key, ids, cells, message));

    // Bumper flags for the boards, and collisions: a moving robot's body touching a wall, the map edge, a blocked
    // cell or any other body. A person walking into a robot that is standing still is not the robot's doing.
    private void CheckContacts(SimRobot r)
    {
        var radius = Options.BodyRadiusMetres;
        var touchedWall = TouchesWall(r.X, r.Y, radius);
        var moving = Math.Abs(r.V) > Options.RestSpeedMps;
        var bumper = touchedWall;
        if (touchedWall && moving)
        {
            Defer(r.Index, new ViolationKey(InvariantKind.Collision, r.Index, -1, r.Cell), [r.Id], [r.Cell],
                $"robot '{r.Id}' touched a wall at ({r.X:F3}, {r.Y:F3}) m moving at {r.V:F2} m/s");
        }

        var c0 = Math.Max(0, (int)Math.Floor((r.X - (2 * radius)) / _cell));
        var c1 = Math.Min(Map.Width - 1, (int)Math.Floor((r.X + (2 * radius)) / _cell));
        var r0 = Math.Max(0, (int)Math.Floor((r.Y - (2 * radius)) / _cell));
        var r1 = Math.Min(Map.Height - 1, (int)Math.Floor((r.Y + (2 * radius)) / _cell));
        for (var row = r0; row <= r1; row++)
        {
            for (var col = c0; col <= c1; col++)
            {
                for (var e = _cellHead[Map.CellAt(row, col)]; e >= 0; e = _entryNext[e])
                {
                    var b = _entryBody[e];
                    if (b == r.Index)
                    {
                        continue;
                    }

                    var dx = _bodyX[b] - r.X;
                    var dy = _bodyY[b] - r.Y;
                    var reach = radius + _bodyR[b];
                    if ((dx * dx) + (dy * dy) >= reach * reach)
                    {
                        continue;
                    }

                    bumper = true;
                    var other = b < _robots.Count ? _robots[b] : null;
                    var closing = moving && ((Math.Cos(r.Theta) * dx) + (Math.Sin(r.Theta) * dy)) * r.V > 0;
                    if (closing && (other is null || b > r.Index || Math.Abs(other.V) <= Options.RestSpeedMps))
                    {
                        Defer(r.Index, new ViolationKey(InvariantKind.Collision, r.Index, _robots.Count + b, r.Cell), [r.Id, BodyName(b)], [r.Cell],
                            $"robot '{r.Id}' moving at {r.V:F2} m/s touched '{BodyName(b)}' (centres {Math.Sqrt((dx * dx) + (dy * dy)):F3} m apart)");
                    }
                }
            }
        }

        r.Bumper = bumper;
    }

    private void CheckStopEnvelope(SimRobot r)
    {
        if (!r.BrakeTracked || Math.Abs(r.V) > Options.RestSpeedMps)
        {
            return;
        }

        r.BrakeTracked = false;
        if (Options.ShieldBrakeDecelerationMps2 is not { } decel)
        {
            return;
        }

        var dx = r.X - r.BrakeStartX;
        var dy = r.Y - r.BrakeStartY;
        var travelled = Math.Sqrt((dx * dx) + (dy * dy));
        var v0 = r.BrakeStartSpeed;
        var allowed = (v0 * v0 / (2 * decel)) + Options.ShieldEnvelopeSlackMetres;
        if (travelled > allowed)
        {
            Defer(r.Index, new ViolationKey(InvariantKind.StopEnvelopeExceeded, r.Index, -1, r.Cell), [r.Id], [r.Cell],
                $"robot '{r.Id}' braked from {v0:F2} m/s and stopped after {travelled:F3} m; the shield's envelope allows {allowed:F3} m (brake {decel} m/s^2)");
        }
    }

    private bool TouchesWall(double x, double y, double radius)
    {
        var width = Map.Width * _cell;
        var height = Map.Height * _cell;
        if (x - radius < 0 || y - radius < 0 || x + radius > width || y + radius > height)
        {
            return true;
        }

        var c0 = (int)Math.Floor((x - radius) / _cell);
        var c1 = (int)Math.Floor((x + radius) / _cell);
        var r0 = (int)Math.Floor((y - radius) / _cell);
        var r1 = (int)Math.Floor((y + radius) / _cell);
        for (var r = r0; r <= r1; r++)
        {
            for (var c = c0; c <= c1; c++)
            {
                var cell = Map.CellAt(r, c);
                if (!Map.InBounds(r, c) || !IsWall(cell))
                {
                    continue;
                }

                var nx = Math.Clamp(x, c * _cell, (c + 1) * _cell);
                var ny = Math.Clamp(y, r * _cell, (r + 1) * _cell);
                if (((nx - x) * (nx - x)) + ((ny - y) * (ny - y)) < radius * radius)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private string ItemIn(int cell) => _items.FirstOrDefault(i => i.Cell == cell) is { } item ? $" with item '{item.Id}'" : string.Empty;

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
            Array.Resize(ref _deferred, n);
        }
    }

    private readonly record struct ViolationKey(InvariantKind Kind, int RobotA, int RobotB, int Cell);

    private readonly record struct DeferredViolation(ViolationKey Key, string[] Ids, int[] Cells, string Message);
}
