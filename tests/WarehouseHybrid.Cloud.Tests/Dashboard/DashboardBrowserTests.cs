using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Tests.Observability;
using WarehouseHybrid.Tests.Common;
using Xunit.Abstractions;

namespace WarehouseHybrid.Cloud.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's headless Chromium, driven by playwright-core from node
/// (tests/browser, installed by ./test.sh), against an in-process silo whose simulated robots move on a site.
/// The screenshot is kept in TestResults/browser/ at the repository root.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private static readonly string BrowserDir = Path.Combine(RepoPaths.Root, "tests", "browser");

    [Fact]
    public async Task The_page_loads_and_draws_every_robot_of_a_running_site_with_model_versions_and_drift()
    {
        await using var silo = await WebSilo.StartAsync();
        silo.Fleet.Behaviour = (robot, _) => (robot[^1] - '0') switch
        {
            < 5 => new RobotBehaviour("1.0.0", 1, string.Empty, new ModelHealthReport { LearnedTicks = 100, DriftMaxZ = 0.4, DriftFeature = "range_0" }),
            < 8 => new RobotBehaviour("1.1.0", 2, "low-confidence", new ModelHealthReport { FallbackTicks = 40, DriftMaxZ = 1.8, DriftFeature = "lateral_offset" }),
            _ => new RobotBehaviour("1.1.0", 2, "input-drift", new ModelHealthReport { DriftMaxZ = 4.2, DriftFeature = "heading_error", Drifting = true }),
        };
        const int robots = 120;
        await silo.StartSiteAsync("browser", robots, WebSilo.Warehouse(64, 30), tasks: 400);
        await WaitForBoardAsync(silo, "browser", robots);

        var seen = await RunPageAsync(silo, "browser", robots, "dashboard-120-robots.png");

        Assert.Equal("WarehouseHybrid - site dashboard", seen.GetProperty("title").GetString());
        Assert.Equal(robots, seen.GetProperty("robotCount").GetInt32());
        Assert.Equal(robots, seen.GetProperty("robotsDrawn").GetInt32());
        Assert.True(seen.GetProperty("step").GetInt32() > 0, "the page shows a running site");
        // The grid, shelves, robots, goals and held cells give a canvas far from blank and with many colours.
        var pixels = seen.GetProperty("canvasPixels").GetDouble();
        Assert.True(seen.GetProperty("nonBackgroundPixels").GetDouble() > pixels * 0.3, $"canvas mostly blank: {seen}");
        Assert.True(seen.GetProperty("colours").GetInt32() >= 6, $"too few colours drawn: {seen}");
        Assert.Equal(2, seen.GetProperty("versionRows").GetInt32());
        Assert.True(seen.GetProperty("driftRows").GetInt32() >= 10, $"drift table: {seen}");
        Assert.True(seen.GetProperty("learnedDrawn").GetInt32() > 0);
        Assert.Empty(seen.GetProperty("errors").EnumerateArray());
        Assert.Equal(string.Empty, seen.GetProperty("banner").GetString());
    }

    [Fact]
    public async Task Five_thousand_robots_are_drawn_on_one_canvas()
    {
        await using var silo = await WebSilo.StartAsync(cloud: o => o.Cycle.MinStepInterval = TimeSpan.FromSeconds(1));
        const int robots = 5_000;
        await silo.StartSiteAsync("fleet", robots, WebSilo.Warehouse(200, 100), tasks: 2_000);
        await WaitForBoardAsync(silo, "fleet", robots);

        var seen = await RunPageAsync(silo, "fleet", robots, "dashboard-5000-robots.png");

        Assert.Equal(robots, seen.GetProperty("robotsDrawn").GetInt32());
        Assert.Empty(seen.GetProperty("errors").EnumerateArray());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"5,000 robots: map draw {seen.GetProperty("drawMs").GetDouble():F1} ms (max {seen.GetProperty("drawMsMax").GetDouble():F1} ms over {seen.GetProperty("frames").GetInt32()} frames)"));
    }

    [Fact]
    public async Task The_data_endpoints_refuse_anonymous_readers_and_unknown_sites_while_the_page_itself_is_public()
    {
        await using var silo = await WebSilo.StartAsync();
        await silo.StartSiteAsync("guarded", 4, WebSilo.Warehouse(27, 10));
        using var anonymous = silo.Client(null);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/dashboard/dashboard.js", UriKind.Relative))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await anonymous.GetAsync(new Uri("/dashboard/secrets.txt", UriKind.Relative))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("/api/dashboard/sites/guarded/snapshot", UriKind.Relative))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await silo.Http.GetAsync(new Uri("/api/dashboard/sites/nowhere/snapshot", UriKind.Relative))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await silo.Http.GetAsync(new Uri("/api/dashboard/sites/bad%20id/map", UriKind.Relative))).StatusCode);
        var map = await silo.GetJsonAsync<JsonElement>("/api/dashboard/sites/guarded/map");
        Assert.Equal(4, map.GetProperty("robotIds").GetArrayLength());
        Assert.Equal(27 * 10, Convert.FromBase64String(map.GetProperty("cells").GetString()!).Length);
    }

    private static Task WaitForBoardAsync(WebSilo silo, string site, int robots) =>
        Eventually.WaitForAsync(
            () => silo.Grains.GetGrain<IFleetBoardGrain>(site).GetViewAsync(),
            b => b.Robots.Length == robots && b.Series.Length >= 2,
            $"the board of {site} to hear from all {robots} robots",
            TimeSpan.FromSeconds(60));

    private async Task<JsonElement> RunPageAsync(WebSilo silo, string site, int robots, string screenshotName)
    {
        Assert.True(File.Exists(Path.Combine(BrowserDir, "node_modules", "playwright-core", "package.json")),
            $"playwright-core is not installed: run `npm install --no-audit --no-fund` in {BrowserDir} (./test.sh does)");
        Assert.True(File.Exists("/usr/bin/chromium"), "Debian's chromium is required (./test.sh installs it)");
        var artefacts = Path.Combine(RepoPaths.Root, "TestResults", "browser");
        Directory.CreateDirectory(artefacts);
        var screenshot = Path.Combine(artefacts, screenshotName);
        File.Delete(screenshot);

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = BrowserDir };
        start.ArgumentList.Add(Path.Combine(BrowserDir, "dashboard-check.js"));
        start.ArgumentList.Add(new Uri(silo.BaseAddress, $"/?site={site}#token={WebSilo.ReadKey}").ToString());
        start.ArgumentList.Add(screenshot);
        start.ArgumentList.Add(robots.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("60000");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!await WaitForExitAsync(process, TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the browser check did not finish within 120 s");
        }

        Assert.True(process.ExitCode == 0, $"dashboard-check.js exit {process.ExitCode}: {await stderr}");
        output.WriteLine($"screenshot: {screenshot}");
        output.WriteLine(await stdout);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is missing or empty");
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }

    private static async Task<bool> WaitForExitAsync(Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
