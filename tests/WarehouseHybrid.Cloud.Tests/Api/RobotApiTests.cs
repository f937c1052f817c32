using System.Net;
using System.Text.Json;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Tests.Api;

/// <summary><c>GET /api/robots</c>: every robot of the roster with its live state from its grain.</summary>
public sealed class RobotApiTests(SiloFixture silo) : IClassFixture<SiloFixture>
{
    [Fact]
    public async Task Robots_show_pose_mode_plan_progress_model_and_telemetry_age_and_a_silent_robot_shows_its_start()
    {
        const string site = "api-robots";
        await silo.Grains.GetGrain<ISiteGrain>(site).InitializeAsync(TestMaps.Corridor(site, 2));
        await silo.Grains.GetGrain<IRobotGrain>($"{site}-r0").ReportTelemetryAsync(new TelemetryReport
        {
            RobotId = $"{site}-r0",
            SiteId = site,
            Seq = 1,
            Cell = 0,
            Heading = Heading.East,
            XMetres = 0.5,
            YMetres = 0.5,
            State = 2,
            DecisionMode = 1,
            ModelVersion = "policy-7",
            BatteryFraction = 0.5f,
        });

        using var http = silo.Client(SiloFixture.ReadKey);
        var response = await http.GetAsync($"api/robots?site={site}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var robots = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, robots.GetArrayLength());
        var r0 = robots.EnumerateArray().Single(r => r.GetProperty("id").GetString() == $"{site}-r0");
        Assert.Equal("executing", r0.GetProperty("mode").GetString());
        Assert.Equal("learned", r0.GetProperty("decision").GetString());
        Assert.Equal("policy-7", r0.GetProperty("modelVersion").GetString());
        Assert.Equal("east", r0.GetProperty("pose").GetProperty("heading").GetString());
        Assert.Equal(0.5, r0.GetProperty("pose").GetProperty("xM").GetDouble());
        Assert.True(r0.GetProperty("lastTelemetryAgeMs").GetDouble() >= 0);
        Assert.False(string.IsNullOrEmpty(r0.GetProperty("silo").GetString()));
        Assert.Equal(0, r0.GetProperty("plan").GetProperty("confirmedStep").GetInt64());
        Assert.Equal(0, r0.GetProperty("plan").GetProperty("reportedStep").GetInt32());

        var r1 = robots.EnumerateArray().Single(r => r.GetProperty("id").GetString() == $"{site}-r1");
        Assert.Equal(JsonValueKind.Null, r1.GetProperty("lastTelemetryAgeMs").ValueKind);
        Assert.Equal("unknown", r1.GetProperty("mode").GetString());
        Assert.Equal(11, r1.GetProperty("pose").GetProperty("cell").GetInt32());
        Assert.Equal(1, r1.GetProperty("pose").GetProperty("x").GetInt32());
        Assert.Equal(1, r1.GetProperty("pose").GetProperty("y").GetInt32());
    }

    [Fact]
    public async Task An_unknown_site_is_404_and_a_bad_site_id_400()
    {
        using var http = silo.Client(SiloFixture.ReadKey);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/robots?site=no-robots-here")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("api/robots?site=a%2Fb")).StatusCode);
    }
}
