using CsCheck;
using WarehouseHybrid.Contracts.Sparkplug;

namespace WarehouseHybrid.Contracts.Tests.Sparkplug;

/// <summary>The Sparkplug B topic namespace: built topics parse back; anything else is refused with the level named.</summary>
public sealed class SparkplugTopicTests
{
    private static readonly Gen<string> Id = Gen.String[Gen.OneOf(Gen.Char.AlphaNumeric, Gen.OneOf('-', '_', '.')), 1, 64];

    [Fact]
    public void Built_node_device_and_state_topics_parse_back() =>
        Gen.Select(Id, Id, Id).Sample((group, node, device) =>
        {
            foreach (var type in new[] { SparkplugMessageType.NBIRTH, SparkplugMessageType.NDEATH, SparkplugMessageType.NDATA, SparkplugMessageType.NCMD })
            {
                Assert.True(SparkplugTopic.TryParse(SparkplugTopic.Node(group, type, node), out var t, out var e), e);
                Assert.Equal(new SparkplugTopic(type, group, node, null), t);
            }

            foreach (var type in new[] { SparkplugMessageType.DBIRTH, SparkplugMessageType.DDEATH, SparkplugMessageType.DDATA, SparkplugMessageType.DCMD })
            {
                var topic = SparkplugTopic.Device(group, type, node, device);
                Assert.True(SparkplugTopic.TryParse(topic, out var t, out var e), e);
                Assert.Equal(new SparkplugTopic(type, group, node, device), t);
                Assert.Equal(topic, t.ToString());
            }

            Assert.True(SparkplugTopic.TryParse(SparkplugTopic.State(node), out var s, out _));
            Assert.Equal(SparkplugMessageType.STATE, s.Type);
            Assert.Equal(node, s.EdgeNodeId);
        });

    [Fact]
    public void Topic_strings_are_exactly_the_specified_namespace()
    {
        Assert.Equal("spBv1.0/site-1/NBIRTH/edge-7", SparkplugTopic.Node("site-1", SparkplugMessageType.NBIRTH, "edge-7"));
        Assert.Equal("spBv1.0/site-1/DDATA/edge-7/r7", SparkplugTopic.Device("site-1", SparkplugMessageType.DDATA, "edge-7", "r7"));
        Assert.Equal("spBv1.0/STATE/scada", SparkplugTopic.State("scada"));
    }

    [Theory]
    [InlineData("spBv1.0/g/DDATA/n", "DDATA needs 5 levels")]
    [InlineData("spBv1.0/g/NDATA/n/d", "NDATA needs 4 levels")]
    [InlineData("spAv1.0/g/NDATA/n", "level 1 is 'spAv1.0'")]
    [InlineData("spBv1.0/g/ndata/n", "level 3 'ndata' is not a Sparkplug message type")]
    [InlineData("spBv1.0/g/STATE/n", "level 3 'STATE' is not a Sparkplug message type")]
    [InlineData("spBv1.0/g/NDATA/+", "id at level 4")]
    [InlineData("spBv1.0/#/NDATA/n", "id at level 2")]
    [InlineData("spBv1.0/g/DDATA/n/", "id at level 5")]
    [InlineData("spBv1.0/STATE/a b", "host id at level 3")]
    [InlineData("spBv1.0/g/NDATA/n/d/e", "6 levels")]
    public void Malformed_topics_are_refused_naming_the_level(string topic, string reason)
    {
        Assert.False(SparkplugTopic.TryParse(topic, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("+")]
    [InlineData("")]
    public void Building_with_a_bad_id_throws(string id) =>
        Assert.Throws<ArgumentException>(() => SparkplugTopic.Device("g", SparkplugMessageType.DDATA, "n", id));
}
