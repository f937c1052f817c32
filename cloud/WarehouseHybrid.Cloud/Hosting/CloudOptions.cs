using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>Everything the cloud silo is configured with (section "Cloud" of appsettings.json, environment, command line).</summary>
public sealed class CloudOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cloud";

    /// <summary>The site this silo starts at boot when <see cref="MapFile"/> is set.</summary>
    public string SiteId { get; set; } = "site-1";

    /// <summary>A Moving AI / LoRR .map file; when set, the site is initialised at start with <see cref="Robots"/>.</summary>
    public string? MapFile { get; set; }

    /// <summary>The roster used with <see cref="MapFile"/>.</summary>
    public List<RobotSeatOptions> Robots { get; set; } = new();

    /// <summary>This silo's ports and the cluster's ids.</summary>
    public SiloOptions Silo { get; set; } = new();

    /// <summary>Clustering and persistence provider (localhost + memory, Redis, PostgreSQL).</summary>
    public CloudClusterOptions Cluster { get; set; } = new();

    /// <summary>The MQTT bridge.</summary>
    public MqttBridgeOptions Mqtt { get; set; } = new();

    /// <summary>The site's step cycle.</summary>
    public SiteCycleOptions Cycle { get; set; } = new();

    /// <summary>The HTTP endpoint (task API, dashboard, metrics).</summary>
    public HttpOptions Http { get; set; } = new();

    /// <summary>Task intake and retention.</summary>
    public Tasks.TaskOptions Tasks { get; set; } = new();
}

/// <summary>One robot of the configured roster.</summary>
public sealed class RobotSeatOptions
{
    /// <summary>Robot id.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>Start cell (row * width + column).</summary>
    public int Cell { get; set; }

    /// <summary>Start heading (LoRR numbers: 0 east, 1 south, 2 west, 3 north).</summary>
    public Heading Heading { get; set; }
}

/// <summary>The silo's ports and the cluster it belongs to.</summary>
public sealed class SiloOptions
{
    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Orleans cluster id.</summary>
    public string ClusterId { get; set; } = "warehouse-dev";

    /// <summary>Orleans service id.</summary>
    public string ServiceId { get; set; } = "warehouse-hybrid";
}

/// <summary>Checks <see cref="CloudOptions"/> at start (ValidateOnStart), naming the setting at fault.</summary>
public sealed class CloudOptionsValidator : IValidateOptions<CloudOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CloudOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!FleetTopics.IsValidId(options.SiteId))
        {
            failures.Add($"Cloud.SiteId '{options.SiteId}' must be 1-64 of [A-Za-z0-9_-]");
        }

        if (options.MapFile is { } map && !File.Exists(map))
        {
            failures.Add($"Cloud.MapFile '{map}' does not exist");
        }

        if (options.MapFile is not null && options.Robots.Count == 0)
        {
            failures.Add("Cloud.Robots must list at least one robot when Cloud.MapFile is set");
        }

        for (var i = 0; i < options.Robots.Count; i++)
        {
            if (!FleetTopics.IsValidId(options.Robots[i].Id))
            {
                failures.Add($"Cloud.Robots[{i}].Id '{options.Robots[i].Id}' must be 1-64 of [A-Za-z0-9_-]");
            }
        }

        foreach (var (port, label) in new[] { (options.Silo.SiloPort, "Cloud.Silo.SiloPort"), (options.Silo.GatewayPort, "Cloud.Silo.GatewayPort") })
        {
            if (port is < 1 or > 65535)
            {
                failures.Add($"{label} must be 1-65535, got {port}");
            }
        }

        if (options.Silo.SiloPort == options.Silo.GatewayPort)
        {
            failures.Add($"Cloud.Silo.SiloPort and GatewayPort must differ (both {options.Silo.SiloPort})");
        }

        if (options.Mqtt.Check() is { } mqtt)
        {
            failures.Add("Cloud." + mqtt);
        }

        if (options.Cycle.Check() is { } cycle)
        {
            failures.Add("Cloud." + cycle);
        }

        failures.AddRange(options.Http.Check().Select(p => "Cloud." + p));
        failures.AddRange(options.Cluster.Check().Select(p => "Cloud." + p));
        if (options.Tasks.Check() is { } tasks)
        {
            failures.Add("Cloud." + tasks);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
