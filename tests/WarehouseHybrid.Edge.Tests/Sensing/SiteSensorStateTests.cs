using System.Text;
using CsCheck;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;

namespace WarehouseHybrid.Edge.Tests.Sensing;

public sealed class SiteSensorStateTests
{
    private static readonly SiteZone[] Zones = [new("dock", 0, 0, 4, 4), new("aisle-1", 5, 0, 9, 2)];

    private static SiteSensorState State() => new("site-1", Zones);

    private static byte[] Json(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Site_estop_is_engaged_and_released_by_its_topic()
    {
        var state = State();
        Assert.True(state.TryApply(SiteSensorTopics.EmergencyStop("site-1"), Json("{\"engaged\":true,\"source\":\"panel-3\"}"), 7, out _));
        var c = state.Resolve((1, 1));
        Assert.True(c.HasData);
        Assert.True(c.EmergencyStop);
        Assert.Equal(7, c.ReceivedTimestamp);

        Assert.True(state.TryApply(SiteSensorTopics.EmergencyStop("site-1"), Json("{\"engaged\":false}"), 8, out _));
        Assert.False(state.Resolve((1, 1)).EmergencyStop);
    }

    [Fact]
    public void A_zone_speed_limit_applies_only_inside_its_zone_and_null_lifts_it()
    {
        var state = State();
        Assert.True(state.TryApply(SiteSensorTopics.SpeedLimit("site-1", "aisle-1"), Json("{\"maxMps\":0.3}"), 1, out _));
        var inside = state.Resolve((6, 1));
        Assert.Equal(0.3, inside.SpeedLimitMps);
        Assert.Equal("aisle-1", inside.Zone);
        Assert.Equal(double.PositiveInfinity, state.Resolve((1, 1)).SpeedLimitMps);

        // Not localised: the strictest limit anywhere applies.
        Assert.Equal(0.3, state.Resolve(null).SpeedLimitMps);

        Assert.True(state.TryApply(SiteSensorTopics.SpeedLimit("site-1", "aisle-1"), Json("{\"maxMps\":null}"), 2, out _));
        Assert.Equal(double.PositiveInfinity, state.Resolve((6, 1)).SpeedLimitMps);
    }

    [Fact]
    public void Zone_occupancy_is_a_fact_in_the_conditions()
    {
        var state = State();
        Assert.True(state.TryApply(SiteSensorTopics.Occupancy("site-1", "dock"), Json("{\"occupied\":true}"), 1, out _));
        Assert.True(state.Resolve((2, 2)).ZoneOccupied);
        Assert.False(state.Resolve((6, 1)).ZoneOccupied);
    }

    [Theory]
    [InlineData("wh/v1/site-1/site/estop", "{\"engaged\":\"yes\"}", "boolean \"engaged\"")]
    [InlineData("wh/v1/site-1/site/estop", "not json", "wh/v1/site-1/site/estop")]
    [InlineData("wh/v1/site-1/site/zones/dock/speed-limit", "{\"maxMps\":-1}", "finite number >= 0")]
    [InlineData("wh/v1/site-1/site/zones/dock/speed-limit", "{}", "maxMps")]
    [InlineData("wh/v1/site-1/site/zones/dock/colour", "{}", "unknown zone leaf 'colour'")]
    [InlineData("wh/v1/site-1/site/lights", "{}", "unknown site leaf 'lights'")]
    [InlineData("wh/v1/site-2/site/estop", "{\"engaged\":true}", "not a site sensor topic of this site")]
    public void Malformed_or_unknown_messages_are_refused_naming_the_topic_and_change_nothing(string topic, string payload, string expected)
    {
        var state = State();
        Assert.True(state.TryApply(SiteSensorTopics.SpeedLimit("site-1", "dock"), Json("{\"maxMps\":0.5}"), 1, out _));
        var before = state.Resolve((1, 1));

        Assert.False(state.TryApply(topic, Json(payload), 2, out var error));
        Assert.Contains(topic, error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(before, state.Resolve((1, 1)));
        Assert.Equal(1, state.Rejected);
    }

    [Fact]
    public void Arbitrary_payloads_never_throw_and_never_leave_a_negative_limit()
    {
        var topics = new[]
        {
            SiteSensorTopics.EmergencyStop("site-1"), SiteSensorTopics.SpeedLimit("site-1", "dock"), SiteSensorTopics.Occupancy("site-1", "dock"),
        };
        Gen.Select(Gen.Int[0, 2], Gen.OneOf(Gen.Byte.Array[0, 64], Gen.String.Select(s => Encoding.UTF8.GetBytes("{\"maxMps\":" + s + "}"))))
            .Sample((t, payload) =>
            {
                var state = State();
                state.TryApply(topics[t], payload, 1, out _);
                var c = state.Resolve((1, 1));
                Assert.True(c.SpeedLimitMps >= 0);
            });
    }

    [Theory]
    [InlineData("dock", "not 'id:minX,minY,maxX,maxY'")]
    [InlineData("dock:1,2,3", "needs 4 numbers")]
    [InlineData("dock:1,2,x,4", "value 3 'x'")]
    [InlineData("dock:5,5,1,1", "is below min")]
    [InlineData("do/ck:1,1,2,2", "zone id 'do/ck'")]
    public void Zone_definitions_with_errors_name_the_option_and_the_problem(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => SiteZone.Parse(text, "Daemon:SiteZones:0"));
        Assert.StartsWith("Daemon:SiteZones:0", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shield_brakes_on_a_site_estop_and_caps_speed_at_the_zone_limit()
    {
        var shield = new SafetyShield(Builders.Limits, 200);
        var store = new SensorSnapshotStore();
        store.Publish(new KinematicRobot(0, 0, 0).Frame(), 0);
        store.Read(out var plain);
        var free = shield.Evaluate(new DriveCommand(0.8, 0), DecisionMode.Rule, plain, stale: false);
        Assert.True(free.Command.LinearMps > 0.5f, "without site facts nothing is limited");

        var site = SiteConditions.None;
        site.HasData = true;
        site.SpeedLimitMps = 0.25;
        store.PublishSite(site);
        store.Read(out var limited);
        var capped = shield.Evaluate(new DriveCommand(0.8, 0), DecisionMode.Rule, limited, stale: false);
        Assert.Equal(0.25f, capped.Command.LinearMps);
        Assert.Equal(0.25f, shield.Evaluate(new DriveCommand(-0.8, 0), DecisionMode.Rule, limited, stale: false).Command.LinearMps * -1);

        site.EmergencyStop = true;
        store.PublishSite(site);
        store.Read(out var stopped);
        var braked = shield.Evaluate(new DriveCommand(0.8, 0), DecisionMode.Rule, stopped, stale: false);
        Assert.Equal(DecisionReason.EmergencyStop, braked.Reason);
        Assert.Equal(MotorFlags.Brake, braked.Command.Flags & MotorFlags.Brake);
    }
}
