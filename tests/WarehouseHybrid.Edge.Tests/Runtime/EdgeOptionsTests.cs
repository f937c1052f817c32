using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Tests.Common;

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

    [Fact]
    public void The_shipped_appsettings_show_every_model_audit_and_metrics_setting_with_safe_valid_defaults()
    {
        var file = Path.Combine(RepoPaths.Root, "edge", "WarehouseHybrid.Edge", "appsettings.json");
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(file)))
        {
            var edge = doc.RootElement.GetProperty("Edge");
            foreach (var key in new[] { "ModelPackagePath", "TrustedModelKeys", "ExecutionProviders", "InferenceDeadline", "RuntimeAssurance", "ModelRollout", "ModelStoreDirectory", "SiteStaleAfter", "SiteStaleSpeedLimitMps", "Audit" })
            {
                Assert.True(edge.TryGetProperty(key, out _), $"appsettings.json lacks Edge:{key}");
            }

            Assert.True(doc.RootElement.GetProperty("Daemon").TryGetProperty("Metrics", out _), "appsettings.json lacks Daemon:Metrics");
        }

        var config = new ConfigurationBuilder().AddJsonFile(file).Build();
        var edgeOptions = config.GetSection(EdgeOptions.SectionName).Get<EdgeOptions>()!;
        var daemon = config.GetSection(DaemonOptions.SectionName).Get<DaemonOptions>()!;
        Assert.Empty(edgeOptions.Validate());
        Assert.Empty(daemon.Validate());

        // Safe: no model and no trusted key unless a robot's /etc file adds them, metrics off and loopback-only.
        Assert.True(string.IsNullOrEmpty(edgeOptions.ModelPackagePath));
        Assert.Empty(edgeOptions.TrustedModelKeys);
        Assert.False(daemon.Metrics.Enabled);
        Assert.Equal("127.0.0.1", daemon.Metrics.Host);
        Assert.Equal(new EdgeOptions().RuntimeAssurance.AcceptConfidence, edgeOptions.RuntimeAssurance.AcceptConfidence);
        Assert.Equal(new EdgeOptions().Audit.MaxTotalBytes, edgeOptions.Audit.MaxTotalBytes);
    }
}
