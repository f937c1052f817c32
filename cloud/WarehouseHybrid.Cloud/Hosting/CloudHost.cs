using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Cloud.Sites;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>
/// Puts the cloud into a .NET host: an Orleans silo with localhost clustering and in-memory
/// storage, the grains, the optimizer factory, the MQTT bridge and (when a map file is configured)
/// the site's start. Used by Program.cs and by any process that hosts the silo itself (the HIL demo).
/// </summary>
public static class CloudHost
{
    /// <summary>Name of the grain storage provider.</summary>
    public const string StorageName = "warehouse";

    /// <summary>
    /// Adds the cloud silo. Options are bound from the "Cloud" configuration section, then
    /// <paramref name="configure"/> is applied; they are validated when the host starts.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="plannerFactory">Makes each site's optimizer.</param>
    /// <param name="configure">Changes to the bound options (ports, broker, cycle timing).</param>
    public static IHostApplicationBuilder AddWarehouseCloud(this IHostApplicationBuilder builder, FleetPlannerFactory plannerFactory, Action<CloudOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(plannerFactory);
        var section = builder.Configuration.GetSection(CloudOptions.Section);
        void Apply(CloudOptions o)
        {
            section.Bind(o);
            configure?.Invoke(o);
        }

        // Orleans needs the ports now; the same values feed IOptions for the start-up validation.
        var options = new CloudOptions();
        Apply(options);

        var services = builder.Services;
        services.AddOptions<CloudOptions>().Configure(Apply).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CloudOptions>, CloudOptionsValidator>();
        services.AddSingleton<IOptions<MqttBridgeOptions>>(sp => Options.Create(sp.GetRequiredService<IOptions<CloudOptions>>().Value.Mqtt));
        services.AddSingleton<IOptions<SiteCycleOptions>>(sp => Options.Create(sp.GetRequiredService<IOptions<CloudOptions>>().Value.Cycle));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(plannerFactory);
        services.AddSingleton<PlanningWorker>();
        services.AddCloudInstruments();
        services.AddFleetBoardFeed();
        services.AddModelRollout();
        builder.AddWarehouseObservability();

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(options.Silo.SiloPort, options.Silo.GatewayPort, null, options.Silo.ServiceId, options.Silo.ClusterId);
            silo.AddMemoryGrainStorage(StorageName);
        });

        // Registered after UseOrleans so they start once the silo is up.
        if (options.Mqtt.Enabled)
        {
            services.AddSingleton<MqttBridge>();
            services.AddSingleton<IFleetCommandPublisher>(sp => sp.GetRequiredService<MqttBridge>());
            services.AddSingleton<IModelDeploymentPublisher>(sp => sp.GetRequiredService<MqttBridge>());
            services.AddHostedService(sp => sp.GetRequiredService<MqttBridge>());
        }
        else
        {
            services.AddSingleton<IFleetCommandPublisher, DiscardingCommandPublisher>();
        }

        services.AddHostedService<SiteBootstrapper>();
        return builder;
    }

    /// <summary>A site grain of a host built with <see cref="AddWarehouseCloud"/>.</summary>
    public static ISiteGrain GetSite(this IHost host, string siteId)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISiteGrain>(siteId);
    }

    /// <summary>A robot grain of a host built with <see cref="AddWarehouseCloud"/>.</summary>
    public static IRobotGrain GetRobot(this IHost host, string robotId)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Services.GetRequiredService<IGrainFactory>().GetGrain<IRobotGrain>(robotId);
    }

    /// <summary>The MQTT bridge of a host, or null when it runs without one.</summary>
    public static MqttBridge? GetBridge(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Services.GetService<MqttBridge>();
    }
}
