using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Plans;

namespace WarehouseHybrid.Edge.Inference;

/// <summary>
/// The learned policy's input vector and output layout, shared by training (the model tool) and inference so
/// both compute features with the same code. 25 floats: 16 range beams (metres / <see cref="RangeCapMetres"/>,
/// no echo = 1), measured and previous velocities (over the top speeds), the step kind (move, rotate one-hot),
/// remaining distance and lateral offset of a move, heading error over pi.
/// </summary>
public static class PolicyFeatures
{
    /// <summary>Features per input row.</summary>
    public const int Count = RangeScanLayout.BeamCount + 9;

    /// <summary>Ranges beyond this are clipped (metres).</summary>
    public const double RangeCapMetres = 4.0;

    /// <summary>Remaining move distance is clipped to +-this (metres) before scaling to [-1, 1].</summary>
    public const double AlongCapMetres = 2.0;

    /// <summary>Name of the model's single input, shape [1, <see cref="Count"/>].</summary>
    public const string InputName = "features";

    /// <summary>Name of the speed/steer output, shape [1, 2]: linear / max linear, angular / max angular.</summary>
    public const string ActionOutputName = "action";

    /// <summary>Name of the obstacle class output, shape [1, 2]: softmax of (clear, obstacle ahead).</summary>
    public const string ObstacleOutputName = "obstacle_prob";

    /// <summary>Outputs in the order the manifest lists them.</summary>
    public static IReadOnlyList<string> OutputNames { get; } = [ActionOutputName, ObstacleOutputName];

    /// <summary>The model input shape.</summary>
    public static IReadOnlyList<long> InputShape { get; } = [1, Count];

    /// <summary>Feature names in vector order (the manifest's statistics use them).</summary>
    public static IReadOnlyList<string> Names { get; } = BuildNames();

    /// <summary>Index of the first range feature.</summary>
    public const int RangeOffset = 0;

    /// <summary>Writes the feature vector of <paramref name="input"/> into <paramref name="features"/> (length at least <see cref="Count"/>). Allocation-free.</summary>
    public static void Extract(in PolicyInput input, in KinematicLimits limits, Span<float> features)
    {
        if (features.Length < Count)
        {
            throw new ArgumentException($"feature buffer holds {features.Length} floats; {Count} needed", nameof(features));
        }

        var hasFrame = input.Sensors.HasFrame;
        var ranges = input.Sensors.Frame.Ranges;
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            var mm = hasFrame ? ranges[i] : RangeScanLayout.NoEchoMillimetres;
            features[RangeOffset + i] = mm == RangeScanLayout.NoEchoMillimetres
                ? 1f
                : (float)(Math.Min(mm / 1000.0, RangeCapMetres) / RangeCapMetres);
        }

        var k = RangeScanLayout.BeamCount;
        features[k] = (float)(input.MeasuredLinear / limits.MaxLinearMps);
        features[k + 1] = (float)(input.MeasuredAngular / limits.MaxAngularRadps);
        features[k + 2] = (float)(input.Previous.LinearMps / limits.MaxLinearMps);
        features[k + 3] = (float)(input.Previous.AngularRadps / limits.MaxAngularRadps);

        var target = input.Target;
        var pose = input.Pose;
        float isMove = 0, isRotate = 0, along = 0, lateral = 0, headingErr = 0;
        switch (target.Kind)
        {
            case TargetKind.Move:
            {
                isMove = 1;
                var (sinH, cosH) = Math.SinCos(target.Theta);
                var px = pose.X - target.X;
                var py = pose.Y - target.Y;
                along = (float)(Math.Clamp(-((px * cosH) + (py * sinH)), -AlongCapMetres, AlongCapMetres) / AlongCapMetres);
                lateral = (float)Math.Clamp((-px * sinH) + (py * cosH), -1.0, 1.0);
                headingErr = (float)(GridGeometry.AngleDifference(pose.Theta, target.Theta) / Math.PI);
                break;
            }

            case TargetKind.Rotate:
                isRotate = 1;
                headingErr = (float)(GridGeometry.AngleDifference(pose.Theta, target.Theta) / Math.PI);
                break;
        }

        features[k + 4] = isMove;
        features[k + 5] = isRotate;
        features[k + 6] = along;
        features[k + 7] = lateral;
        features[k + 8] = headingErr;
    }

    private static string[] BuildNames()
    {
        var names = new string[Count];
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            names[i] = $"range_{i}";
        }

        string[] rest = ["measured_linear", "measured_angular", "previous_linear", "previous_angular", "is_move", "is_rotate", "along", "lateral", "heading_error"];
        rest.CopyTo(names, RangeScanLayout.BeamCount);
        return names;
    }
}
