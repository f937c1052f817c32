using CsCheck;
using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Contracts.Tests.Fleet;

/// <summary>The protobuf messages of Protos/warehouse/v1/fleet.proto survive serialisation with every field set.</summary>
public sealed class FleetMessageRoundTripTests
{
    private static readonly Gen<string> Id = Gen.String[Gen.Char.AlphaNumeric, 0, 40];

    private static readonly Gen<Telemetry> AnyTelemetry =
        from robot in Id
        from site in Id
        from seq in Gen.ULong
        from ts in Gen.Long
        from x in Gen.Double
        from y in Gen.Double
        from theta in Gen.Double
        from cell in Gen.Int
        from heading in Gen.Int[0, 3]
        from state in Gen.Int[0, 6]
        from battery in Gen.Float
        from revision in Gen.ULong
        from steps in Gen.UInt
        from mode in Gen.Int[0, 4]
        from reason in Gen.String
        from range in Gen.Double
        select new Telemetry
        {
            RobotId = robot,
            SiteId = site,
            Seq = seq,
            TimestampUnixMs = ts,
            Pose = new Pose { XM = x, YM = y, ThetaRad = theta, Cell = cell, Heading = (Heading)heading },
            State = (RobotState)state,
            BatteryFraction = battery,
            Progress = new PlanProgress { PlanId = robot + "-plan", PlanRevision = revision, LastCompletedStep = steps, GrantedThroughStep = steps + 1, HasPlan = true },
            ModelVersion = "m-" + site,
            DecisionMode = (DecisionMode)mode,
            TraceId = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            FallbackReason = reason,
            MinRangeM = range,
            ErrandsReached = steps,
        };

    [Fact]
    public void Any_telemetry_round_trips_through_bytes() =>
        AnyTelemetry.Sample(t => Assert.Equal(t, Telemetry.Parser.ParseFrom(t.ToByteArray())));

    [Fact]
    public void Plan_segment_with_steps_round_trips()
    {
        var segment = new PlanSegment
        {
            RobotId = "r-7",
            PlanId = "plan-42",
            Revision = 3,
            FirstStep = 100,
            StartCell = 1234,
            StartHeading = Heading.West,
            TraceId = "trace",
            IssuedUnixMs = 1_700_000_000_000,
            Steps =
            {
                new PlanStep { Step = 100, Action = PlanAction.Forward, TargetCell = 1233, TargetHeading = Heading.West, Granted = true },
                new PlanStep { Step = 101, Action = PlanAction.RotateCw, TargetCell = 1233, TargetHeading = Heading.North, Granted = false },
                new PlanStep { Step = 102, Action = PlanAction.Wait, TargetCell = 1233, TargetHeading = Heading.North },
            },
        };

        var back = PlanSegment.Parser.ParseFrom(segment.ToByteArray());

        Assert.Equal(segment, back);
        Assert.Equal(3, back.Steps.Count);
        Assert.Equal(PlanAction.RotateCw, back.Steps[1].Action);
        Assert.False(back.Steps[2].Granted);
    }

    [Fact]
    public void Task_assignment_keeps_errand_order() =>
        Gen.Int.List[0, 50].Sample(errands =>
        {
            var task = new TaskAssignment { RobotId = "r1", TaskId = "t1", NextErrandIndex = 2, TraceId = "x", AssignedUnixMs = -5 };
            task.Errands.AddRange(errands);
            var back = TaskAssignment.Parser.ParseFrom(task.ToByteArray());
            Assert.Equal(errands, back.Errands);
            Assert.Equal(task, back);
        });

    [Fact]
    public void Escalation_request_and_response_round_trip_including_special_floats()
    {
        var request = new EscalationRequest
        {
            RobotId = "r1",
            RequestId = "q-1",
            ModelVersion = "obstacle-1.2.0",
            EdgeConfidence = 0.42f,
            TraceId = "t",
            DeadlineUnixMs = 1_700_000_000_250,
            Features = { 0f, -0f, 1.5f, float.NaN, float.PositiveInfinity, float.Epsilon },
        };
        var response = new EscalationResponse
        {
            RobotId = "r1",
            RequestId = "q-1",
            ModelVersion = "obstacle-large-2.0.0",
            ObstacleClass = 3,
            Confidence = 0.97f,
            SpeedLimitMps = 0.3f,
            TraceId = "t",
        };

        var requestBack = EscalationRequest.Parser.ParseFrom(request.ToByteArray());
        Assert.Equal(request, requestBack);
        Assert.True(float.IsNaN(requestBack.Features[3]));
        Assert.Equal(BitConverter.SingleToUInt32Bits(-0f), BitConverter.SingleToUInt32Bits(requestBack.Features[1]));
        Assert.Equal(response, EscalationResponse.Parser.ParseFrom(response.ToByteArray()));
    }

    [Fact]
    public void Model_manifest_round_trips_with_statistics_and_signature()
    {
        var manifest = new ModelManifest
        {
            ModelName = "obstacle",
            Version = "1.2.0",
            OnnxSha256 = new string('a', 64),
            TrainingDataDigest = "sha256:" + new string('b', 64),
            InputNames = { "features" },
            InputShape = { 1, 24 },
            OutputNames = { "class", "confidence" },
            FeatureStatistics =
            {
                new FeatureStatistics { Name = "range_0", Mean = 1.5, StdDev = 0.5, Min = 0, Max = 8 },
                new FeatureStatistics { Name = "speed", Mean = 0.4, StdDev = 0.2, Min = -1, Max = 1 },
            },
            CreatedUnixMs = 1_700_000_000_000,
            SignatureAlgorithm = "ed25519",
            Signature = ByteString.CopyFrom(Enumerable.Range(0, 64).Select(i => (byte)i).ToArray()),
        };

        var back = ModelManifest.Parser.ParseFrom(manifest.ToByteArray());

        Assert.Equal(manifest, back);
        Assert.Equal(64, back.Signature.Length);
        Assert.Equal([1L, 24L], back.InputShape);
    }

    [Fact]
    public void Unknown_fields_from_a_newer_sender_survive_a_round_trip()
    {
        // A newer contract adds field 99 to Telemetry; an older reader must keep it when relaying.
        var known = new Telemetry { RobotId = "r1", Seq = 5 }.ToByteArray();
        // Tag of field 99, wire type 2 (length-delimited): (99 << 3) | 2 = 794 = varint 9A 06; then length 3.
        byte[] extra = [0x9A, 0x06, 0x03, 0x01, 0x02, 0x03];
        byte[] newer = [.. known, .. extra];

        var parsed = Telemetry.Parser.ParseFrom(newer);

        Assert.Equal("r1", parsed.RobotId);
        Assert.Equal(5UL, parsed.Seq);
        Assert.Equal(newer, parsed.ToByteArray());
    }

    [Fact]
    public void Default_enum_values_are_the_documented_zero_values()
    {
        var t = new Telemetry();
        Assert.Equal(RobotState.Unknown, t.State);
        Assert.Equal(DecisionMode.Unknown, t.DecisionMode);
        Assert.Equal(Heading.East, new Pose().Heading);
        Assert.Equal(PlanAction.Forward, new PlanStep().Action);
        Assert.Empty(t.ToByteArray());
    }
}
