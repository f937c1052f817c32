using CsCheck;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Sparkplug.Wire;

namespace WarehouseHybrid.Contracts.Tests.Sparkplug;

/// <summary>
/// Random sequences of connects, disconnects, host STATE, rebirth commands, hostile command bytes and device
/// samples: whatever happens, what the session publishes obeys the specification's sequencing rules.
/// </summary>
public sealed class SparkplugSessionPropertyTests
{
    private static readonly Gen<(int Op, int Arg)> Step = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 1000]);

    [Fact]
    public void Published_messages_keep_seq_alias_and_bdSeq_rules_under_any_event_sequence() =>
        Step.Array[1, 150].Sample(steps =>
        {
            var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
            var session = new SparkplugSession(new SparkplugSessionOptions("s1", "edge") { PrimaryHostId = "scada", MaxHeldSamples = 20 },
                RobotMetrics.Definitions, new InMemoryBdSeqStore(), time);
            var connected = false;
            long hostTs = 0;
            int? expectedSeq = null; // null until a birth
            var bornAliases = new HashSet<ulong>();
            ulong willBdSeq = 0;
            ulong telemetrySeq = 0;

            void Check(IReadOnlyList<SparkplugMessage> messages)
            {
                foreach (var m in messages)
                {
                    Assert.True(SparkplugTopic.TryParse(m.Topic, out var topic, out var e), e);
                    Assert.True(SparkplugPayloadReader.TryRead(m.Payload, topic.Type, out var p, out var error), error);
                    if (topic.Type == SparkplugMessageType.NBIRTH)
                    {
                        Assert.Equal(0UL, p.Seq);
                        Assert.Equal(willBdSeq, SparkplugPayloadReader.FindByName(p, "bdSeq")!.LongValue);
                        expectedSeq = 1;
                        bornAliases.Clear();
                        continue;
                    }

                    Assert.NotNull(expectedSeq); // nothing but NBIRTH before the birth
                    Assert.Equal((ulong)expectedSeq!.Value, p.Seq);
                    expectedSeq = (expectedSeq.Value + 1) % 256;
                    if (topic.Type == SparkplugMessageType.DBIRTH)
                    {
                        Assert.All(p.Metrics, metric => Assert.True(metric.HasName && metric.HasDatatype && metric.HasAlias));
                        foreach (var metric in p.Metrics)
                        {
                            Assert.True(bornAliases.Add(metric.Alias), $"alias {metric.Alias} born twice");
                        }
                    }
                    else if (topic.Type == SparkplugMessageType.DDATA)
                    {
                        Assert.All(p.Metrics, metric => Assert.False(metric.HasName));
                        Assert.All(p.Metrics, metric => Assert.Contains(metric.Alias, bornAliases));
                    }
                }
            }

            foreach (var (op, arg) in steps)
            {
                switch (op)
                {
                    case 0 when !connected:
                        var will = session.BeginConnect();
                        Assert.True(SparkplugPayloadReader.TryRead(will.Payload, SparkplugMessageType.NDEATH, out var death, out _));
                        willBdSeq = SparkplugPayloadReader.FindByName(death, "bdSeq")!.LongValue;
                        Check(session.OnConnected());
                        connected = true;
                        break;
                    case 1 when connected:
                        session.OnDisconnected();
                        connected = false;
                        expectedSeq = null;
                        break;
                    case 2 when connected:
                        hostTs += arg % 3 == 0 ? -1 : 1; // sometimes stale
                        Check(session.OnHostState(new SparkplugHostState(arg % 2 == 0, Math.Max(0, hostTs)).Encode()).Messages);
                        break;
                    case 3 when connected:
                        var rebirth = new Payload { Seq = 0 };
                        rebirth.Metrics.Add(new Payload.Types.Metric { Name = "Node Control/Rebirth", Datatype = (uint)DataType.Boolean, BooleanValue = true });
                        Check(session.OnNodeCommand(rebirth.ToByteArray()).Messages);
                        break;
                    case 4 when connected:
                        var junk = new byte[arg % 20];
                        new Random(arg).NextBytes(junk);
                        Check(session.OnNodeCommand(junk).Messages);
                        break;
                    case 5:
                        Check(session.RemoveDevice($"r{arg % 3}"));
                        break;
                    default:
                        time.Advance(TimeSpan.FromMilliseconds(100));
                        Check(session.SetDevice($"r{arg % 3}", RobotMetrics.FromTelemetry(SparkplugSessionTests.Sample(++telemetrySeq, x: arg % 7))));
                        break;
                }

                Assert.True(session.HeldSamples <= 20);
            }
        }, iter: 300);
}
