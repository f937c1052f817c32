using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Api;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>Logs, once the server listens, where the HTTP endpoint is and who may use it (plain-text keys are warned about).</summary>
internal sealed partial class HttpStartupReport(
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ApiKeyStore keys,
    IOptions<CloudOptions> options,
    ILogger<HttpStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var address = CloudHost.GetHttpAddress(services)?.ToString() ?? "(unknown)";
            LogListening(logger, address, keys.Count, options.Value.Http.Auth.AnonymousRead);
            foreach (var name in keys.PlainKeys)
            {
                LogPlainKey(logger, name);
            }

            if (keys.Count == 0)
            {
                LogNoKeys(logger);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "HTTP endpoint on {Address} ({Keys} API keys, anonymous reads {AnonymousRead})")]
    private static partial void LogListening(ILogger logger, string address, int keys, bool anonymousRead);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "API key '{Name}' is configured in plain text; configure its Sha256 instead (WarehouseHybrid.Cloud hash-key)")]
    private static partial void LogPlainKey(ILogger logger, string name);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "No API keys are configured (Cloud:Http:Auth:Keys): the HTTP API refuses every write")]
    private static partial void LogNoKeys(ILogger logger);
}
