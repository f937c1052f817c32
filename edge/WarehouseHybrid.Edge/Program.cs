using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Edge.Runtime;

// The edge daemon: one robot. Configuration: appsettings.json, then environment variables (Edge__RobotId=...),
// then the command line (--Edge:RobotId=...). Options are validated at start: a bad value stops the daemon
// before it touches the motors, with a message naming the option.
var builder = Host.CreateApplicationBuilder(args);

// Under systemd (Type=notify) this wires journald-format logs and READY=1/STOPPING=1; outside systemd it
// registers nothing. It never sends WATCHDOG=1 (see ../shared/PLATFORM.md): the hardening issue adds that.
builder.Services.AddSystemd();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddOptions<EdgeOptions>()
    .Bind(builder.Configuration.GetSection(EdgeOptions.SectionName))
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<EdgeOptions>, EdgeOptionsValidator>();
builder.Services.AddHostedService<EdgeDaemonService>();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

using var host = builder.Build();
await host.RunAsync().ConfigureAwait(false);
