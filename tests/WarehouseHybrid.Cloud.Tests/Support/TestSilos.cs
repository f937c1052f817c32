using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>The one way the tests build an in-process silo: free loopback ports, a cluster id of its own, no broker, HTTP on port 0.</summary>
internal static class TestSilos
{
    /// <summary>A builder with <see cref="CloudHost.AddWarehouseCloud"/> applied; <paramref name="configure"/> runs last.</summary>
    public static WebApplicationBuilder Builder(string name, FleetPlannerFactory planner, Action<CloudOptions>? configure = null)
    {
        var builder = CloudHost.CreateEmbeddedBuilder(name);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddWarehouseCloud(planner, o =>
        {
            o.Silo.SiloPort = FreePort.Next();
            o.Silo.GatewayPort = FreePort.Next();
            o.Silo.ClusterId = name + "-" + Guid.NewGuid().ToString("N");
            o.Mqtt.Enabled = false;
            o.Http.Port = 0;
            configure?.Invoke(o);
        });
        return builder;
    }

    /// <summary>The corridor planner for every site (see <see cref="CorridorPlanner"/>).</summary>
    public static FleetPlannerFactory Corridor => (map, starts) => new CorridorPlanner(map, starts.Count);
}
