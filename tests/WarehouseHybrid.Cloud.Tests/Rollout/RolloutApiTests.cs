using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Cloud.Tests.Observability;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

/// <summary>
/// The rollout API end to end on an in-process silo: packages uploaded over HTTP, canary robots chosen, packages sent
/// to them as ModelDeployment messages, their telemetry compared with the rest, and the automatic decision with its audit trail.
/// </summary>
public sealed class RolloutApiTests : IDisposable
{
    private const string Site = "fleet";
    private const int Robots = 20;
    private static readonly ModelHealthReport Healthy = new() { LearnedTicks = 1_000, FallbackTicks = 10, InferenceP50Micros = 12, InferenceP99Micros = 30, DriftMaxZ = 0.5, DriftFeature = "range_3" };
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _key.Dispose();

    private Task<WebSilo> StartAsync() => WebSilo.StartAsync(b => b.Services.Configure<RolloutOptions>(o =>
    {
        o.TrustedKeys.Add(_key.ExportSubjectPublicKeyInfoPem());
        o.EvaluationInterval = TimeSpan.FromMilliseconds(100);
        o.Rules.MinSamples = 60;
        o.Rules.ObservationWindow = TimeSpan.FromSeconds(2);
        o.Rules.AdoptionTimeout = TimeSpan.FromSeconds(20);
        o.Rules.MaxDuration = TimeSpan.FromMinutes(2);
    }));

    private static async Task<JsonElement> StartRolloutAsync(HttpClient writer, string version, double percentage)
    {
        var response = await writer.PostAsJsonAsync("/api/rollouts", new { version, percentage, siteId = Site });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/rollouts: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<JsonElement> WaitForPhaseAsync(WebSilo silo, string id, string phase) =>
        Eventually.WaitForAsync(
            () => silo.GetJsonAsync<JsonElement>($"/api/rollouts/{id}"),
            r => r.GetProperty("phase").GetString() == phase,
            $"rollout {id} to reach {phase}",
            TimeSpan.FromSeconds(60));

    [Fact]
    public async Task A_canary_that_falls_back_more_than_the_rest_is_rolled_back_automatically_with_an_audit_trail()
    {
        await using var silo = await StartAsync();
        using var writer = silo.Client(WebSilo.WriteKey);
        foreach (var robot in Enumerable.Range(0, Robots).Select(i => $"{Site}-r{i:D4}"))
        {
            silo.Fleet.Install(robot, "1.0.0");
        }

        // The new model makes robots fall back to the rule policy; the old one drives.
        silo.Fleet.Behaviour = (_, version) => version == "2.0.0"
            ? new RobotBehaviour(version, 2, "low-confidence", null)
            : new RobotBehaviour(version, 1, string.Empty, null);
        await silo.StartSiteAsync(Site, Robots, WebSilo.Warehouse(36, 18));
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsync("/api/models", TestPackages.Form(TestPackages.Signed(_key, "2.0.0")))).StatusCode);

        var started = await StartRolloutAsync(writer, "2.0.0", 25);
        var id = started.GetProperty("id").GetString()!;
        var canary = started.GetProperty("canaryRobots").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
        Assert.Equal(CanarySelector.Split(started.GetProperty("canaryRobots").EnumerateArray().Concat(started.GetProperty("baselineRobots").EnumerateArray()).Select(e => e.GetString()!).ToArray(), 25).Canary.ToHashSet(), canary);
        Assert.InRange(canary.Count, 1, Robots - 1);

        var done = await WaitForPhaseAsync(silo, id, "RolledBack");
        var audit = done.GetProperty("audit").EnumerateArray().ToList();
        Assert.Equal(["started", "deployed", "rolled-back", "deployed"], audit.Select(a => a.GetProperty("action").GetString()));
        Assert.Equal("operator", audit[0].GetProperty("actor").GetString());
        Assert.Equal(RolloutGrain.PolicyActor, audit[2].GetProperty("actor").GetString());
        Assert.Contains("fallback_rate", audit[2].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(done.GetProperty("canary").GetProperty("samples").GetInt64() >= 60);

        // Canaries got the package, then (no earlier package in the registry) a revert; the rest got nothing.
        var sent = silo.Fleet.Deployments.Select(d => d.Deployment).ToList();
        Assert.All(sent, d => Assert.Contains(d.RobotId, canary));
        Assert.Equal(canary.Count, sent.Count(d => !d.Revert && d.Version == "2.0.0" && d.Onnx.Length == 9_000 && d.Signature.Length == 64));
        Assert.Equal(canary.Count, sent.Count(d => d.Revert));
        Assert.All(canary, r => Assert.Equal(string.Empty, silo.Fleet.VersionOf(r)));
    }

