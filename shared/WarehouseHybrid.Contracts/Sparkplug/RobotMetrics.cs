using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Sparkplug.Wire;

namespace WarehouseHybrid.Contracts.Sparkplug;

/// <summary>
/// The robot's Sparkplug metric set (docs/mqtt-topics.md, "Sparkplug B"): the same values as the protobuf
/// <see cref="Telemetry"/>, as named, typed metrics a SCADA system or historian understands without custom code.
/// The order of <see cref="Definitions"/> is the order of <see cref="FromTelemetry"/>'s values.
/// </summary>
public static class RobotMetrics
{
    /// <summary>Metric names (stable: dashboards and historians key on them).</summary>
    public static class Names
    {
        /// <summary>Pose x in metres.</summary>
        public const string PoseX = "Pose/X";
        /// <summary>Pose y in metres.</summary>
        public const string PoseY = "Pose/Y";
        /// <summary>Pose heading angle in radians.</summary>
        public const string PoseTheta = "Pose/Theta";
        /// <summary>Grid cell id, -1 when between cells.</summary>
        public const string Cell = "Pose/Cell";
        /// <summary>Discrete heading (East, South, West, North).</summary>
        public const string Heading = "Pose/Heading";
        /// <summary>Robot activity state.</summary>
        public const string State = "State";
        /// <summary>Battery fraction 0..1.</summary>
        public const string Battery = "Battery";
        /// <summary>Current plan id.</summary>
        public const string PlanId = "Plan/Id";
        /// <summary>Current plan revision.</summary>
        public const string PlanRevision = "Plan/Revision";
        /// <summary>Last completed plan step.</summary>
        public const string LastCompletedStep = "Plan/Last Completed Step";
        /// <summary>Plan granted through this step.</summary>
        public const string GrantedThroughStep = "Plan/Granted Through Step";
        /// <summary>Whether the robot has a plan.</summary>
        public const string HasPlan = "Plan/Has Plan";
        /// <summary>Version of the learned policy model.</summary>
        public const string ModelVersion = "Model/Version";
        /// <summary>Decision mode (learned, rule, safety stop...).</summary>
        public const string DecisionMode = "Decision/Mode";
        /// <summary>Why the rule policy or the shield acted.</summary>
        public const string FallbackReason = "Decision/Fallback Reason";
        /// <summary>Nearest obstacle of the range scan in metres.</summary>
        public const string MinRange = "Range/Min";
        /// <summary>Errands reached since start.</summary>
        public const string ErrandsReached = "Errands/Reached";
        /// <summary>The protobuf telemetry sequence number of the sample (for de-duplication).</summary>
        public const string TelemetrySeq = "Telemetry/Seq";
    }

    /// <summary>
    /// The metric definitions, with aliases 0..n-1 relative to the device (the session offsets them so they are
    /// unique within the edge node).
    /// </summary>
    public static IReadOnlyList<SparkplugMetricDefinition> Definitions { get; } =
    [
        new(Names.PoseX, 0, DataType.Double),
        new(Names.PoseY, 1, DataType.Double),
        new(Names.PoseTheta, 2, DataType.Double),
        new(Names.Cell, 3, DataType.Int32),
        new(Names.Heading, 4, DataType.String),
        new(Names.State, 5, DataType.String),
        new(Names.Battery, 6, DataType.Float),
        new(Names.PlanId, 7, DataType.String),
        new(Names.PlanRevision, 8, DataType.Uint64),
        new(Names.LastCompletedStep, 9, DataType.Int64),
        new(Names.GrantedThroughStep, 10, DataType.Int64),
        new(Names.HasPlan, 11, DataType.Boolean),
        new(Names.ModelVersion, 12, DataType.String),
        new(Names.DecisionMode, 13, DataType.String),
        new(Names.FallbackReason, 14, DataType.String),
        new(Names.MinRange, 15, DataType.Double),
        new(Names.ErrandsReached, 16, DataType.Int64),
        new(Names.TelemetrySeq, 17, DataType.Uint64),
    ];

    /// <summary>The metric values of one telemetry sample, in the order of <see cref="Definitions"/>.</summary>
    public static SparkplugValue[] FromTelemetry(Telemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        var values = new SparkplugValue[Definitions.Count];
        Fill(telemetry, values);
        return values;
    }

    /// <summary>Writes the metric values of one telemetry sample into <paramref name="values"/> (no allocation but the strings).</summary>
    public static void Fill(Telemetry telemetry, Span<SparkplugValue> values)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        if (values.Length != Definitions.Count)
        {
            throw new ArgumentException($"expected {Definitions.Count} values, got {values.Length}", nameof(values));
        }

        var pose = telemetry.Pose;
        var progress = telemetry.Progress;
        values[0] = pose is null ? SparkplugValue.Null(DataType.Double) : SparkplugValue.Double(pose.XM);
        values[1] = pose is null ? SparkplugValue.Null(DataType.Double) : SparkplugValue.Double(pose.YM);
        values[2] = pose is null ? SparkplugValue.Null(DataType.Double) : SparkplugValue.Double(pose.ThetaRad);
        values[3] = pose is null ? SparkplugValue.Null(DataType.Int32) : SparkplugValue.Int32(pose.Cell);
        values[4] = pose is null ? SparkplugValue.Null(DataType.String) : SparkplugValue.String(pose.Heading.ToString());
        values[5] = SparkplugValue.String(telemetry.State.ToString());
        values[6] = SparkplugValue.Float(telemetry.BatteryFraction);
        values[7] = SparkplugValue.String(progress?.PlanId ?? string.Empty);
        values[8] = SparkplugValue.UInt64(progress?.PlanRevision ?? 0);
        values[9] = SparkplugValue.Int64(progress?.LastCompletedStep ?? 0);
        values[10] = SparkplugValue.Int64(progress?.GrantedThroughStep ?? 0);
        values[11] = SparkplugValue.Boolean(progress?.HasPlan ?? false);
        values[12] = SparkplugValue.String(telemetry.ModelVersion);
        values[13] = SparkplugValue.String(telemetry.DecisionMode.ToString());
        values[14] = SparkplugValue.String(telemetry.FallbackReason);
        values[15] = SparkplugValue.Double(telemetry.MinRangeM);
        values[16] = SparkplugValue.Int64(telemetry.ErrandsReached);
        values[17] = SparkplugValue.UInt64(telemetry.Seq);
    }
}
