using WarehouseHybrid.Cloud.Grains;

namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>The static part of a site for the dashboard: the grid and the roster (fetched once by the page).</summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.SiteMapView")]
public sealed record SiteMapView
{
    /// <summary>Site id.</summary>
    [Id(0)] public string SiteId { get; init; } = string.Empty;

    /// <summary>Map label.</summary>
    [Id(1)] public string MapName { get; init; } = string.Empty;

    /// <summary>Columns.</summary>
    [Id(2)] public int Width { get; init; }

    /// <summary>Rows.</summary>
    [Id(3)] public int Height { get; init; }

    /// <summary>Per-cell kinds, row-major (the domain's CellKind: 0 free, others obstacles/special).</summary>
    [Id(4)] public byte[] Cells { get; init; } = [];

    /// <summary>Robot ids in roster order; every per-robot column of <see cref="SiteLiveView"/> follows this order.</summary>
    [Id(5)] public string[] RobotIds { get; init; } = [];
}

/// <summary>
/// The moving part of a site: per-robot columns in roster order (arrays, not an object per robot, so 10,000 robots
/// stay one small message and one cheap JSON document) and the site's statistics.
/// </summary>
[GenerateSerializer, Immutable, Alias("wh.cloud.SiteLiveView")]
public sealed record SiteLiveView
{
    /// <summary>Site id.</summary>
    [Id(0)] public string SiteId { get; init; } = string.Empty;

    /// <summary>Confirmed cell of each robot.</summary>
    [Id(1)] public int[] Cells { get; init; } = [];

    /// <summary>Confirmed heading of each robot (0 east, 1 south, 2 west, 3 north).</summary>
    [Id(2)] public byte[] Headings { get; init; } = [];

    /// <summary>Cell each robot was last told to reach (its planned target).</summary>
    [Id(3)] public int[] Targets { get; init; } = [];

    /// <summary>Goal cell of each robot's current errand, -1 when it has no task.</summary>
    [Id(4)] public int[] Goals { get; init; } = [];

    /// <summary>Task id of each robot, -1 when none.</summary>
    [Id(5)] public int[] TaskIds { get; init; } = [];

    /// <summary>Flags of each robot (SiteCycle.ViewAwaited = 1 held, ViewWaitingForGrant = 2 blocked).</summary>
    [Id(6)] public byte[] Flags { get; init; } = [];

    /// <summary>The site's statistics.</summary>
    [Id(7)] public SiteStats Stats { get; init; } = new();
}
