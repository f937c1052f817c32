using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Observability;

/// <summary>/metrics of a silo whose simulated robots drive a site: scraped over HTTP and parsed as Prometheus text.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Scraped_metrics_parse_and_count_steps_plan_latency_telemetry_and_decisions_by_model_version()
    {
        await using var silo = await WebSilo.StartAsync();
        silo.Fleet.Behaviour = (robot, _) => robot.EndsWith('0')
            ? new RobotBehaviour("2.0.0", 2, "low-confidence", null)
            : new RobotBehaviour("1.0.0", 1, string.Empty, null);
        await silo.StartSiteAsync("metrics", 30, WebSilo.Warehouse(36, 18));
        var site = silo.Grains.GetGrain<ISiteGrain>("metrics");
        await Eventually.WaitForAsync(site.GetStatsAsync, s => s.StepsDispatched >= 5, "five planned steps");

        var response = await silo.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"/metrics answered {(int)response.StatusCode}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var (samples, types) = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("counter", types["wh_site_steps_total"]);
        Assert.Equal("histogram", types["wh_site_plan_duration_milliseconds"]);
        var steps = samples.Single(s => s.Name == "wh_site_steps_total" && s.Labels.GetValueOrDefault("site") == "metrics");
        Assert.True(steps.Value >= 5, $"steps {steps.Value}");
        var count = samples.Single(s => s.Name == "wh_site_plan_duration_milliseconds_count" && s.Labels.GetValueOrDefault("site") == "metrics");
        Assert.True(count.Value >= steps.Value - 1, $"plan latency observations {count.Value} for {steps.Value} steps");
        var inf = samples.Single(s => s.Name == "wh_site_plan_duration_milliseconds_bucket" && s.Labels.GetValueOrDefault("site") == "metrics" && s.Labels["le"] == "+Inf");
        Assert.Equal(count.Value, inf.Value);

        var telemetry = samples.Where(s => s.Name == "wh_robot_telemetry_total" && s.Labels.GetValueOrDefault("site") == "metrics").ToList();
        Assert.Contains(telemetry, s => s.Labels["model_version"] == "1.0.0" && s.Value > 0);
        Assert.Contains(telemetry, s => s.Labels["model_version"] == "2.0.0" && s.Value > 0);
        Assert.Contains(samples, s => s.Name == "wh_robot_decisions_total" && s.Labels["model_version"] == "2.0.0" && s.Labels["mode"] == "rule" && s.Labels["fallback_reason"] == "low-confidence");
        Assert.DoesNotContain(samples, s => s.Labels.ContainsKey("robot"));
    }
}
