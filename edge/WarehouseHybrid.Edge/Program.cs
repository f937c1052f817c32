using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Runtime;

// `WarehouseHybrid.Edge health [file]`: report the running daemon's health file and exit.
if (args.Length > 0 && args[0] == "health")
{
    return HealthCommand.Run(args[1..], Console.Out, TimeProvider.System);
}

// The edge daemon: one robot. Configuration, later wins: appsettings.json, /etc/warehouse-edge/appsettings.json
// (or the file in WAREHOUSE_EDGE_CONFIG), environment variables (Edge__RobotId=...), the command line
// (--Edge:RobotId=...). Options are validated at start: a bad value stops the daemon before it touches the motors,
// with a message naming the option.
var builder = Host.CreateApplicationBuilder(args);
var etcFile = Environment.GetEnvironmentVariable("WAREHOUSE_EDGE_CONFIG") ?? "/etc/warehouse-edge/appsettings.json";
var sources = builder.Configuration.Sources;
var afterLastJson = sources.Count - 1;
while (afterLastJson >= 0 && sources[afterLastJson] is not JsonConfigurationSource)
{
    afterLastJson--;
}

sources.Insert(afterLastJson + 1, new JsonConfigurationSource { Path = etcFile, Optional = true, ReloadOnChange = false, FileProvider = null });
foreach (var s in sources.OfType<JsonConfigurationSource>())
{
    s.ResolveFileProvider();
}

// Under systemd (started by it, or journald holds stdout) log in the systemd console format: one line per
// message with a <N> syslog priority prefix that journald turns into PRIORITY=. sd_notify is our own
// (Hosting/SystemdNotifier): the package's lifetime never sends WATCHDOG=1 and only acts when its parent is systemd.
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
builder.Services.AddHostedService<EdgeDaemonService>();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

using var host = builder.Build();
await host.RunAsync().ConfigureAwait(false);
return 0;
