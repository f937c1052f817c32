using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Sensing;

namespace WarehouseHybrid.Edge.Localization;

/// <summary>A continuous pose in the world frame of <see cref="GridGeometry"/> (x east, y south, theta from +x toward +y).</summary>
/// <param name="X">Metres from the map's left edge.</param>
/// <param name="Y">Metres from the map's top edge.</param>
/// <param name="Theta">Heading in radians, [0, 2pi).</param>
public readonly record struct ContinuousPose(double X, double Y, double Theta);

/// <summary>
/// Dead reckoning: position from the odometry integrated in the <see cref="SensorSnapshot"/>, heading from
/// the IMU (which reports in the map frame). Position is anchored once, at a known cell centre (start
/// options or the first plan segment); until then the robot is not localised.
/// </summary>
public sealed class DeadReckoning
{
    private double _anchorX;
    private double _anchorY;
    private double _odoAtAnchorX;
    private double _odoAtAnchorY;
    private bool _anchorPending;
    private double _pendingX;
    private double _pendingY;

    /// <summary>Whether the position has been anchored.</summary>
    public bool IsLocalized { get; private set; }

    /// <summary>The latest estimate (meaningful once <see cref="IsLocalized"/>).</summary>
    public ContinuousPose Pose { get; private set; }

    /// <summary>Anchors the position at a world point; takes effect at the next <see cref="Update"/> (it needs the odometry there).</summary>
    public void AnchorAt(double x, double y)
    {
        _pendingX = x;
        _pendingY = y;
        _anchorPending = true;
    }

    /// <summary>Folds in the latest snapshot. Without any frame the pose keeps its anchor and heading.</summary>
    public void Update(in SensorSnapshot snapshot)
    {
        if (!snapshot.HasFrame)
        {
            return;
        }

        if (_anchorPending)
        {
            _anchorX = _pendingX;
            _anchorY = _pendingY;
            _odoAtAnchorX = snapshot.OdometryX;
            _odoAtAnchorY = snapshot.OdometryY;
            _anchorPending = false;
            IsLocalized = true;
        }

        Pose = new ContinuousPose(
            _anchorX + (snapshot.OdometryX - _odoAtAnchorX),
            _anchorY + (snapshot.OdometryY - _odoAtAnchorY),
            GridGeometry.NormalizeAngle(snapshot.Frame.HeadingRad));
    }
}
