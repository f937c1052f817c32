using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Metrics;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Tests.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Models;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Metrics;

/// <summary>Tests that listen to the process-wide meter name run alone, so no other test's runtime shows up in a scrape.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeterListeningCollection
{
    public const string Name = "meter listening";
}

/// <summary>The runtime's instruments through OpenTelemetry's Prometheus exporter on a loopback port, scraped over HTTP.</summary>
[Collection(MeterListeningCollection.Name)]
public sealed partial class MetricsEndpointTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_scrape_returns_tick_and_inference_histograms_per_reason_counters_serial_errors_drift_and_the_model_info()
    {
        var metrics = new MetricsOptions { Enabled = true, Port = FreePort.Next() };
        using var endpoint = new PrometheusEndpoint(metrics);
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        var options = new EdgeOptions
        {
            RobotId = "robot-m", SiteId = "site-m", CloudLinkEnabled = false, MapWidth = 10, MapHeight = 10,
            StartCell = 11, StartHeading = WarehouseHybrid.Domain.Grid.Heading.East,
            ModelPackagePath = ShippedModel.PackagePath,
            TrustedModelKeys = [ShippedModel.PublicKeyPath],
            InferenceDeadline = TimeSpan.FromMilliseconds(500),
        };
        await using var runtime = new EdgeRuntime(options, line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        board.Start();
        runtime.PlanInbox.Post(Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East)));
        await Eventually.UntilAsync(() => runtime.GetStatus().Loop.Ticks > 50, Timeout, "50 control ticks");

        using var http = new HttpClient { Timeout = Timeout };
        var text = await http.GetStringAsync(endpoint.Url);
        output.WriteLine(text);
        var samples = Parse(text);

        Assert.Contains(samples, s => s.Name == "edge_control_tick_work_seconds_bucket" && s.Labels.Contains("le=\"0.001\"", StringComparison.Ordinal));
        Assert.True(Value(samples, "edge_control_tick_work_seconds_count") > 50);
        Assert.True(Value(samples, "edge_inference_duration_seconds_count") > 0);
        Assert.True(Value(samples, "edge_control_ticks_total") > 50);
        Assert.Contains(samples, s => s.Name == "edge_decision_ticks_total" && s.Labels.Contains("reason=\"model-unavailable\"", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Name == "edge_decision_fallbacks_total" && s.Labels.Contains("reason=\"sensor-stale\"", StringComparison.Ordinal));
        Assert.DoesNotContain(samples, s => s.Name == "edge_decision_fallbacks_total" && s.Labels.Contains("reason=\"learned-policy\"", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Name == "edge_serial_errors_total" && s.Labels.Contains("kind=\"bad_crc\"", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Name == "edge_decision_mode" && s.Labels.Contains("mode=\"ShieldStop\"", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Name == "edge_drift_z" && s.Labels.Contains("feature=\"range_0\"", StringComparison.Ordinal));
        var info = Assert.Single(samples, s => s.Name == "edge_model_info");
        Assert.Contains($"version=\"{ShippedModel.Version}\"", info.Labels, StringComparison.Ordinal);
        Assert.Contains("provider=\"Cpu\"", info.Labels, StringComparison.Ordinal);
        Assert.Contains("robot=\"robot-m\"", info.Labels, StringComparison.Ordinal);
        Assert.Equal(1, info.Value);
        Assert.Contains("# TYPE edge_control_tick_work_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE edge_control_ticks_total counter", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Psi_per_feature_is_exported_for_a_model_whose_manifest_has_training_histograms()
    {
        using var package = TrainedModelFixture.Instance.WritePackage();
        var metrics = new MetricsOptions { Enabled = true, Port = FreePort.Next() };
        using var endpoint = new PrometheusEndpoint(metrics);
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        var options = new EdgeOptions
        {
            RobotId = "robot-p", SiteId = "site-m", CloudLinkEnabled = false, MapWidth = 10, MapHeight = 10, ControlRateHz = 100,
            StartCell = 11, StartHeading = WarehouseHybrid.Domain.Grid.Heading.East,
            ModelPackagePath = package.Path, TrustedModelKeys = [TrainedModelFixture.Instance.PublicKeyPem],
            InferenceDeadline = TimeSpan.FromMilliseconds(500),
            RuntimeAssurance = new() { PsiWindow = 40 },
        };
        await using var runtime = new EdgeRuntime(options, line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        board.Start();
        await Eventually.UntilAsync(() => runtime.GetStatus().Loop.Ticks > 80, Timeout, "80 control ticks (two PSI windows)");

        using var http = new HttpClient { Timeout = Timeout };
        var samples = Parse(await http.GetStringAsync(endpoint.Url));
        var psi = samples.Where(s => s.Name == "edge_drift_psi").ToList();
        Assert.Equal(25, psi.Count);
        Assert.All(psi, s => Assert.True(s.Value >= 0 && double.IsFinite(s.Value), $"{s.Labels} {s.Value}"));
    }

    [Fact]
    public void A_non_loopback_host_or_bad_port_is_refused_naming_the_option()
    {
        var errors = new MetricsOptions { Host = "0.0.0.0", Port = 70000, Path = "metrics" }.Validate();
        Assert.Contains(errors, e => e.StartsWith("Daemon:Metrics:Host: '0.0.0.0' is not a loopback address", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Daemon:Metrics:Port", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Daemon:Metrics:Path", StringComparison.Ordinal));
        Assert.Empty(new MetricsOptions { Host = "::1" }.Validate());
        Assert.Empty(new MetricsOptions { Host = "localhost" }.Validate());
        Assert.Throws<ArgumentException>(() => new PrometheusEndpoint(new MetricsOptions { Host = "192.168.1.5" }));
    }

    [Fact]
    public void A_warmed_up_tick_with_audit_sampling_and_metrics_being_collected_allocates_nothing()
    {
        using var dir = new TempDirectory();
        using var endpoint = new PrometheusEndpoint(new MetricsOptions { Enabled = true, Port = FreePort.Next() });
        using var metrics = new EdgeMetrics();
        using var audit = new AuditLog(dir.Path, new AuditOptions(), "r1", TimeProvider.System, NullLogger.Instance);
        audit.Start();
        using var rig = new LoopRig(extras: new ControlLoopExtras { Audit = audit, Metrics = metrics, DecisionAuditEveryTicks = 10 });
        rig.Loop.Post(Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East)));
        rig.SimTicks(40);

        var allocated = rig.AllocatedOverTicks(200);
        Assert.True(allocated == 0, $"200 ticks with 20 sampled audit decisions allocated {allocated} bytes");
        Assert.True(audit.Flush(Timeout));
        Assert.True(audit.Counters.Written >= 20);
    }

    private static double Value(List<Sample> samples, string name) => samples.Where(s => s.Name == name).Sum(s => s.Value);

    /// <summary>Parses the Prometheus text exposition format; every non-comment line must be a sample.</summary>
    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: '{line}'");
            var value = m.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(m.Groups["name"].Value, m.Groups["labels"].Value, value));
        }

        return samples;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[-+0-9.eE]+|[+-]Inf|NaN)( [0-9]+)?$")]
    private static partial Regex SampleLine();

    private sealed record Sample(string Name, string Labels, double Value);
}
