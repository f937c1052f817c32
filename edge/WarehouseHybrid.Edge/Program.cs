using Microsoft.Extensions.Hosting;
using WarehouseHybrid.Edge.Hosting;

// `WarehouseHybrid.Edge health [file]`: report the running daemon's health file and exit.
if (args.Length > 0 && args[0] == "health")
{
    return HealthCommand.Run(args[1..], Console.Out, TimeProvider.System);
}

// `WarehouseHybrid.Edge audit verify [dir] [--anchor SEQ:HASH]`: check the audit log's hash chain and exit.
if (args.Length > 0 && args[0] == "audit")
{
    return AuditCommand.Run(args[1..], Console.Out);
}

// The edge daemon: one robot. Configuration, later wins: appsettings.json, /etc/warehouse-edge/appsettings.json
// (or the file in WAREHOUSE_EDGE_CONFIG), environment variables (Edge__RobotId=...), the command line
// (--Edge:RobotId=...). Options are validated at start: a bad value stops the daemon before it touches the motors,
// with a message naming the option (docs/edge-daemon.md).
using var host = DaemonHost.Configure(Host.CreateApplicationBuilder(args)).Build();
await host.RunAsync().ConfigureAwait(false);
return 0;
