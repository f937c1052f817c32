using System.Net;
using System.Net.Http.Json;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;

namespace WarehouseHybrid.Cloud.Tests.Api;

/// <summary>The silo serves HTTP from the same process, on loopback, on the port the OS picked for port 0.</summary>
public sealed class HttpHostTests(SiloFixture silo) : IClassFixture<SiloFixture>
{
    [Fact]
    public async Task Port_zero_binds_a_loopback_port_and_the_bound_url_is_exposed()
    {
        var address = silo.Host.GetHttpAddress();
        Assert.NotNull(address);
        Assert.Equal("127.0.0.1", address!.Host);
        Assert.NotEqual(0, address.Port);

        await silo.Grains.GetGrain<ISiteGrain>("http-host").InitializeAsync(TestMaps.Corridor("http-host", 2));
        using var http = silo.Client(SiloFixture.ReadKey);
        var stats = await http.GetFromJsonAsync<SiteStats>("api/sites/http-host");
        Assert.Equal(2, stats!.RobotCount);
        Assert.True(stats.Initialized);
    }

    [Fact]
    public async Task An_unknown_site_is_404_and_a_malformed_site_id_is_400_with_problem_details()
    {
        using var http = silo.Client(SiloFixture.ReadKey);
        var missing = await http.GetAsync("api/sites/nowhere");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("nowhere", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var bad = await http.GetAsync("api/sites/" + new string('x', 65));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
