using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using WarehouseHybrid.Cloud.Api;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Dashboard;
using WarehouseHybrid.Cloud.Escalation;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Cloud.Sites;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>
/// Puts the cloud into one ASP.NET Core process: an Orleans silo (localhost clustering and in-memory storage by
/// default; Redis or PostgreSQL for several silos, <see cref="CloudClusterOptions"/>), the grains, the optimizer factory, the MQTT bridge, (when a map file is configured) the site's
/// start, and the HTTP endpoints (Kestrel on loopback: the task API, and beside it the dashboard and metrics).
/// Used by Program.cs and by any process that hosts the silo itself (the HIL demo):
/// <code>
/// var builder = CloudHost.CreateBuilder(args);
/// builder.AddWarehouseCloud(plannerFactory);
/// var app = builder.BuildWarehouseCloud();
/// await app.RunAsync();
/// </code>
/// </summary>
public static class CloudHost
{
    /// <summary>Name of the grain storage provider.</summary>
    public const string StorageName = "warehouse";

    /// <summary>
    /// A builder for a standalone cloud process: configuration from appsettings.json, <c>Cloud__...</c> environment
    /// variables and the command line, console logging, Kestrel.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[]? args = null) =>
        WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [] });

    /// <summary>
    /// A builder for a silo embedded in another program (the HIL demo, tests): no configuration sources, no logging
    /// providers, nothing read from the environment; the caller sets options in code and adds its own logging.
    /// </summary>
    public static WebApplicationBuilder CreateEmbeddedBuilder(string applicationName)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = applicationName,
            EnvironmentName = Environments.Production,
        });
        builder.WebHost.UseKestrelCore();
        return builder;
    }

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
            if (o.Mqtt.ClientId.Length == 0)
            {
                // Stable across restarts of this silo: the broker finds the bridge's persistent session by it.
                o.Mqtt.ClientId = MqttBridgeOptions.DefaultClientId(Environment.MachineName, o.Silo.SiloPort);
            }
        }

        // Orleans needs the ports now; the same values feed IOptions for the start-up validation.
        var options = new CloudOptions();
        Apply(options);

        var services = builder.Services;
        services.AddOptions<CloudOptions>().Configure(Apply).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CloudOptions>, CloudOptionsValidator>();
        services.AddSingleton<IOptions<MqttBridgeOptions>>(sp => Options.Create(sp.GetRequiredService<IOptions<CloudOptions>>().Value.Mqtt));
        services.AddSingleton<IOptions<SiteCycleOptions>>(sp => Options.Create(sp.GetRequiredService<IOptions<CloudOptions>>().Value.Cycle));
        services.AddSingleton<IOptions<Tasks.TaskOptions>>(sp => Options.Create(sp.GetRequiredService<IOptions<CloudOptions>>().Value.Tasks));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(plannerFactory);
        services.AddSingleton<PlanningWorker>();

        // Before UseOrleans so it runs before the silo starts.
        services.AddHostedService<ClusterStorageCheck>();
        builder.UseOrleans(silo => ConfigureSilo(silo, options));

        // Registered after UseOrleans so they start once the silo is up.
        // Dashboard feed, rollout supervisor and escalation model: their hosted services call grains, so they start
        // after the silo and stop before it.
        services.AddCloudInstruments();
        services.AddFleetBoardFeed();
        services.AddModelRollout();
        services.AddCloudEscalation();
        builder.AddWarehouseObservability();
        if (options.Mqtt.Enabled)
        {
            services.AddSingleton<MqttBridge>();
            services.AddSingleton<IFleetCommandPublisher>(sp => sp.GetRequiredService<MqttBridge>());
            services.AddSingleton<IModelDeploymentPublisher>(sp => sp.GetRequiredService<MqttBridge>());
            services.AddSingleton<IBridgeReplies>(sp => sp.GetRequiredService<MqttBridge>());

            // The routing table. The escalation responder is AddCloudEscalation's (the cloud model) unless one was
            // registered before; replies resolve the bridge late (the bridge itself depends on the routes).
            services.AddSingleton<IBridgeRoute, TelemetryRoute>();
            services.AddSingleton<IBridgeRoute, EventRoute>();
            services.AddSingleton<IBridgeRoute>(sp => new EscalationRoute(
                sp.GetRequiredService<IEscalationResponder>(), () => sp.GetRequiredService<IBridgeReplies>(),
                sp.GetRequiredService<IOptions<MqttBridgeOptions>>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<EscalationRoute>>()));
            services.AddSingleton(sp => new Tasks.MqttTaskIntake(
                sp.GetRequiredService<IGrainFactory>(), () => sp.GetRequiredService<IBridgeReplies>(),
                sp.GetRequiredService<IOptions<MqttBridgeOptions>>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Tasks.MqttTaskIntake>>()));
            services.AddSingleton<IBridgeRoute>(sp => sp.GetRequiredService<Tasks.MqttTaskIntake>());
            services.AddHostedService(sp => sp.GetRequiredService<MqttBridge>());
        }
        else
        {
            services.AddSingleton<IFleetCommandPublisher, DiscardingCommandPublisher>();
        }

        services.AddHostedService<SiteBootstrapper>();
        services.AddHostedService<SiteKeeper>();

        if (options.Http.Enabled)
        {
            if (builder is not WebApplicationBuilder web)
            {
                throw new InvalidOperationException("Cloud:Http:Enabled needs a web host: make the builder with CloudHost.CreateBuilder or CreateEmbeddedBuilder (or set Cloud:Http:Enabled=false)");
            }

            AddWeb(web, options.Http);
        }
        else if (builder is WebApplicationBuilder)
        {
            // A web host always starts its server: without this Kestrel would take its default port 5000.
            services.AddSingleton<IServer, NoHttpServer>();
        }

        return builder;
    }

    /// <summary>Builds the host and maps the HTTP endpoints (<see cref="MapWarehouseCloud"/>).</summary>
    public static WebApplication BuildWarehouseCloud(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        app.MapWarehouseCloud();
        return app;
    }

    /// <summary>
    /// The HTTP pipeline: problem details for failures, API-key authentication, the policies, then every feature's
    /// endpoints. Does nothing when <c>Cloud:Http:Enabled</c> is false.
    /// </summary>
    public static WebApplication MapWarehouseCloud(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Asked of the container, not of the options: reading them here would validate them before the host starts.
        if (!app.Services.GetRequiredService<IServiceProviderIsService>().IsService(typeof(ApiKeyStore)))
        {
            return app;
        }

        app.UseExceptionHandler();
        app.UseAuthentication();
        app.UseAuthorization();

        // Web features, one line each; each maps its own group and picks an ApiPolicies policy.
        app.MapCloudApi();
        app.MapWarehouseMetrics().RequireAuthorization(ApiPolicies.Read);
        app.MapWarehouseDashboard().RequireAuthorization(ApiPolicies.Read);
        app.MapModelRollout(writePolicy: ApiPolicies.Write, readPolicy: ApiPolicies.Read);
        return app;
    }

    /// <summary>
    /// The URL the HTTP endpoint listens on (e.g. <c>http://127.0.0.1:41234</c>, also when port 0 was asked), or null
    /// before the host has started or when HTTP is off.
    /// </summary>
    public static Uri? GetHttpAddress(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return GetHttpAddress(host.Services);
    }

    internal static Uri? GetHttpAddress(IServiceProvider services)
    {
        var address = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return address is null ? null : new Uri(address);
    }

    // Localhost: one silo, memory storage. Redis/Postgres: membership and grain state in the server, several silos.
    private static void ConfigureSilo(ISiloBuilder silo, CloudOptions options)
    {
        var cluster = options.Cluster;
        silo.Configure<ClusterMembershipOptions>(m =>
        {
            m.ProbeTimeout = cluster.ProbeTimeout;
            m.NumMissedProbesLimit = cluster.MissedProbesLimit;
        });

        // Grain state is written with the Orleans serializer (the [GenerateSerializer]/[Id] contracts of the state
        // types, version tolerant), not the default Newtonsoft JSON.
        silo.Services.AddSingleton<IGrainStorageSerializer, OrleansGrainStorageSerializer>();

        // Bad cluster settings: configure the harmless default and let the start-up validation name the setting
        // (Orleans' own validators would otherwise fail first, with less to go on).
        var provider = cluster.Check().Any() ? ClusterProvider.Localhost : cluster.Provider;
        switch (provider)
        {
            case ClusterProvider.Redis:
                ConfigureNetwork(silo, options);
                silo.UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(cluster.ConnectionString!));
                silo.AddRedisGrainStorage(StorageName, o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(cluster.ConnectionString!));
                break;
            case ClusterProvider.Postgres:
                ConfigureNetwork(silo, options);
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = PostgresInvariant;
                    o.ConnectionString = cluster.ConnectionString;
                });
                silo.AddAdoNetGrainStorage(StorageName, o =>
                {
                    o.Invariant = PostgresInvariant;
                    o.ConnectionString = cluster.ConnectionString;
                });
                break;
            default:
                silo.UseLocalhostClustering(options.Silo.SiloPort, options.Silo.GatewayPort, null, options.Silo.ServiceId, options.Silo.ClusterId);
                silo.AddMemoryGrainStorage(StorageName);
                break;
        }
    }

    /// <summary>The ADO.NET invariant of Npgsql, as the Orleans ADO.NET providers name it.</summary>
    private const string PostgresInvariant = "Npgsql";

    private static void ConfigureNetwork(ISiloBuilder silo, CloudOptions options)
    {
        silo.Configure<ClusterOptions>(c =>
        {
            c.ClusterId = options.Silo.ClusterId;
            c.ServiceId = options.Silo.ServiceId;
        });
        var advertised = IPAddress.TryParse(options.Cluster.AdvertisedAddress, out var ip) ? ip : IPAddress.Loopback;
        silo.ConfigureEndpoints(advertised, options.Silo.SiloPort, options.Silo.GatewayPort, listenOnAnyHostAddress: false);
    }

    private static void AddWeb(WebApplicationBuilder web, HttpOptions http)
    {
        web.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = http.MaxRequestBodyBytes;
            k.Listen(IPAddress.TryParse(http.BindAddress, out var ip) ? ip : IPAddress.Loopback, http.Port);
        });
        web.Services.AddRouting();
        web.Services.AddCloudApi();
        web.Services.AddHostedService<HttpStartupReport>();

        // Web features of other folders register their services here (dashboard, metrics, tracing).
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
