using CsCheck;
using Google.Protobuf;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Sparkplug.Wire;
using Metric = WarehouseHybrid.Contracts.Sparkplug.Wire.Payload.Types.Metric;

namespace WarehouseHybrid.Contracts.Tests.Sparkplug;

/// <summary>The Sparkplug B payload codec: typed values round-trip, hostile payloads are rejected with a reason.</summary>
public sealed class SparkplugPayloadTests
{
    internal static readonly Gen<SparkplugValue> AnyValue = Gen.OneOf(
        Gen.Int.Select(SparkplugValue.Int32),
        Gen.UInt.Select(SparkplugValue.UInt32),
        Gen.Long.Select(SparkplugValue.Int64),
        Gen.ULong.Select(SparkplugValue.UInt64),
        Gen.Long[0, 4_102_444_800_000].Select(SparkplugValue.DateTime),
        Gen.Float.Select(SparkplugValue.Float),
        Gen.Double.Select(SparkplugValue.Double),
        Gen.Bool.Select(SparkplugValue.Boolean),
        Gen.String.Select(SparkplugValue.String),
        Gen.Enum<DataType>().Where(SparkplugValue.IsSupported).Select(SparkplugValue.Null),
        Gen.SByte.Select(v => new SparkplugValue(DataType.Int8, unchecked((ulong)(long)v), 0, null, false)),
        Gen.Short.Select(v => new SparkplugValue(DataType.Int16, unchecked((ulong)(long)v), 0, null, false)),
        Gen.Byte.Select(v => new SparkplugValue(DataType.Uint8, v, 0, null, false)),
        Gen.UShort.Select(v => new SparkplugValue(DataType.Uint16, v, 0, null, false)));

    [Fact]
    public void Every_scalar_value_round_trips_through_the_protobuf_bytes() =>
        Gen.Select(AnyValue.Array[0, 40], Gen.ULong, Gen.Byte).Sample((values, timestamp, seq) =>
        {
            var payload = new Payload { Timestamp = timestamp, Seq = seq };
            for (var i = 0; i < values.Length; i++)
            {
                var m = new Metric { Name = $"m{i}", Alias = (ulong)i };
                values[i].WriteTo(m, withType: true);
                payload.Metrics.Add(m);
            }

            Assert.True(SparkplugPayloadReader.TryRead(payload.ToByteArray(), SparkplugMessageType.DBIRTH, out var back, out var error), error);
            Assert.Equal(timestamp, back.Timestamp);
            Assert.Equal(seq, back.Seq);
            Assert.Equal(values.Length, back.Metrics.Count);
            for (var i = 0; i < values.Length; i++)
            {
                Assert.True(SparkplugValue.TryRead(back.Metrics[i], (DataType)back.Metrics[i].Datatype, out var v, out var why), why);
                Assert.Equal(values[i], v);
            }
        });

    [Fact]
    public void Data_type_numbers_are_those_of_the_specification()
    {
        Assert.Equal(1, (int)DataType.Int8);
        Assert.Equal(3, (int)DataType.Int32);
        Assert.Equal(8, (int)DataType.Uint64);
        Assert.Equal(9, (int)DataType.Float);
        Assert.Equal(10, (int)DataType.Double);
        Assert.Equal(11, (int)DataType.Boolean);
        Assert.Equal(12, (int)DataType.String);
        Assert.Equal(13, (int)DataType.DateTime);
        Assert.Equal(15, (int)DataType.Uuid);
        Assert.Equal(17, (int)DataType.Bytes);
        Assert.Equal(19, (int)DataType.Template);
        Assert.Equal(34, (int)DataType.DateTimeArray);
    }

