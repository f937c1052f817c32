using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Hosting;
using WarehouseHybrid.Cloud.Api;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Api;

/// <summary>
/// API keys from configuration over real HTTP: no credentials is 401 (with WWW-Authenticate), a Read key cannot write
/// (403), an unknown key is 401 even where reads are anonymous, and anonymous reads exist only when configured.
/// </summary>
public sealed class ApiAuthTests(SiloFixture silo) : IClassFixture<SiloFixture>
{
    private const string Submission = "{\"site\": \"auth-site\", \"errands\": [3]}";

    [Fact]
    public async Task Without_credentials_reads_and_writes_are_401_with_a_challenge_and_a_problem_body()
    {
        using var http = silo.Client();
        foreach (var response in new[] { await http.GetAsync("api/robots"), await http.GetAsync("api/tasks/auth-site.1"), await http.PostAsync("api/tasks", Json(Submission)) })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Authorization: Bearer KEY", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_read_key_reads_but_its_writes_are_403_and_a_write_key_does_both()
    {
        await silo.Grains.GetGrain<ISiteGrain>("auth-site").InitializeAsync(TestMaps.Corridor("auth-site", 1));
        using var reader = silo.Client(SiloFixture.ReadKey);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("api/sites/auth-site")).StatusCode);
        var refused = await reader.PostAsync("api/tasks", Json(Submission));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("'reader' has role Read", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var writer = silo.Client(SiloFixture.WriteKey);
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsync("api/tasks", Json(Submission))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await writer.GetAsync("api/sites/auth-site")).StatusCode);

        // The X-Api-Key header works as well as a bearer token.
        using var header = silo.Client();
        header.DefaultRequestHeaders.Add("X-Api-Key", SiloFixture.WriteKey);
        Assert.Equal(HttpStatusCode.Created, (await header.PostAsync("api/tasks", Json(Submission))).StatusCode);
    }

    [Fact]
    public async Task An_unknown_key_is_401()
    {
        using var http = silo.Client("not-a-configured-key-000");
        var response = await http.GetAsync("api/sites");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("not known", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_anonymous_reads_configured_a_get_needs_no_key_but_a_write_does_and_a_bad_key_is_still_refused()
    {
        var builder = TestSilos.Builder("auth-anonymous", TestSilos.Corridor, o =>
        {
            o.Http.Auth.AnonymousRead = true;
            o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "ops", Role = ApiRole.Write, Sha256 = ApiKeyStore.Hash("ops-key-0123456789abc") });
        });
        await using var app = builder.BuildWarehouseCloud();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = app.GetHttpAddress() };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/sites")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("api/tasks", Json(Submission))).StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-key-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/sites")).StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "ops-key-0123456789abc");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/sites")).StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public void Keys_are_compared_by_sha256_and_the_hash_command_prints_the_configured_form()
    {
        Assert.Equal("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ApiKeyStore.Hash("test"));
    }

    [Fact]
    public async Task Bad_auth_settings_stop_the_host_at_start_naming_the_key()
    {
        var builder = TestSilos.Builder("auth-bad", TestSilos.Corridor, o =>
        {
            o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "short", Key = "abc" });
            o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "both", Key = "0123456789abcdefgh", Sha256 = new string('a', 64) });
            o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "hash", Sha256 = "xyz" });
            o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "hash", Key = "0123456789abcdefgh" });
        });
        await using var app = builder.BuildWarehouseCloud();
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.Http.Auth.Keys[0].Key must be at least 16 characters", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.Http.Auth.Keys[1] must set exactly one of Key", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.Http.Auth.Keys[2].Sha256 must be 64 hex digits", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Cloud.Http.Auth.Keys[3].Name 'hash' is used by another key", StringComparison.Ordinal));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
