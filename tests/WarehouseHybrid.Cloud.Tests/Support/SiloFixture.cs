using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>
/// One in-process Orleans silo built with <see cref="CloudHost.AddWarehouseCloud"/> (free loopback
/// ports, no broker) whose commands go to a <see cref="RecordingPublisher"/>. Each site's planner is a
/// <see cref="CorridorPlanner"/>, gated when the map name starts with "gated".
/// </summary>
public sealed class SiloFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, CorridorPlanner> _planners = new();

    internal RecordingPublisher Publisher { get; } = new();

    internal IHost Host { get; private set; } = null!;

    internal IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    internal CorridorPlanner PlannerOf(string mapName) => _planners[mapName];

    internal static readonly TimeSpan ConfirmTimeout = TimeSpan.FromMilliseconds(300);

    /// <summary>A key with the Read role (configured as its SHA-256).</summary>
    internal const string ReadKey = "reader-key-0123456789";

    /// <summary>A key with the Write role (configured in plain text).</summary>
    internal const string WriteKey = "writer-key-0123456789";

    /// <summary>An HTTP client for the silo's endpoint, with <paramref name="apiKey"/> as bearer token when given.</summary>
    internal HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = Host.GetHttpAddress(), Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public async Task InitializeAsync()
    {
        var builder = TestSilos.Builder(
            "test",
            (map, starts) => _planners.GetOrAdd(map.Name, _ => new CorridorPlanner(map, starts.Count, gated: map.Name.StartsWith("gated", StringComparison.Ordinal))),
            o =>
            {
                o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "reader", Role = ApiRole.Read, Sha256 = WarehouseHybrid.Cloud.Api.ApiKeyStore.Hash(ReadKey) });
                o.Http.Auth.Keys.Add(new ApiKeyOptions { Name = "writer", Role = ApiRole.Write, Key = WriteKey });
                o.Cycle.ConfirmTimeout = ConfirmTimeout;
                o.Cycle.PlanBudget = TimeSpan.FromMilliseconds(50);
            });
        builder.Services.AddSingleton<IFleetCommandPublisher>(Publisher);
        Host = builder.BuildWarehouseCloud();
        await Host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
    }

    /// <summary>Plays the robots of a site through their grains (see <see cref="GrainRobots.DriveAsync"/>).</summary>
    internal Task DriveAsync(string site, string leader, uint firstStep, int maxSteps, Func<Task<bool>> done) =>
        new GrainRobots(Grains, Publisher).DriveAsync(site, leader, firstStep, maxSteps, done);

    /// <summary>Plays a robot: reports that it completed <paramref name="step"/> at a pose.</summary>
    internal Task ReportAsync(string site, string robot, uint step, int cell, Heading heading, ulong seq) =>
        Grains.GetGrain<IRobotGrain>(robot).ReportTelemetryAsync(new TelemetryReport
        {
            RobotId = robot,
            SiteId = site,
            Seq = seq,
            LastCompletedStep = step,
            Cell = cell,
            Heading = heading,
        });
}
