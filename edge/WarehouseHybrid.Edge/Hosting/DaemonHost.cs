using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Edge.Runtime;

namespace WarehouseHybrid.Edge.Hosting;

/// <summary>The daemon's host wiring, shared by Program.cs and the tests that start the daemon in-process.</summary>
public static class DaemonHost
{
    /// <summary>Default location of the per-robot configuration file.</summary>
    public const string EtcConfigFile = "/etc/warehouse-edge/appsettings.json";

    /// <summary>
    /// Adds the /etc configuration layer (between appsettings.json and the environment), journald-format logs under
    /// systemd, validated <see cref="EdgeOptions"/> and <see cref="DaemonOptions"/>, and the <see cref="EdgeDaemonService"/>.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="etcConfigFile">The /etc file (null: WAREHOUSE_EDGE_CONFIG or <see cref="EtcConfigFile"/>).</param>
    public static HostApplicationBuilder Configure(HostApplicationBuilder builder, string? etcConfigFile = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        etcConfigFile ??= Environment.GetEnvironmentVariable("WAREHOUSE_EDGE_CONFIG") ?? EtcConfigFile;
        var sources = builder.Configuration.Sources;
        var afterLastJson = sources.Count - 1;
        while (afterLastJson >= 0 && sources[afterLastJson] is not JsonConfigurationSource)
        {
            afterLastJson--;
        }

        var etc = new JsonConfigurationSource { Path = etcConfigFile, Optional = true, ReloadOnChange = false };
        etc.ResolveFileProvider();
        sources.Insert(afterLastJson + 1, etc);

        // Under systemd (started by it, or journald holds stdout) log in the systemd console format: one line per
        // message with a <N> syslog priority prefix that journald turns into PRIORITY=. sd_notify is our own
        // (SystemdNotifier): the package's lifetime never sends WATCHDOG=1 and only acts when its parent is systemd.
        if (SystemdHelpers.IsSystemdService() || Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddSystemdConsole(o => o.UseUtcTimestamp = true);
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<EdgeOptions>()
            .Bind(builder.Configuration.GetSection(EdgeOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EdgeOptions>, EdgeOptionsValidator>();
        builder.Services.AddOptions<DaemonOptions>()
            .Bind(builder.Configuration.GetSection(DaemonOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DaemonOptions>, DaemonOptionsValidator>();
        builder.Services.AddSingleton<EdgeDaemonService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EdgeDaemonService>());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        return builder;
    }
}
