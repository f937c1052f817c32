using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using WarehouseHybrid.Cloud.Api;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;
using Xunit.Abstractions;

namespace WarehouseHybrid.Cloud.Tests.Cluster;

/// <summary>
/// Three real silo processes (the WarehouseHybrid.Cloud executable) on real storage (Redis or PostgreSQL, one abstract
/// suite) with a real Mosquitto broker and simulated discrete robots. Tasks are submitted through the HTTP API of
/// every silo while the silo hosting the site is killed with SIGKILL mid-operation: no acknowledged task is lost or
/// duplicated (checked through the API), the robots' grains reactivate on the survivors, plans keep flowing, and the
/// gap from the kill to the next plan step an affected robot receives is measured and printed.
/// Runs alone (<see cref="SiloProcessCollection"/>): three silo processes starting beside the rest of the suite on two
/// cores could miss the fixture's start timeout.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public abstract class SiloFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Site = "fault";
    private const string ApiKey = "fault-test-write-key-0123";
    private const int Robots = 12;
    private const int TasksBefore = 24;
    private const int TasksDuring = 24;
    private IClusterStorage _storage = null!;
    private MosquittoServer _broker = null!;
    private readonly List<SiloProcess> _silos = new();

    protected abstract Task<IClusterStorage> StartStorageAsync();

    public async Task InitializeAsync()
    {
        Assert.True(MosquittoServer.Available, "mosquitto is not installed (./test.sh installs it)");
        _storage = await StartStorageAsync();
        _broker = await MosquittoServer.StartNewAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await _broker.DisposeAsync();
        await _storage.DisposeAsync();
    }

    [Fact]
    public async Task Killing_the_silo_that_hosts_the_site_loses_and_duplicates_no_task_and_plans_resume_on_the_survivors()
    {
        var (mapFile, roster) = WriteSite();
        var settings = Settings(mapFile, roster);
        for (var i = 0; i < 3; i++)
        {
            _silos.Add(new SiloProcess("s" + i.ToString(CultureInfo.InvariantCulture), settings, ApiKey));
        }

        await Task.WhenAll(_silos.Select(s => s.StartAsync()));
        await using var fleet = new DiscreteFleet(Site, roster, heartbeat: TimeSpan.FromMilliseconds(200));
        await fleet.StartAsync(_broker.Host, _broker.Port);

        // The site runs: plans flow to every robot.
        await Eventually.WaitForAsync(() => Task.FromResult(fleet.Receipts.Select(r => r.Robot).Distinct().Count()), n => n == Robots, "every robot to receive plans", TimeSpan.FromSeconds(30));

        var submitted = new Dictionary<string, string>(StringComparer.Ordinal);
        var random = new Random(7);
        var free = FreeCells();
        for (var i = 0; i < TasksBefore; i++)
        {
            var (key, id) = await SubmitAsync(i, random, free);
            submitted[key] = id;
        }

        // Whom to kill: the silo hosting the site grain; its robots' grains are the "affected" ones.
        var site = await ReadAsync(_silos[0], $"api/sites/{Site}");
        var victim = _silos.Single(s => s.IsSilo(site.GetProperty("silo").GetString()));
        var robotsBefore = await ReadAsync(_silos.First(s => s != victim), $"api/robots?site={Site}");
        var affected = robotsBefore.EnumerateArray().Where(r => victim.IsSilo(r.GetProperty("silo").GetString())).Select(r => r.GetProperty("id").GetString()!).ToList();
        var stepBefore = site.GetProperty("step").GetUInt32();

        // Keep submitting while the kill happens (to every silo; a failed request is retried with the same key elsewhere).
        var during = Task.Run(async () =>
        {
            var r = new Random(11);
            for (var i = TasksBefore; i < TasksBefore + TasksDuring; i++)
            {
                var (key, id) = await SubmitAsync(i, r, free);
                lock (submitted)
                {
                    submitted[key] = id;
                }
            }
        });

        await Eventually.WaitForAsync(() => Task.FromResult(submitted.Count), n => n >= TasksBefore + 4, "submissions to be under way");
        await victim.KillAsync();
        var killedAt = TimeProvider.System.GetUtcNow(); // the process has exited: nothing it publishes from here on

        output.WriteLine($"killed {victim.SiloName} (pid gone, silo port {victim.SiloPort}) at step {stepBefore}+; it hosted the site and {affected.Count} robot grains");

        // Plans resume: the first plan step issued after the kill (by the resumed site) that any robot, and that an
        // affected robot, receives. Plans the victim published just before dying may still arrive: they do not count.
        var killedMs = killedAt.ToUnixTimeMilliseconds();
        PlanReceipt FirstAfter(Func<PlanReceipt, bool> which) =>
            fleet.Receipts.Where(r => r.IssuedUnixMs > killedMs && which(r)).OrderBy(r => r.ReceivedAt).FirstOrDefault();
        var first = await Eventually.WaitForAsync(() => Task.FromResult(FirstAfter(_ => true)), r => r.Robot is not null, "a plan issued after the kill", TimeSpan.FromSeconds(60));
        var firstAffected = affected.Count == 0 ? first : await Eventually.WaitForAsync(
            () => Task.FromResult(FirstAfter(r => affected.Contains(r.Robot))), r => r.Robot is not null, "a plan for an affected robot after the kill", TimeSpan.FromSeconds(60));
        var lastBefore = fleet.Receipts.Where(r => r.IssuedUnixMs <= killedMs).MaxBy(r => r.ReceivedAt);
        Assert.True(first.Step >= lastBefore.Step, $"the resumed site went back from step {lastBefore.Step} to {first.Step}");
        var gap = (first.ReceivedAt - killedAt).TotalMilliseconds;
        var gapAffected = (firstAffected.ReceivedAt - killedAt).TotalMilliseconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gap: kill -> first plan step issued after it {gap:F0} ms (step {first.Step}; last step before the kill {lastBefore.Step}); kill -> an affected robot's next step {gapAffected:F0} ms"));

        await during;
        Assert.Equal(TasksBefore + TasksDuring, submitted.Count);

        // Nothing lost: every acknowledged task finishes. Nothing duplicated: the site counts exactly one task per key,
        // and every key kept its one id.
        var survivor = _silos.First(s => s != victim);
        await Eventually.WaitForAsync(
            async () => (await ReadAsync(survivor, $"api/sites/{Site}")).GetProperty("tasksFinished").GetInt64(),
            n => n >= submitted.Count, "every submitted task to finish", TimeSpan.FromSeconds(90));
        var stats = await ReadAsync(survivor, $"api/sites/{Site}");
        Assert.Equal(submitted.Count, stats.GetProperty("tasksSubmitted").GetInt64());
        Assert.Equal(submitted.Count, stats.GetProperty("tasksFinished").GetInt64());
        Assert.Equal(submitted.Count, submitted.Values.Distinct().Count());
        Assert.False(victim.IsSilo(stats.GetProperty("silo").GetString()));
        Assert.True(stats.GetProperty("resumes").GetInt64() >= 1);
        foreach (var id in submitted.Values)
        {
            Assert.Equal("finished", (await ReadAsync(survivor, $"api/tasks/{id}")).GetProperty("status").GetString());
        }

        // The victim's robot grains live on the survivors now, with fresh telemetry.
        var robotsAfter = await ReadAsync(survivor, $"api/robots?site={Site}");
        foreach (var r in robotsAfter.EnumerateArray())
        {
            Assert.False(victim.IsSilo(r.GetProperty("silo").GetString()), $"robot {r.GetProperty("id")} still shows the dead silo");
            Assert.True(r.GetProperty("lastTelemetryAgeMs").GetDouble() < 5000);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{submitted.Count} tasks submitted, {stats.GetProperty("tasksFinished").GetInt64()} finished, {submitted.Values.Distinct().Count()} distinct ids; site step {stats.GetProperty("step").GetUInt32()}, resumes {stats.GetProperty("resumes").GetInt64()}, checkpoint last {stats.GetProperty("checkpointLastMs").GetDouble():F1} ms"));
    }

    private async Task<(string Key, string Id)> SubmitAsync(int n, Random random, int[] free)
    {
        var key = "fault-task-" + n.ToString(CultureInfo.InvariantCulture);
        var body = JsonSerializer.Serialize(new { site = Site, errands = new[] { free[random.Next(free.Length)], free[random.Next(free.Length)] } });
        var started = TimeProvider.System.GetTimestamp();
        for (var attempt = 0; ; attempt++)
        {
            var silo = _silos[(n + attempt) % _silos.Count];
            try
            {
                using var http = silo.Client();
                var request = new HttpRequestMessage(HttpMethod.Post, "api/tasks") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await http.SendAsync(request);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    return (key, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
                }

                Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError, $"submission {key}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            catch (HttpRequestException)
            {
                // That silo is gone (or going): the same key goes to the next one.
            }
            catch (TaskCanceledException)
            {
            }

            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(60), $"submission {key} found no live silo for 60 s");
        }
    }

    private static async Task<JsonElement> ReadAsync(SiloProcess silo, string path)
    {
        using var http = silo.Client();
        return await http.GetFromJsonAsync<JsonElement>(path);
    }

    private Dictionary<string, string> Settings(string mapFile, IReadOnlyList<RobotSeat> roster)
    {
        var s = new Dictionary<string, string>
        {
            ["Cloud__SiteId"] = Site,
            ["Cloud__MapFile"] = mapFile,
            ["Cloud__Silo__ClusterId"] = "fault-" + Guid.NewGuid().ToString("N")[..8],
            ["Cloud__Cluster__Provider"] = _storage.Provider.ToString(),
            ["Cloud__Cluster__ConnectionString"] = _storage.ConnectionString,
            ["Cloud__Cluster__ProbeTimeout"] = "00:00:01",
            ["Cloud__Cluster__MissedProbesLimit"] = "2",
            ["Cloud__Cluster__SiteKeepAliveInterval"] = "00:00:00.250",
            ["Cloud__Mqtt__Host"] = _broker.Host,
            ["Cloud__Mqtt__Port"] = _broker.Port.ToString(CultureInfo.InvariantCulture),
            ["Cloud__Cycle__PlanBudget"] = "00:00:00.050",
            ["Cloud__Cycle__ConfirmTimeout"] = "00:00:02",
            ["Cloud__Tasks__HistoryWriteInterval"] = "00:00:00.200",
            ["Cloud__Http__Auth__Keys__0__Name"] = "fault-test",
            ["Cloud__Http__Auth__Keys__0__Role"] = "Write",
            ["Cloud__Http__Auth__Keys__0__Sha256"] = ApiKeyStore.Hash(ApiKey),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__WarehouseHybrid"] = "Information",
            ["Logging__LogLevel__Orleans"] = "Error",
        };
        for (var i = 0; i < roster.Count; i++)
        {
            s[$"Cloud__Robots__{i}__Id"] = roster[i].RobotId;
            s[$"Cloud__Robots__{i}__Cell"] = roster[i].StartCell.ToString(CultureInfo.InvariantCulture);
            s[$"Cloud__Robots__{i}__Heading"] = ((int)roster[i].StartHeading).ToString(CultureInfo.InvariantCulture);
        }

        return s;
    }

    // 16x10 with two rows of shelves; robots start along the top row.
    private static readonly string[] MapRows =
    [
        "................",
        "................",
        "..@@@@..@@@@....",
        "................",
        "................",
        "..@@@@..@@@@....",
        "................",
        "................",
        "................",
        "................",
    ];

    private static int[] FreeCells() =>
        Enumerable.Range(0, 16 * 10).Where(c => MapRows[c / 16][c % 16] == '.').ToArray();

    private (string MapFile, IReadOnlyList<RobotSeat> Roster) WriteSite()
    {
        var dir = Directory.CreateTempSubdirectory("wh-fault-map-").FullName;
        var file = Path.Combine(dir, "fault.map");
        File.WriteAllText(file, $"type octile\nheight {MapRows.Length}\nwidth {MapRows[0].Length}\nmap\n{string.Join('\n', MapRows)}\n");
        var roster = Enumerable.Range(0, Robots).Select(i => new RobotSeat($"bot-{i:D2}", i, Heading.South)).ToArray();
        return (file, roster);
    }
}

/// <summary>The fault suite on a real redis-server.</summary>
public sealed class RedisSiloFaultTests(ITestOutputHelper output) : SiloFaultTests(output)
{
    protected override Task<IClusterStorage> StartStorageAsync() => RedisClusterStorage.StartAsync();
}

/// <summary>The fault suite on a real PostgreSQL with the project's schema.</summary>
public sealed class PostgresSiloFaultTests(ITestOutputHelper output) : SiloFaultTests(output)
{
    protected override Task<IClusterStorage> StartStorageAsync() => PostgresClusterStorage.StartAsync();
}

/// <summary>Tests that start silo processes run in this collection, one at a time and not beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SiloProcessCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "silo processes";
}
