using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Edge.Tests.Control;

/// <summary>What the site's MQTT sensors do to a decision: the zone speed limit, and stale or missing site data.</summary>
public sealed class SiteDecisionTests
{
    private readonly SafetyShield _shield = new(Builders.Limits, 200, siteStaleSpeedLimitMps: 0.3);

    private static SensorSnapshot Snapshot(SiteConditions site, SiteLinkState link)
    {
        var s = new SensorSnapshot { FrameCount = 1, Site = site, SiteLink = link };
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            s.Frame.Ranges[i] = RangeScanLayout.NoEchoMillimetres;
        }

        return s;
    }

    private static SiteConditions Limit(double mps)
    {
        var c = SiteConditions.None;
        c.HasData = true;
        c.SpeedLimitMps = mps;
        c.Zone = "dock";
        return c;
    }

    [Fact]
    public void A_zone_speed_limit_below_the_proposal_slows_the_robot_with_its_own_reason()
    {
        var v = _shield.Evaluate(new DriveCommand(0.8, 0.1), DecisionMode.Learned, Snapshot(Limit(0.5), SiteLinkState.Up), stale: false, siteStale: false);
        Assert.Equal((DecisionMode.ShieldStop, DecisionReason.ZoneSpeedLimit), (v.Mode, v.Reason));
        Assert.Equal(0.5f, v.Command.LinearMps);
        Assert.Equal(MotorFlags.None, v.Command.Flags); // slowed, not braked

        var under = _shield.Evaluate(new DriveCommand(0.4, 0), DecisionMode.Learned, Snapshot(Limit(0.5), SiteLinkState.Up), stale: false, siteStale: false);
        Assert.Equal((DecisionMode.Learned, DecisionReason.RulePolicy), (under.Mode, under.Reason)); // under the limit: the proposal stands
    }

    [Fact]
    public void Stale_site_data_caps_speed_at_the_stale_site_limit_and_a_lower_known_zone_limit_still_applies()
    {
        var stale = _shield.Evaluate(new DriveCommand(0.8, 0), DecisionMode.Rule, Snapshot(SiteConditions.None, SiteLinkState.Down), stale: false, siteStale: true);
        Assert.Equal((DecisionMode.ShieldStop, DecisionReason.SiteStale), (stale.Mode, stale.Reason));
        Assert.Equal(0.3f, stale.Command.LinearMps);

        var zone = _shield.Evaluate(new DriveCommand(0.8, 0), DecisionMode.Rule, Snapshot(Limit(0.2), SiteLinkState.Down), stale: false, siteStale: true);
        Assert.Equal(DecisionReason.ZoneSpeedLimit, zone.Reason);
        Assert.Equal(0.2f, zone.Command.LinearMps);
    }

    [Fact]
    public void A_site_estop_known_before_the_link_went_down_keeps_braking_while_the_site_is_stale()
    {
        var engaged = Limit(0.5);
        engaged.EmergencyStop = true;
        var v = _shield.Evaluate(new DriveCommand(0.8, 0), DecisionMode.Rule, Snapshot(engaged, SiteLinkState.Down), stale: false, siteStale: true);
        Assert.Equal(DecisionReason.EmergencyStop, v.Reason);
        Assert.True((v.Command.Flags & MotorFlags.Brake) != 0);
    }

    [Fact]
    public void Site_freshness_is_stale_at_once_when_never_connected_and_after_the_grace_when_lost()
    {
        var time = new FakeTimeProvider();
        var freshness = new SiteFreshness(time, TimeSpan.FromSeconds(3));
        Assert.False(freshness.IsStale(Snapshot(SiteConditions.None, SiteLinkState.NotExpected), time.GetTimestamp()));
        Assert.True(freshness.IsStale(Snapshot(SiteConditions.None, SiteLinkState.Down), time.GetTimestamp())); // missing since start

        Assert.False(freshness.IsStale(Snapshot(SiteConditions.None, SiteLinkState.Up), time.GetTimestamp()));
        Assert.False(freshness.IsStale(Snapshot(SiteConditions.None, SiteLinkState.Down), time.GetTimestamp()));
        time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.False(freshness.IsStale(Snapshot(SiteConditions.None, SiteLinkState.Down), time.GetTimestamp())); // a short drop changes nothing
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(freshness.IsStale(Snapshot(SiteConditions.None, SiteLinkState.Down), time.GetTimestamp()));
        Assert.False(freshness.IsStale(Snapshot(SiteConditions.None, SiteLinkState.Up), time.GetTimestamp()));
    }

    [Fact]
    public void In_the_loop_a_lost_site_link_caps_the_robot_after_the_grace_with_a_mode_change_and_lifts_when_it_is_back()
    {
        var connected = true;
        using var rig = new LoopRig(extras: new ControlLoopExtras { SiteStaleAfter = TimeSpan.FromMilliseconds(200) }, shield: _shield);
        rig.Sensors.AttachSiteLink(() => connected);
        rig.Loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, Contracts.Fleet.PlanAction.Forward, 12, ProtoHeading.East),
            Builders.Step(2, Contracts.Fleet.PlanAction.Forward, 13, ProtoHeading.East), Builders.Step(3, Contracts.Fleet.PlanAction.Forward, 14, ProtoHeading.East)));
        rig.SimTicks(40);
        Assert.True(rig.Robot.V > 0.5, $"cruising at {rig.Robot.V}");

        connected = false;
        rig.SimTicks(9); // 180 ms: within the grace
        Assert.NotEqual(DecisionReason.SiteStale, rig.Latest.Reason);
        rig.SimTicks(3);
        Assert.Equal((DecisionMode.ShieldStop, DecisionReason.SiteStale), (rig.Latest.Mode, rig.Latest.Reason));
        Assert.Equal(RobotActivity.Executing, rig.Latest.Activity); // slowed, still executing its step
        rig.SimTicks(30);
        Assert.InRange(rig.Robot.V, 0, 0.31);
        Assert.Contains(rig.Sinks.Events, e => e.Kind == "mode-change" && e.Detail.EndsWith(": site-stale", StringComparison.Ordinal));

        connected = true;
        rig.SimTick();
        Assert.NotEqual(DecisionReason.SiteStale, rig.Latest.Reason);
    }
}
