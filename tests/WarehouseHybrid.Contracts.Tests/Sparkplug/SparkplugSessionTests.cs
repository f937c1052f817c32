using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Sparkplug.Wire;

namespace WarehouseHybrid.Contracts.Tests.Sparkplug;

/// <summary>The edge node session: births, aliases, seq, bdSeq, rebirth and the primary host's STATE.</summary>
public sealed class SparkplugSessionTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    internal static Telemetry Sample(ulong seq, double x = 1.5, string mode = "m1") => new()
    {
        RobotId = "r7",
        SiteId = "s1",
        Seq = seq,
        Pose = new Pose { XM = x, YM = 2.25, ThetaRad = -0.5, Cell = 42, Heading = Heading.West },
        State = RobotState.Executing,
        BatteryFraction = 0.75f,
        Progress = new PlanProgress { PlanId = "p-1", PlanRevision = 3, LastCompletedStep = 10, GrantedThroughStep = 12, HasPlan = true },
        ModelVersion = mode,
        DecisionMode = DecisionMode.Learned,
        MinRangeM = double.PositiveInfinity,
        ErrandsReached = 4,
    };

    private SparkplugSession NewSession(IBdSeqStore? store = null, string? host = null, int maxHeld = 100) =>
        new(new SparkplugSessionOptions("s1", "edge-r7") { PrimaryHostId = host, MaxHeldSamples = maxHeld }, RobotMetrics.Definitions, store ?? new InMemoryBdSeqStore(), _time);

    private static Payload Decode(SparkplugMessage m)
    {
        Assert.True(SparkplugTopic.TryParse(m.Topic, out var topic, out var e), e);
        Assert.True(SparkplugPayloadReader.TryRead(m.Payload, topic.Type, out var payload, out var error), $"{m.Topic}: {error}");
        return payload;
    }

    private static SparkplugMessageType TypeOf(SparkplugMessage m)
    {
        Assert.True(SparkplugTopic.TryParse(m.Topic, out var topic, out _));
        return topic.Type;
    }

    [Fact]
    public void Node_birth_carries_bdSeq_and_rebirth_then_device_birth_every_metric_with_name_alias_and_type()
    {
        var session = NewSession();
        var will = session.BeginConnect();
        Assert.Equal("spBv1.0/s1/NDEATH/edge-r7", will.Topic);
        Assert.Equal(0UL, SparkplugPayloadReader.FindByName(Decode(will), "bdSeq")!.LongValue);
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(1)));

        var births = session.OnConnected();

        Assert.Equal([SparkplugMessageType.NBIRTH, SparkplugMessageType.DBIRTH], births.Select(TypeOf));
        var nbirth = Decode(births[0]);
        Assert.Equal(0UL, nbirth.Seq);
        Assert.Equal(0UL, SparkplugPayloadReader.FindByName(nbirth, "bdSeq")!.LongValue);
        var rebirth = SparkplugPayloadReader.FindByName(nbirth, "Node Control/Rebirth")!;
        Assert.Equal((uint)DataType.Boolean, rebirth.Datatype);
        Assert.False(rebirth.BooleanValue);

        var dbirth = Decode(births[1]);
        Assert.Equal("spBv1.0/s1/DBIRTH/edge-r7/r7", births[1].Topic);
        Assert.Equal(1UL, dbirth.Seq);
        Assert.Equal(RobotMetrics.Definitions.Count, dbirth.Metrics.Count);
        var expected = RobotMetrics.FromTelemetry(Sample(1));
        for (var i = 0; i < expected.Length; i++)
        {
            var m = dbirth.Metrics[i];
            Assert.Equal(RobotMetrics.Definitions[i].Name, m.Name);
            Assert.Equal(session.AliasOf("r7", i), m.Alias);
            Assert.Equal((uint)RobotMetrics.Definitions[i].Type, m.Datatype);
            Assert.True(SparkplugValue.TryRead(m, RobotMetrics.Definitions[i].Type, out var v, out _));
            Assert.Equal(expected[i], v);
        }

        var aliases = dbirth.Metrics.Select(m => m.Alias).Concat(nbirth.Metrics.Select(m => m.Alias)).ToList();
        Assert.Equal(aliases.Count, aliases.Distinct().Count());
    }

    [Fact]
    public void Device_data_carries_only_changed_metrics_by_alias_without_names()
    {
        var session = NewSession();
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(1)));
        session.OnConnected();

        var data = session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(2, x: 1.75)));

        var ddata = Assert.Single(data);
        Assert.Equal("spBv1.0/s1/DDATA/edge-r7/r7", ddata.Topic);
        var payload = Decode(ddata);
        Assert.All(payload.Metrics, m => Assert.False(m.HasName));
        var byAlias = payload.Metrics.ToDictionary(m => m.Alias);
        Assert.Equal(2, byAlias.Count); // Pose/X and Telemetry/Seq changed, nothing else
        Assert.Equal(1.75, byAlias[session.AliasOf("r7", 0)].DoubleValue);
        Assert.Equal(2UL, byAlias[session.AliasOf("r7", 17)].LongValue);
        Assert.Empty(session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(2, x: 1.75))));
    }

    [Fact]
    public void Seq_counts_every_message_after_the_birth_and_wraps_from_255_to_0()
    {
        var session = NewSession();
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(0)));
        session.OnConnected(); // NBIRTH 0, DBIRTH 1
        var seqs = new List<ulong>();
        for (ulong i = 1; i <= 600; i++)
        {
            seqs.Add(Decode(Assert.Single(session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(i))))).Seq);
        }

        Assert.Equal(Enumerable.Range(0, 600).Select(i => (ulong)((i + 2) % 256)), seqs);
    }

    [Fact]
    public void Rebirth_command_resends_node_and_device_births_with_seq_restarting_at_zero_and_the_same_bdSeq()
    {
        var session = NewSession();
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(1)));
        session.OnConnected();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(2)));
        var command = new Payload { Timestamp = 1, Seq = 0 };
        command.Metrics.Add(new Payload.Types.Metric { Name = "Node Control/Rebirth", Datatype = (uint)DataType.Boolean, BooleanValue = true });

        var reaction = session.OnNodeCommand(command.ToByteArray());

        Assert.Null(reaction.Rejected);
        Assert.Equal([SparkplugMessageType.NBIRTH, SparkplugMessageType.DBIRTH], reaction.Messages.Select(TypeOf));
        var nbirth = Decode(reaction.Messages[0]);
        Assert.Equal(0UL, nbirth.Seq);
        Assert.Equal(0UL, SparkplugPayloadReader.FindByName(nbirth, "bdSeq")!.LongValue);
        var dbirth = Decode(reaction.Messages[1]);
        Assert.Equal(2UL, dbirth.Metrics.Single(m => m.Name == RobotMetrics.Names.TelemetrySeq).LongValue); // current values
        Assert.Equal(2, session.Counters.Births);
    }

    [Theory]
    [InlineData(false, "is not true")]
    [InlineData(null, "no metric this edge node handles")]
    public void Node_commands_other_than_rebirth_true_are_rejected_with_the_reason(bool? rebirth, string reason)
    {
        var session = NewSession();
        session.BeginConnect();
        session.OnConnected();
        var command = new Payload { Seq = 0 };
        command.Metrics.Add(rebirth is { } r
            ? new Payload.Types.Metric { Name = "Node Control/Rebirth", Datatype = (uint)DataType.Boolean, BooleanValue = r }
            : new Payload.Types.Metric { Name = "Node Control/Reboot", Datatype = (uint)DataType.Boolean, BooleanValue = true });

        var reaction = session.OnNodeCommand(command.ToByteArray());

        Assert.Empty(reaction.Messages);
        Assert.Contains(reason, reaction.Rejected, StringComparison.Ordinal);
        Assert.Equal(1, session.Counters.InboundRejected);
    }

    [Fact]
    public void Malformed_node_command_is_rejected_and_changes_nothing()
    {
        var session = NewSession();
        session.BeginConnect();
        session.OnConnected();
        var reaction = session.OnNodeCommand([0x0A, 0xFF, 0x01]);
        Assert.Contains("not a Sparkplug B protobuf", reaction.Rejected, StringComparison.Ordinal);
        Assert.Equal(SparkplugSessionState.Online, session.State);
    }

    [Fact]
    public void BdSeq_persists_across_restarts_increments_per_connect_and_wraps_at_256()
    {
        var dir = Directory.CreateTempSubdirectory("wh-bdseq-");
        try
        {
            var path = Path.Combine(dir.FullName, "bdseq");
            var seen = new List<ulong>();
            for (var restart = 0; restart < 3; restart++)
            {
                var session = NewSession(new FileBdSeqStore(path)); // a new process each time
                for (var connect = 0; connect < 100; connect++)
                {
                    var will = Decode(session.BeginConnect());
                    var birth = Decode(session.OnConnected()[0]);
                    Assert.Equal(SparkplugPayloadReader.FindByName(will, "bdSeq")!.LongValue, SparkplugPayloadReader.FindByName(birth, "bdSeq")!.LongValue);
                    seen.Add(SparkplugPayloadReader.FindByName(will, "bdSeq")!.LongValue);
                    session.OnDisconnected();
                }
            }

            Assert.Equal(Enumerable.Range(0, 300).Select(i => (ulong)(i % 256)), seen);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void An_unreadable_bdSeq_file_is_reported_and_the_node_starts_from_zero()
    {
        var dir = Directory.CreateTempSubdirectory("wh-bdseq-");
        try
        {
            var path = Path.Combine(dir.FullName, "bdseq");
            File.WriteAllText(path, "garbage");
            var store = new FileBdSeqStore(path);
            var session = NewSession(store);
            Assert.Equal(0UL, SparkplugPayloadReader.FindByName(Decode(session.BeginConnect()), "bdSeq")!.LongValue);
            Assert.Contains("not a number 0-255", store.LastLoadError, StringComparison.Ordinal);
            Assert.True(store.TryLoad(out var saved));
            Assert.Equal(0, saved);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void With_a_primary_host_births_wait_for_its_state_online()
    {
        var session = NewSession(host: "scada");
        Assert.Equal("spBv1.0/STATE/scada", session.HostStateTopic);
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(1)));
        Assert.Empty(session.OnConnected());
        Assert.Equal(SparkplugSessionState.WaitingForHost, session.State);

        var reaction = session.OnHostState(new SparkplugHostState(true, 100).Encode());

        Assert.Equal([SparkplugMessageType.NBIRTH, SparkplugMessageType.DBIRTH], reaction.Messages.Select(TypeOf));
        Assert.Equal(SparkplugSessionState.Online, session.State);
    }

    [Fact]
    public void Data_while_the_host_is_offline_is_held_and_sent_as_historical_after_the_rebirth()
    {
        var session = NewSession(host: "scada");
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(1)));
        session.OnConnected();
        session.OnHostState(new SparkplugHostState(true, 100).Encode());
        Assert.Empty(session.OnHostState(new SparkplugHostState(false, 200).Encode()).Messages);
        Assert.Equal(SparkplugSessionState.HostOffline, session.State);

        var heldAt = new List<long>();
        for (ulong i = 2; i <= 4; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            heldAt.Add(_time.GetUtcNow().ToUnixTimeMilliseconds());
            Assert.Empty(session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(i, x: i))));
        }

        Assert.Equal(3, session.HeldSamples);
        _time.Advance(TimeSpan.FromSeconds(1));
        var back = session.OnHostState(new SparkplugHostState(true, 300).Encode());

        Assert.Equal([SparkplugMessageType.NBIRTH, SparkplugMessageType.DBIRTH, SparkplugMessageType.DDATA, SparkplugMessageType.DDATA, SparkplugMessageType.DDATA],
            back.Messages.Select(TypeOf));
        var historical = back.Messages.Skip(2).Select(Decode).ToList();
        Assert.Equal([2UL, 3UL, 4UL], historical.Select(p => p.Seq));
        for (var k = 0; k < 3; k++)
        {
            Assert.All(historical[k].Metrics, m => Assert.True(m.IsHistorical));
            Assert.All(historical[k].Metrics, m => Assert.Equal((ulong)heldAt[k], m.Timestamp));
            Assert.Equal(k + 2.0, historical[k].Metrics.Single(m => m.Alias == session.AliasOf("r7", 0)).DoubleValue);
        }

        Assert.Equal(0, session.HeldSamples);
        Assert.Equal(3, session.Counters.HistoricalSamples);
    }

    [Fact]
    public void Held_samples_beyond_the_limit_drop_the_oldest_and_count_them()
    {
        var session = NewSession(maxHeld: 2);
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(1)));
        session.OnConnected();
        session.OnDisconnected();
        for (ulong i = 2; i <= 6; i++)
        {
            session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(i)));
        }

        session.BeginConnect();
        var births = session.OnConnected();

        Assert.Equal(3, session.Counters.HeldDropped);
        var historical = births.Skip(2).Select(Decode).ToList();
        Assert.Equal([5UL, 6UL], historical.Select(p => p.Metrics.Single(m => m.Alias == session.AliasOf("r7", 17)).LongValue));
    }

    [Fact]
    public void Stale_host_state_is_ignored()
    {
        var session = NewSession(host: "scada");
        session.BeginConnect();
        session.OnConnected();
        session.OnHostState(new SparkplugHostState(true, 500).Encode());
        var stale = session.OnHostState(new SparkplugHostState(false, 400).Encode());
        Assert.Contains("stale STATE", stale.Rejected, StringComparison.Ordinal);
        Assert.Equal(SparkplugSessionState.Online, session.State);
    }

    [Fact]
    public void Removing_a_born_device_sends_its_death_with_the_next_seq()
    {
        var session = NewSession();
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(Sample(1)));
        session.OnConnected();
        var death = Assert.Single(session.RemoveDevice("r7"));
        Assert.Equal("spBv1.0/s1/DDEATH/edge-r7/r7", death.Topic);
        Assert.Equal(2UL, Decode(death).Seq);
    }

    [Fact]
    public void Values_of_the_wrong_type_are_refused_naming_the_metric()
    {
        var session = NewSession();
        var values = RobotMetrics.FromTelemetry(Sample(1));
        values[3] = SparkplugValue.String("42");
        var ex = Assert.Throws<ArgumentException>(() => session.SetDevice("r7", values));
        Assert.Contains("'Pose/Cell' is Int32", ex.Message, StringComparison.Ordinal);
    }
}