    [Fact]
    public async Task A_canary_as_good_as_the_rest_is_promoted_to_every_robot()
    {
        await using var silo = await StartAsync();
        using var writer = silo.Client(WebSilo.WriteKey);
        silo.Fleet.Behaviour = (_, version) => new RobotBehaviour(version, 1, string.Empty, Healthy);
        await silo.StartSiteAsync(Site, Robots, WebSilo.Warehouse(36, 18));
        await writer.PostAsync("/api/models", TestPackages.Form(TestPackages.Signed(_key, "3.1.0")));

        var id = (await StartRolloutAsync(writer, "3.1.0", 30)).GetProperty("id").GetString()!;
        var done = await WaitForPhaseAsync(silo, id, "Promoted");
        Assert.Contains("promoted", done.GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()));
        Assert.Equal(Robots, done.GetProperty("deploymentsSent").GetInt64());
        Assert.Equal(Robots, silo.Fleet.Deployments.Select(d => d.Deployment.RobotId).Distinct().Count());

        // The site is free for the next rollout, and the list shows this one.
        var all = await silo.GetJsonAsync<JsonElement>("/api/rollouts");
        Assert.Contains(all.EnumerateArray(), r => r.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task Uploads_and_starts_are_checked_and_refused_with_the_reason()
    {
        await using var silo = await StartAsync();
        using var writer = silo.Client(WebSilo.WriteKey);
        using var reader = silo.Client(WebSilo.ReadKey);
        using var anonymous = silo.Client(null);
        await silo.StartSiteAsync(Site, 4, WebSilo.Warehouse(27, 10));
        var package = TestPackages.Signed(_key, "1.5.0");

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/models", TestPackages.Form(package))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/api/models", TestPackages.Form(package))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsync("/api/models", TestPackages.Form(package))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await writer.PostAsync("/api/models", TestPackages.Form(package))).StatusCode);
        var other = await writer.PostAsync("/api/models", TestPackages.Form(TestPackages.Signed(_key, "1.5.0")));
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Contains("versions are immutable", await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var refused = await writer.PostAsync("/api/models", TestPackages.Form(TestPackages.Signed(stranger, "1.6.0")));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("does not verify manifest.pb", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var partial = new MultipartFormDataContent { { new ByteArrayContent(package.Manifest), "manifest", "manifest.pb" } };
        Assert.Contains("missing file field(s): onnx, signature", await (await writer.PostAsync("/api/models", partial)).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var models = await reader.GetFromJsonAsync<JsonElement>("/api/models");
        Assert.Equal("operator", models.EnumerateArray().Single().GetProperty("uploadedBy").GetString());

        async Task<(HttpStatusCode, string)> Start(object body)
        {
            var r = await writer.PostAsJsonAsync("/api/rollouts", body);
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }

        var (status, text) = await Start(new { version = "9.9.9", percentage = 10, siteId = Site });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no model package version '9.9.9'", text, StringComparison.Ordinal);
        (status, text) = await Start(new { version = "1.5.0", percentage = 100, siteId = Site });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("percentage must be more than 0 and less than 100", text, StringComparison.Ordinal);
        (status, text) = await Start(new { version = "1.5.0", percentage = 50, siteId = "nowhere" });
        Assert.Equal(HttpStatusCode.NotFound, status);
        (status, _) = await Start(new { version = "1.5.0", percentage = 50, siteId = Site });
        Assert.Equal(HttpStatusCode.Created, status);
        (status, text) = await Start(new { version = "1.5.0", percentage = 50, siteId = Site });
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("already has rollout", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/rollouts", new { version = "1.5.0", percentage = 50 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/api/rollouts/ro-nope")).StatusCode);
    }

    [Fact]
    public async Task An_operator_can_roll_back_a_running_canary_and_is_named_in_the_audit_trail()
    {
        await using var silo = await WebSilo.StartAsync(b => b.Services.Configure<RolloutOptions>(o =>
        {
            o.TrustedKeys.Add(_key.ExportSubjectPublicKeyInfoPem());
            o.Rules.ObservationWindow = TimeSpan.FromMinutes(30);
            o.Rules.MaxDuration = TimeSpan.FromHours(1);
        }));
        using var writer = silo.Client(WebSilo.WriteKey);
        await silo.StartSiteAsync(Site, 6, WebSilo.Warehouse(27, 10));
        await writer.PostAsync("/api/models", TestPackages.Form(TestPackages.Signed(_key, "4.0.0")));
        var id = (await StartRolloutAsync(writer, "4.0.0", 50)).GetProperty("id").GetString()!;

        var response = await writer.PostAsJsonAsync($"/api/rollouts/{id}/rollback", new { reason = "pallets misdetected in aisle 4" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var state = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("RolledBack", state.GetProperty("phase").GetString());
        var entry = state.GetProperty("audit").EnumerateArray().Single(a => a.GetProperty("action").GetString() == "rolled-back");
        Assert.Equal("operator", entry.GetProperty("actor").GetString());
        Assert.Equal("pallets misdetected in aisle 4", entry.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await writer.PostAsJsonAsync($"/api/rollouts/{id}/rollback", new { reason = "again" })).StatusCode);
    }
}
