using WarehouseHybrid.Cloud.Api;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Planning.Fleet;

// `hash-key`: prints the SHA-256 of an API key read from standard input, for Cloud:Http:Auth:Keys:N:Sha256.
if (args is ["hash-key", ..])
{
    var key = (await Console.In.ReadLineAsync().ConfigureAwait(false))?.Trim();
    if (string.IsNullOrEmpty(key))
    {
        await Console.Error.WriteLineAsync("hash-key: give the key on standard input (echo -n KEY | WarehouseHybrid.Cloud hash-key)").ConfigureAwait(false);
        return 2;
    }

    Console.WriteLine(ApiKeyStore.Hash(key));
    return 0;
}

// The cloud silo as a standalone process: options from appsettings.json, environment variables
// (Cloud__Mqtt__Port=1884) and the command line (--Cloud:MapFile=warehouse.map).
var builder = CloudHost.CreateBuilder(args);
builder.AddWarehouseCloud((map, starts) => new PibtFleetPlanner(map, starts.Count, new PlannerOptions()));
await using var app = builder.BuildWarehouseCloud();
await app.RunAsync().ConfigureAwait(false);
return 0;
