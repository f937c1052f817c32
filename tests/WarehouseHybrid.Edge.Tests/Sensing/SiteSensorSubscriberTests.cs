using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Sensing;

/// <summary>The site sensor subscriber against a real in-process MQTTnet broker on a free loopback port.</summary>
public sealed class SiteSensorSubscriberTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Site_estop_and_zone_limit_published_on_the_broker_reach_the_snapshot_with_their_age()
    {
        await using var broker = await TestBroker.StartAsync();
        var store = new SensorSnapshotStore();
        (int X, int Y)? cell = (6, 1);
        var settings = new SiteSensorSettings("site-1", "robot-1-site", "127.0.0.1", broker.Port, [new SiteZone("aisle-1", 5, 0, 9, 2)],
            TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500));
        await using var subscriber = new SiteSensorSubscriber(settings, store, () => cell, TimeProvider.System, NullLogger.Instance);
        await subscriber.StartAsync();
        await Eventually.UntilAsync(() => subscriber.IsConnected && subscriber.Connects == 1, Timeout, "the subscriber to connect");

        await broker.PublishAsync(SiteSensorTopics.SpeedLimit("site-1", "aisle-1"), Encoding.UTF8.GetBytes("{\"maxMps\":0.3}"));
        await Eventually.UntilAsync(() => { store.Read(out var s); return s.Site.SpeedLimitMps == 0.3; }, Timeout, "the zone limit");

        await broker.PublishAsync(SiteSensorTopics.EmergencyStop("site-1"), Encoding.UTF8.GetBytes("{\"engaged\":true}"));
        await Eventually.UntilAsync(() => { store.Read(out var s); return s.Site.EmergencyStop; }, Timeout, "the site e-stop");
        store.Read(out var snap);
        var age = new SensorFreshness(TimeProvider.System, TimeSpan.FromSeconds(1)).SiteAge(snap, TimeProvider.System.GetTimestamp());
        Assert.NotNull(age);
        Assert.True(age < Timeout);

        // The robot drives out of the zone: the periodic re-resolution lifts the limit without a new message.
        cell = (1, 1);
        await Eventually.UntilAsync(() => { store.Read(out var s); return double.IsPositiveInfinity(s.Site.SpeedLimitMps); }, Timeout, "the limit to lift outside the zone");

        await broker.PublishAsync(SiteSensorTopics.EmergencyStop("site-1"), Encoding.UTF8.GetBytes("garbage"));
        await Eventually.UntilAsync(() => subscriber.Rejected == 1, Timeout, "the malformed message to be refused");
        store.Read(out var after);
        Assert.True(after.Site.EmergencyStop, "a malformed message must not release the e-stop");
    }
}
