using Microsoft.Extensions.Hosting;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Planning.Fleet;

// The cloud silo as a standalone process: options from appsettings.json, environment variables
// (Cloud__Mqtt__Port=1884) and the command line (--Cloud:MapFile=warehouse.map).
var builder = Host.CreateApplicationBuilder(args);
builder.AddWarehouseCloud((map, starts) => new PibtFleetPlanner(map, starts.Count, new PlannerOptions()));
using var host = builder.Build();
await host.RunAsync().ConfigureAwait(false);
