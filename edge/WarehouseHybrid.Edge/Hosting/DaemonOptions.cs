using Microsoft.Extensions.Options;
using WarehouseHybrid.Edge.Metrics;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Hosting;

/// <summary>
/// Settings of the daemon process around the runtime (the "Daemon" configuration section): the serial line, the
/// health file and the health check interval. Validated at start; each error names the option.
/// </summary>
public sealed class DaemonOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Daemon";

    /// <summary>Serial line speed (a termios rate; pseudo-terminals ignore it).</summary>
    public int SerialBaudRate { get; set; } = 115200;

    /// <summary>Longest a serial write may wait; past it the write fails and the link reconnects (never hangs).</summary>
    public TimeSpan SerialWriteTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Health JSON file. Empty: <c>$STATE_DIRECTORY/health.json</c> when systemd provides a state directory, else none.
    /// </summary>
    public string HealthFile { get; set; } = string.Empty;

    /// <summary>Health check interval (with a systemd watchdog: half of WatchdogSec when that is shorter).</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Subscribe to the site's sensor topics (e-stop, zone speed limits, occupancy) on the link's MQTT connection. With
    /// <c>Edge:CloudLinkEnabled</c> false they cannot arrive and count as stale from the start (speed cap).
    /// </summary>
    public bool SiteSensorsEnabled { get; set; }

    /// <summary>The site's zones, each "id:minX,minY,maxX,maxY" in cells (inclusive).</summary>
    public List<string> SiteZones { get; set; } = [];

    /// <summary>How often the robot's zone is re-resolved from its pose.</summary>
    public TimeSpan SiteZoneResolveInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The Prometheus metrics endpoint (off by default; loopback only).</summary>
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>The parsed zones (call after <see cref="Validate"/> passed).</summary>
    public IReadOnlyList<SiteZone> ParseZones() => SiteZones.Select((z, i) => SiteZone.Parse(z, $"{SectionName}:SiteZones:{i}")).ToArray();

    /// <summary>The health file path after applying the default.</summary>
    public string? ResolveHealthFile(Func<string, string?>? getEnv = null) => StateDirectory.Resolve(HealthFile, "health.json", getEnv);

    /// <summary>Every problem, each naming the option and the value; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        try
        {
            _ = TtyNative.BaudConstant(SerialBaudRate);
        }
        catch (ArgumentOutOfRangeException)
        {
            errors.Add($"{SectionName}:SerialBaudRate: {SerialBaudRate} is not a standard termios rate (9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 2000000)");
        }

        if (SerialWriteTimeout <= TimeSpan.Zero || SerialWriteTimeout > TimeSpan.FromSeconds(5))
        {
            errors.Add($"{SectionName}:SerialWriteTimeout: {SerialWriteTimeout} must be in (0, 5 s] (a write must never hang the writer thread)");
        }

        if (HealthCheckInterval < TimeSpan.FromMilliseconds(10) || HealthCheckInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{SectionName}:HealthCheckInterval: {HealthCheckInterval} must be in [10 ms, 1 min]");
        }

        for (var i = 0; i < SiteZones.Count; i++)
        {
            try
            {
                _ = SiteZone.Parse(SiteZones[i], $"{SectionName}:SiteZones:{i}");
            }
            catch (FormatException ex)
            {
                errors.Add(ex.Message);
            }
        }

        if (SiteZones.Select(z => z.Split(':')[0]).GroupBy(id => id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } dup)
        {
            errors.Add($"{SectionName}:SiteZones: zone id '{dup.Key}' appears more than once");
        }

        if (SiteZoneResolveInterval < TimeSpan.FromMilliseconds(10) || SiteZoneResolveInterval > TimeSpan.FromSeconds(5))
        {
            errors.Add($"{SectionName}:SiteZoneResolveInterval: {SiteZoneResolveInterval} must be in [10 ms, 5 s]");
        }

        if (!string.IsNullOrWhiteSpace(HealthFile) && !Path.IsPathFullyQualified(HealthFile))
        {
            errors.Add($"{SectionName}:HealthFile: '{HealthFile}' must be an absolute path");
        }

        if (Metrics is null)
        {
            errors.Add($"{SectionName}:Metrics: must not be null");
        }
        else
        {
            errors.AddRange(Metrics.Validate($"{SectionName}:Metrics"));
        }

        return errors;
    }
}

/// <summary>Start-up validation of <see cref="DaemonOptions"/>.</summary>
public sealed class DaemonOptionsValidator : IValidateOptions<DaemonOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
