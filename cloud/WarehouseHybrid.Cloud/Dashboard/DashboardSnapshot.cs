using System.Text.Json;
using System.Text.Json.Serialization;
using WarehouseHybrid.Cloud.Grains;

namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>
/// The page's live document (GET /api/dashboard/sites/{site}/snapshot): per-robot columns in roster order
/// (<see cref="SiteMapView.RobotIds"/>), per-model-version aggregates, the most drifting robots and the time series.
/// Byte columns travel as base64 (System.Text.Json's form for byte[]), the rest as JSON numbers.
/// </summary>
public sealed class DashboardSnapshot
{
    /// <summary>Site id.</summary>
    public string SiteId { get; init; } = string.Empty;

    /// <summary>Cloud clock, Unix ms.</summary>
    public long UnixMs { get; init; }

    /// <summary>The site's statistics.</summary>
    public SiteStats Stats { get; init; } = new();

    /// <summary>Robots on the roster.</summary>
    public int RobotCount { get; init; }

    /// <summary>Robots whose telemetry the board has.</summary>
    public int RobotsReporting { get; init; }

    /// <summary>Confirmed cell per robot.</summary>
    public int[] Cells { get; init; } = [];

    /// <summary>Heading per robot (0 east, 1 south, 2 west, 3 north), base64.</summary>
    public byte[] Headings { get; init; } = [];

    /// <summary>Planned target cell per robot.</summary>
    public int[] Targets { get; init; } = [];

    /// <summary>Current errand's goal cell per robot (-1 none).</summary>
    public int[] Goals { get; init; } = [];

    /// <summary>Task id per robot (-1 none).</summary>
    public int[] TaskIds { get; init; } = [];

    /// <summary>Flags per robot (1 held: not confirmed; 2 blocked: waiting for a grant), base64.</summary>
    public byte[] Flags { get; init; } = [];

    /// <summary>Decision mode per robot (0 unknown/no telemetry, 1 learned, 2 rule, 3 shield stop, 4 escalated), base64.</summary>
    public byte[] Modes { get; init; } = [];

    /// <summary>Index into <see cref="Versions"/> per robot (-1 no telemetry yet).</summary>
    public int[] VersionIndex { get; init; } = [];

    /// <summary>Drift z-score per robot (0 when not reported), rounded to 0.01.</summary>
    public float[] Drift { get; init; } = [];

    /// <summary>Per model version: robots, drifting, in fallback, mean drift z.</summary>
    public ModelVersionRow[] Versions { get; init; } = [];

    /// <summary>The robots with the largest drift z-scores (at most <see cref="DashboardSnapshotBuilder.TopDriftCount"/>).</summary>
    public DriftRow[] TopDrift { get; init; } = [];

    /// <summary>Time series, oldest first.</summary>
    public SeriesPoint[] Series { get; init; } = [];
}

/// <summary>One model version's robots.</summary>
/// <param name="Version">Model version ("" = no learned model).</param>
/// <param name="Robots">Robots running it.</param>
/// <param name="Drifting">Of those, reporting drift.</param>
/// <param name="Fallback">Of those, last decided by the rule policy or the shield.</param>
/// <param name="MeanDriftZ">Mean drift z-score.</param>
public sealed record ModelVersionRow(string Version, int Robots, int Drifting, int Fallback, double MeanDriftZ);

/// <summary>One drifting robot.</summary>
/// <param name="RobotId">Robot id.</param>
/// <param name="Version">Its model version.</param>
/// <param name="Z">Drift z-score.</param>
/// <param name="Feature">The feature that drifted most.</param>
/// <param name="Drifting">The edge's verdict.</param>
public sealed record DriftRow(string RobotId, string Version, double Z, string Feature, bool Drifting);

/// <summary>The page's start-up document (GET /api/dashboard/config).</summary>
/// <param name="SiteId">The site shown by default.</param>
/// <param name="PollMs">How often the page polls the snapshot.</param>
public sealed record DashboardConfig(string SiteId, int PollMs);

/// <summary>Source-generated JSON for the dashboard documents (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(SiteMapView))]
[JsonSerializable(typeof(DashboardConfig))]
public sealed partial class DashboardJson : JsonSerializerContext;

/// <summary>Joins a site's live view and its board into the page's snapshot (plain code).</summary>
public static class DashboardSnapshotBuilder
{
    /// <summary>Rows of <see cref="DashboardSnapshot.TopDrift"/>.</summary>
    public const int TopDriftCount = 20;

    /// <summary>Builds the snapshot; <paramref name="rosterIndex"/> maps robot id to roster position.</summary>
    public static DashboardSnapshot Build(SiteLiveView live, BoardView board, IReadOnlyDictionary<string, int> rosterIndex, long unixMs)
    {
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(rosterIndex);
        var n = live.Cells.Length;
        var modes = new byte[n];
        var versionIndex = new int[n];
        Array.Fill(versionIndex, -1);
        var drift = new float[n];
        var versions = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new List<(string Version, int Robots, int Drifting, int Fallback, double SumZ)>();
        var reporting = 0;
        var top = new PriorityQueue<RobotSummary, float>();
        foreach (var r in board.Robots)
        {
            if (!rosterIndex.TryGetValue(r.RobotId, out var i) || i >= n)
            {
                continue;
            }

            reporting++;
            modes[i] = r.DecisionMode;
            drift[i] = MathF.Round(float.IsFinite(r.DriftZ) ? r.DriftZ : 99f, 2);
            if (!versions.TryGetValue(r.ModelVersion, out var v))
            {
                v = rows.Count;
                versions.Add(r.ModelVersion, v);
                rows.Add((r.ModelVersion, 0, 0, 0, 0));
            }

            versionIndex[i] = v;
            var row = rows[v];
            rows[v] = (row.Version, row.Robots + 1, row.Drifting + (r.Drifting ? 1 : 0), row.Fallback + (r.DecisionMode is 2 or 3 ? 1 : 0), row.SumZ + drift[i]);
            if (drift[i] > 0 || r.Drifting)
            {
                top.Enqueue(r, drift[i]);
                if (top.Count > TopDriftCount)
                {
                    top.Dequeue();
                }
            }
        }

        var topRows = new List<DriftRow>(top.Count);
        while (top.TryDequeue(out var r, out var z))
        {
            topRows.Add(new DriftRow(r.RobotId, r.ModelVersion, z, r.DriftFeature, r.Drifting));
        }

        topRows.Reverse();
        return new DashboardSnapshot
        {
            SiteId = live.SiteId,
            UnixMs = unixMs,
            Stats = live.Stats,
            RobotCount = n,
            RobotsReporting = reporting,
            Cells = live.Cells,
            Headings = live.Headings,
            Targets = live.Targets,
            Goals = live.Goals,
            TaskIds = live.TaskIds,
            Flags = live.Flags,
            Modes = modes,
            VersionIndex = versionIndex,
            Drift = drift,
            Versions = [.. rows.Select(r => new ModelVersionRow(r.Version, r.Robots, r.Drifting, r.Fallback, r.Robots == 0 ? 0 : Math.Round(r.SumZ / r.Robots, 3)))],
            TopDrift = [.. topRows],
            Series = board.Series,
        };
    }
}
