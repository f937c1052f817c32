using System.Buffers;
using Google.Protobuf;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Tests.Bridge;

/// <summary>Inbound validation as plain code.</summary>
public sealed class InboundMessageTests
{
    private static ReadOnlySequence<byte> Bytes(IMessage m) => new(m.ToByteArray());

    [Theory]
    [InlineData("wh/v1/s1/robots/r1/telemetry", null)]
    [InlineData("wh/v2/s1/robots/r1/telemetry", RejectionReason.TopicInvalid)]
    [InlineData("wh/v1/s1/robots/r+1/telemetry", RejectionReason.TopicInvalid)]
    [InlineData("wh/v1/s1/robots/r1/cmd/plan", RejectionReason.UnknownLeaf)]
    [InlineData("wh/v1/s1/robots/r2/telemetry", RejectionReason.RobotIdMismatch)]
    public void Topics_are_checked_against_the_payload(string topic, RejectionReason? expected)
    {
        var message = InboundMessage.Decode(topic, Bytes(new Telemetry { RobotId = "r1", Pose = new Pose { Cell = 4, Heading = Heading.North } }), 1024);
        Assert.Equal(expected, message.Rejection);
        if (expected is null)
        {
            Assert.Equal(4, message.Telemetry!.Cell);
            Assert.Equal(Domain.Grid.Heading.North, message.Telemetry.Heading);
            Assert.Equal("s1", message.Telemetry.SiteId);
        }
        else
        {
            Assert.Contains(topic, message.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_site_id_in_the_payload_must_match_the_topic()
    {
        var message = InboundMessage.Decode("wh/v1/s1/robots/r1/telemetry", Bytes(new Telemetry { RobotId = "r1", SiteId = "s2" }), 1024);
        Assert.Equal(RejectionReason.SiteIdMismatch, message.Rejection);
    }

    [Fact]
    public void Oversized_and_malformed_payloads_are_rejected_without_throwing()
    {
        Assert.Equal(RejectionReason.PayloadTooLarge, InboundMessage.Decode("wh/v1/s1/robots/r1/telemetry", new ReadOnlySequence<byte>(new byte[2000]), 1024).Rejection);
        Assert.Equal(RejectionReason.PayloadMalformed, InboundMessage.Decode("wh/v1/s1/robots/r1/events", new ReadOnlySequence<byte>([0x0A, 0x7F]), 1024).Rejection);
    }

    [Fact]
    public void Telemetry_without_a_pose_maps_to_cell_minus_one()
    {
        var message = InboundMessage.Decode("wh/v1/s1/robots/r1/telemetry", Bytes(new Telemetry { RobotId = "r1", Progress = new PlanProgress { LastCompletedStep = 12 } }), 1024);
        Assert.Equal(-1, message.Telemetry!.Cell);
        Assert.Equal(12u, message.Telemetry.LastCompletedStep);
    }
}
