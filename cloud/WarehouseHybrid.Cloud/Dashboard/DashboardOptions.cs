namespace WarehouseHybrid.Cloud.Dashboard;

/// <summary>The dashboard's data flow (configuration section <c>Cloud:Dashboard</c>).</summary>
public sealed class DashboardOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cloud:Dashboard";

    /// <summary>How often each silo sends its robots' changed summaries to the site boards.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a site board samples the site's statistics into its time series.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Points kept per site (at 1 s, 10 minutes).</summary>
    public int SeriesLength { get; set; } = 600;

    /// <summary>How often the page polls the live snapshot.</summary>
    public TimeSpan PagePollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Null when valid, else what is wrong (naming the setting).</summary>
    public string? Check()
    {
        foreach (var (value, name) in new[] { (FlushInterval, nameof(FlushInterval)), (SampleInterval, nameof(SampleInterval)), (PagePollInterval, nameof(PagePollInterval)) })
        {
            if (value < TimeSpan.FromMilliseconds(10) || value > TimeSpan.FromMinutes(5))
            {
                return $"Dashboard.{name} must be 10 ms - 5 min, got {value}";
            }
        }

        return SeriesLength is < 10 or > 100_000 ? $"Dashboard.SeriesLength must be 10-100000, got {SeriesLength}" : null;
    }
}
