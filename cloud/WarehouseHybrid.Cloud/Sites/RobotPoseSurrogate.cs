using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Sites;

/// <summary>How a <see cref="RobotPose"/> (a domain type without Orleans attributes) crosses grains and storage.</summary>
/// <param name="Cell">Cell id.</param>
/// <param name="Heading">Heading.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.RobotPose")]
public readonly record struct RobotPoseSurrogate([property: Id(0)] int Cell, [property: Id(1)] Heading Heading);

/// <summary>Converts <see cref="RobotPose"/> to and from its surrogate.</summary>
[RegisterConverter]
public sealed class RobotPoseSurrogateConverter : IConverter<RobotPose, RobotPoseSurrogate>
{
    /// <inheritdoc />
    public RobotPose ConvertFromSurrogate(in RobotPoseSurrogate surrogate) => new(surrogate.Cell, surrogate.Heading);

    /// <inheritdoc />
    public RobotPoseSurrogate ConvertToSurrogate(in RobotPose value) => new(value.Cell, value.Heading);
}
