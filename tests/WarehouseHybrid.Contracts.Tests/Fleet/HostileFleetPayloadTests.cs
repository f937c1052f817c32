using CsCheck;
using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Tracing;

namespace WarehouseHybrid.Contracts.Tests.Fleet;

/// <summary>
/// The protobuf decoders of every message the link carries, fed hostile bytes: random, mutated valid messages, and
/// crafted length prefixes. A decoder either yields a message or throws <see cref="InvalidProtocolBufferException"/>
/// (which the edge and the bridge count as malformed); nothing else may escape.
/// </summary>
public sealed class HostileFleetPayloadTests
{
    private static readonly MessageParser[] Parsers =
    [
        Telemetry.Parser, RobotEvent.Parser, PlanSegment.Parser, GrantUpdate.Parser, TaskAssignment.Parser,
        EscalationRequest.Parser, EscalationResponse.Parser,
    ];

    private static readonly byte[][] Valid =
    [
        new Telemetry { RobotId = "r1", SiteId = "s1", Seq = 42, StreamId = 7, Pose = new Pose { Cell = 3 }, TraceId = TraceParent.NewRoot() }.ToByteArray(),
        new RobotEvent { RobotId = "r1", Seq = 43, Kind = "shield-stop", Detail = "bumper", EventClass = "safety", StreamId = 7 }.ToByteArray(),
        new PlanSegment { RobotId = "r1", PlanId = "p", Revision = 3, FirstStep = 9, Steps = { new PlanStep { Step = 9, TargetCell = 4, Granted = true } } }.ToByteArray(),
        new EscalationRequest { RobotId = "r1", RequestId = "q", Features = { 1f, 2f, 3f }, DeadlineUnixMs = 5 }.ToByteArray(),
    ];

    private static bool Decodes(MessageParser parser, byte[] bytes)
    {
        try
        {
            parser.ParseFrom(bytes);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    [Fact]
    public void Random_bytes_either_decode_or_are_refused_as_invalid_protobuf() =>
        Gen.Byte.Array[0, 400].Sample(bytes =>
        {
            foreach (var parser in Parsers)
            {
                _ = Decodes(parser, bytes);
            }
        }, iter: 3000);

    [Fact]
    public void Mutated_valid_messages_either_decode_or_are_refused_as_invalid_protobuf() =>
        Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Int[0, 1000], Gen.Byte, Gen.Int[0, 3]).Sample((which, at, value, op) =>
        {
            var bytes = Valid[which].ToList();
            var i = at % bytes.Count;
            switch (op)
            {
                case 0: bytes[i] = value; break;                       // flip a byte
                case 1: bytes.RemoveRange(i, bytes.Count - i); break;  // truncate
                case 2: bytes.Insert(i, value); break;                 // insert
                default: bytes.InsertRange(i, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07]); break; // a 2 GiB length prefix
            }

            foreach (var parser in Parsers)
            {
                _ = Decodes(parser, [.. bytes]);
            }
        }, iter: 3000);

    [Fact]
    public void Deeply_nested_groups_and_huge_lengths_are_refused_not_thrown_otherwise()
    {
        var nested = Enumerable.Repeat((byte)0x0B, 5000).ToArray(); // start-group tags, deeper than the recursion limit
        var huge = new byte[] { 0x2A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }; // field 5 (pose), length 4 GiB
        foreach (var parser in Parsers)
        {
            Assert.False(Decodes(parser, nested));
            Assert.False(Decodes(parser, huge));
        }
    }

    [Fact]
    public void Traceparent_validation_never_throws_and_children_keep_the_trace_id() =>
        Gen.OneOf(Gen.String, Gen.Const(TraceParent.NewRoot()), Gen.String[Gen.Char["0123456789abcdef-"], 55, 55]).Sample(value =>
        {
            var child = TraceParent.ChildOf(value);
            Assert.True(TraceParent.IsValid(child));
            if (TraceParent.IsValid(value))
            {
                Assert.Equal(TraceParent.TraceIdOf(value), TraceParent.TraceIdOf(child));
                Assert.NotEqual(value, child);
            }
        }, iter: 2000);
}
