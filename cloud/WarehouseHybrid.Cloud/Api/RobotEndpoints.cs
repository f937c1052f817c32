using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Contracts.Topics;
using ProtoDecisionMode = WarehouseHybrid.Contracts.Fleet.DecisionMode;
using ProtoRobotState = WarehouseHybrid.Contracts.Fleet.RobotState;

namespace WarehouseHybrid.Cloud.Api;

/// <summary><c>GET /api/robots[?site=ID]</c>: the live state of every robot of one site, or of every site.</summary>
internal static class RobotEndpoints
{
    public static void MapRobotEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/robots", ListAsync).RequireAuthorization(ApiPolicies.Read);
    }

    private static async Task<IResult> ListAsync(string? site, IGrainFactory grains, TimeProvider time)
    {
        IReadOnlyList<string> sites;
        if (site is not null)
        {
            if (!FleetTopics.IsValidId(site))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["site"] = [$"'{site}' is not a site id (1-64 of [A-Za-z0-9_-])"] });
            }

            sites = [site];
        }
        else
        {
            sites = await grains.GetGrain<ISiteDirectoryGrain>(SiteDirectoryGrain.Key).ListAsync();
        }

        var views = new List<RobotView>();
        foreach (var s in sites)
        {
            var siteGrain = grains.GetGrain<ISiteGrain>(s);
            var stats = await siteGrain.GetStatsAsync();
            if (!stats.Initialized)
            {
                if (site is not null)
                {
                    return Results.Problem(detail: $"site '{s}' is not defined in this cluster", statusCode: StatusCodes.Status404NotFound, title: "Unknown site");
                }

                continue;
            }

            var roster = await siteGrain.GetRobotsAsync();
            var statuses = await Task.WhenAll(roster.Select(r => grains.GetGrain<IRobotGrain>(r.RobotId).GetStatusAsync()));
            var now = time.GetUtcNow();
            for (var i = 0; i < roster.Count; i++)
            {
                views.Add(RobotView.Of(s, stats, roster[i], statuses[i], now));
            }
        }

        return Results.Ok(views);
    }
}

/// <summary>A robot as <c>GET /api/robots</c> shows it.</summary>
internal sealed record RobotView
{
    public string Id { get; init; } = string.Empty;

    public string Site { get; init; } = string.Empty;

    /// <summary>The silo its grain runs on, or null when the robot was never heard from.</summary>
    public string? Silo { get; init; }

    public PoseView Pose { get; init; } = new();

    /// <summary>The robot's state (idle, executing, waiting-grant, stopped, estop, fault, unknown).</summary>
    public string Mode { get; init; } = "unknown";

    /// <summary>Which policy drives (learned, rule, shield-stop, escalated, unknown).</summary>
    public string Decision { get; init; } = "unknown";

    public PlanView Plan { get; init; } = new();

    public RobotTaskView? Task { get; init; }

    public string? ModelVersion { get; init; }

    public float? Battery { get; init; }

    /// <summary>Milliseconds since the cloud last got telemetry from it (null: never).</summary>
    public double? LastTelemetryAgeMs { get; init; }

    public long TelemetryCount { get; init; }

    public static RobotView Of(string site, SiteStats stats, SiteRobotView seat, RobotStatus? status, DateTimeOffset now)
    {
        var t = status?.LastTelemetry;
        var cell = t is { Cell: >= 0 } ? t.Cell : seat.Cell;
        var width = Math.Max(1, stats.MapWidth);
        return new RobotView
        {
            Id = seat.RobotId,
            Site = site,
            Silo = status?.Silo,
            Pose = new PoseView
            {
                Cell = cell,
                X = cell % width,
                Y = cell / width,
                Heading = (t?.Heading ?? seat.Heading).ToString().ToLowerInvariant(),
                XM = t?.XMetres,
                YM = t?.YMetres,
                ThetaRad = t?.ThetaRadians,
            },
            Mode = t is null ? "unknown" : Kebab(((ProtoRobotState)t.State).ToString()),
            Decision = t is null ? "unknown" : Kebab(((ProtoDecisionMode)t.DecisionMode).ToString()),
            Plan = new PlanView
            {
                SiteStep = stats.Step,
                ConfirmedStep = seat.ConfirmedStep,
                DispatchedStep = seat.DispatchedStep,
                ReportedStep = t?.LastCompletedStep,
                Revision = seat.Revision,
                CaughtUp = seat.CaughtUp,
                Held = seat.Held,
            },
            Task = seat.TaskId < 0 ? null : new RobotTaskView
            {
                Id = Tasks.TaskIds.Format(site, seat.TaskId),
                ErrandIndex = seat.ErrandIndex,
                GoalCell = seat.GoalCell,
            },
            ModelVersion = string.IsNullOrEmpty(t?.ModelVersion) ? null : t.ModelVersion,
            Battery = t?.BatteryFraction,
            LastTelemetryAgeMs = status is null || t is null ? null : Math.Max(0, (now - status.LastSeen).TotalMilliseconds),
            TelemetryCount = status?.TelemetryCount ?? 0,
        };
    }

    // "WaitingGrant" -> "waiting-grant".
    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>Where a robot is: its cell (and column x, row y), heading, and continuous pose when it reported one.</summary>
internal sealed record PoseView
{
    public int Cell { get; init; }

    public int X { get; init; }

    public int Y { get; init; }

    public string Heading { get; init; } = "east";

    [JsonPropertyName("xM")]
    public double? XM { get; init; }

    [JsonPropertyName("yM")]
    public double? YM { get; init; }

    public double? ThetaRad { get; init; }
}

/// <summary>A robot's progress on the site's step clock.</summary>
internal sealed record PlanView
{
    public uint SiteStep { get; init; }

    public long ConfirmedStep { get; init; }

    public uint DispatchedStep { get; init; }

    public uint? ReportedStep { get; init; }

    public ulong Revision { get; init; }

    public bool CaughtUp { get; init; }

    public bool Held { get; init; }
}

/// <summary>The task a robot works on.</summary>
internal sealed record RobotTaskView
{
    public string Id { get; init; } = string.Empty;

    public int ErrandIndex { get; init; }

    public int GoalCell { get; init; }
}
