using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Tests.Runtime;

public class EdgeOptionsTests
{
    private static EdgeOptions Valid() => new() { RobotId = "r1", SiteId = "s1", MapWidth = 10, MapHeight = 10 };

    [Fact]
    public void Valid_options_have_no_errors() => Assert.Empty(Valid().Validate());

    [Fact]
    public void Each_bad_option_is_named_with_its_value()
    {
        var o = Valid();
        o.RobotId = "a/b";
        o.StartCell = 100;
        o.StartHeading = WarehouseHybrid.Domain.Grid.Heading.East;
        o.ControlRateHz = 500;
        o.LinearAccel = 3;

        var errors = o.Validate();

        Assert.Contains(errors, e => e.StartsWith("Edge:RobotId: 'a/b'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:StartCell: 100 is outside the 10x10 map", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ControlRateHz", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:LinearAccel: 3", StringComparison.Ordinal));
    }

    [Fact]
    public void Runtime_refuses_invalid_options_before_touching_the_serial_line()
    {
        var o = Valid();
        o.SiteId = string.Empty;
        using var line = InMemorySerialPair.Create();
        var ex = Assert.Throws<ArgumentException>(() => new EdgeRuntime(o, line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance));
        Assert.Contains("Edge:SiteId", ex.Message, StringComparison.Ordinal);
    }
}