    public static TheoryData<string, byte[], string> Malformed()
    {
        var data = new TheoryData<string, byte[], string>
        {
            { "not protobuf", [0xFF, 0xFF, 0xFF], "not a Sparkplug B protobuf" },
            { "truncated varint", [0x08, 0x80], "not a Sparkplug B protobuf" },
            { "no seq", new Payload { Timestamp = 1 }.ToByteArray(), "has no seq" },
            { "seq 256", new Payload { Seq = 256 }.ToByteArray(), "outside 0-255" },
        };
        var noName = new Payload { Seq = 1 };
        noName.Metrics.Add(new Metric { Datatype = 3, IntValue = 1 });
        data.Add("metric without name or alias", noName.ToByteArray(), "neither a name nor an alias");
        var wrongField = new Payload { Seq = 1 };
        wrongField.Metrics.Add(new Metric { Name = "x", Alias = 1, Datatype = (uint)DataType.Double, StringValue = "1.5" });
        data.Add("value field does not fit the type", wrongField.ToByteArray(), "data type Double but the value field is StringValue");
        var badType = new Payload { Seq = 1 };
        badType.Metrics.Add(new Metric { Alias = 1, Datatype = 99, IntValue = 1 });
        data.Add("unknown data type", badType.ToByteArray(), "datatype 99 is not a Sparkplug B data type");
        var missingValue = new Payload { Seq = 1 };
        missingValue.Metrics.Add(new Metric { Alias = 7, Datatype = (uint)DataType.Int32 });
        data.Add("missing value", missingValue.ToByteArray(), "(alias 7): data type Int32 but the value field is missing");
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_data_payloads_are_rejected_with_the_reason(string what, byte[] bytes, string reason)
    {
        Assert.False(SparkplugPayloadReader.TryRead(bytes, SparkplugMessageType.DDATA, out _, out var error), what);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Birth_metrics_without_name_or_datatype_are_rejected()
    {
        var noName = new Payload { Seq = 3 };
        noName.Metrics.Add(new Metric { Alias = 5, Datatype = 3, IntValue = 1 });
        Assert.False(SparkplugPayloadReader.TryRead(noName.ToByteArray(), SparkplugMessageType.DBIRTH, out _, out var e1));
        Assert.Contains("must carry their name", e1, StringComparison.Ordinal);

        var noType = new Payload { Seq = 3 };
        noType.Metrics.Add(new Metric { Name = "Pose/X", DoubleValue = 1 });
        Assert.False(SparkplugPayloadReader.TryRead(noType.ToByteArray(), SparkplugMessageType.DBIRTH, out _, out var e2));
        Assert.Contains("'Pose/X': birth metrics must carry their datatype", e2, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_birth_needs_seq_zero_and_a_bdSeq_metric()
    {
        Assert.False(SparkplugPayloadReader.TryRead(new Payload { Seq = 4 }.ToByteArray(), SparkplugMessageType.NBIRTH, out _, out var e1));
        Assert.Contains("requires 0", e1, StringComparison.Ordinal);
        Assert.False(SparkplugPayloadReader.TryRead(new Payload { Seq = 0 }.ToByteArray(), SparkplugMessageType.NBIRTH, out _, out var e2));
        Assert.Contains("lacks the 'bdSeq' metric", e2, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_payloads_are_rejected_before_parsing()
    {
        Assert.False(SparkplugPayloadReader.TryRead(new byte[2000], SparkplugMessageType.DDATA, out _, out var error, maxPayloadBytes: 1000));
        Assert.Contains("2000 bytes, over the limit of 1000", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Hostile_bytes_never_throw_from_the_decoder() =>
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            foreach (var type in Enum.GetValues<SparkplugMessageType>())
            {
                var ok = SparkplugPayloadReader.TryRead(bytes, type, out _, out var error);
                Assert.True(ok || error.Length > 0);
            }
        }, iter: 2000);

    [Fact]
    public void Mutated_valid_payloads_are_either_accepted_or_rejected_with_a_reason()
    {
        var valid = new Payload { Seq = 9, Timestamp = 1_700_000_000_000 };
        var values = RobotMetrics.FromTelemetry(new Contracts.Fleet.Telemetry { Seq = 5, Pose = new Contracts.Fleet.Pose { XM = 1.5, Cell = 12 }, ModelVersion = "m1" });
        for (var i = 0; i < values.Length; i++)
        {
            var m = new Metric { Name = RobotMetrics.Definitions[i].Name, Alias = (ulong)i };
            values[i].WriteTo(m, withType: true);
            valid.Metrics.Add(m);
        }

        var bytes = valid.ToByteArray();
        Gen.Select(Gen.Int[0, bytes.Length - 1], Gen.Byte, Gen.Int[0, 2]).Sample((at, b, op) =>
        {
            var mutated = op switch
            {
                0 => bytes.ToArray(),
                1 => bytes[..at],
                _ => [.. bytes[..at], b, .. bytes[at..]],
            };
            if (op == 0)
            {
                mutated[at] = b;
            }

            var ok = SparkplugPayloadReader.TryRead(mutated, SparkplugMessageType.DBIRTH, out _, out var error);
            Assert.True(ok || error.Length > 0);
        }, iter: 3000);
    }

    [Fact]
    public void Hostile_state_payloads_never_throw_and_are_refused_with_a_reason()
    {
        var valid = new SparkplugHostState(true, 1_700_000_000_000).Encode();
        Gen.OneOf(
            Gen.Byte.Array[0, 80],
            Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte).Select((at, b) => { var m = valid.ToArray(); m[at] = b; return m; }),
            Gen.Int[0, valid.Length].Select(n => valid[..n]))
            .Sample(bytes =>
            {
                var ok = SparkplugHostState.TryParse(bytes, out _, out var error);
                Assert.True(ok || error.Length > 0);
            }, iter: 3000);
    }

    [Theory]
    [InlineData("{\"online\":true,\"timestamp\":1700000000000}", true, 1700000000000L)]
    [InlineData("{\"timestamp\":5,\"online\":false,\"extra\":[1,2]}", false, 5L)]
    public void Host_state_json_parses(string json, bool online, long ts)
    {
        Assert.True(SparkplugHostState.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var state, out var error), error);
        Assert.Equal(new SparkplugHostState(online, ts), state);
        Assert.True(SparkplugHostState.TryParse(state.Encode(), out var again, out _));
        Assert.Equal(state, again);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{\"online\":\"yes\",\"timestamp\":1}", "'online' is String")]
    [InlineData("{\"online\":true}", "lacks 'timestamp'")]
    [InlineData("{\"online\":true,\"timestamp\":-4}", "'timestamp' is not a non-negative integer")]
    [InlineData("{\"online\":true,\"timestamp\":1} x", "not valid JSON")]
    public void Bad_host_state_json_is_rejected_with_the_reason(string json, string reason)
    {
        Assert.False(SparkplugHostState.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
