using System.Globalization;
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
    public void The_default_safety_margin_covers_the_body_radius_plus_clearance()
    {
        var o = Valid();
        Assert.Equal(0.3, o.BodyRadiusMetres);
        Assert.True(o.SafetyMarginMetres > o.BodyRadiusMetres, "the range sensor is at the centre: the margin must reach past the body");
        Assert.True(o.SafetyMarginMetres >= o.MinimumSafetyMarginMetres);
        Assert.True(o.RobotHalfWidthMetres >= o.BodyRadiusMetres);
    }

    [Theory]
    [InlineData(0.25, 1.0, 50, false)] // the old default: inside the 0.3 m body
    [InlineData(0.33, 1.0, 50, false)] // past the body, but 1 m/s covers 0.04 m in the 2 periods before the brake
    [InlineData(0.34, 1.0, 50, true)]
    [InlineData(0.45, 3.0, 50, true)] // the HIL demo's fleet: 0.3 + 3 x 2 / 50
    [InlineData(0.45, 4.0, 50, false)]
    [InlineData(0.45, 4.0, 100, true)]
    public void A_safety_margin_below_the_body_radius_plus_the_brake_latency_travel_is_refused_by_name(double margin, double topSpeed, int rateHz, bool valid)
    {
        var o = Valid();
        o.SafetyMarginMetres = margin;
        o.MaxLinearMps = topSpeed;
        o.ControlRateHz = rateHz;

        var errors = o.Validate();

        Assert.Equal(valid, !errors.Any(e => e.StartsWith($"Edge:SafetyMarginMetres: {margin.ToString(CultureInfo.InvariantCulture)} m is below the safe minimum", StringComparison.Ordinal)));
        Assert.Equal(valid, errors.Count == 0);
    }

    [Fact]
    public void A_bigger_body_raises_the_minimum_margin_and_the_path_corridor_must_cover_it()
    {
        var o = Valid();
        o.BodyRadiusMetres = 0.5;

        var errors = o.Validate();

        Assert.Contains(errors, e => e.StartsWith("Edge:SafetyMarginMetres: 0.45 m is below the safe minimum 0.54 m", StringComparison.Ordinal) && e.Contains("Edge:BodyRadiusMetres 0.5 m", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:RobotHalfWidthMetres: 0.35 m is narrower than the body", StringComparison.Ordinal));
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
