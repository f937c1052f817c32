using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>
/// Runs on every silo: each <see cref="RolloutOptions.EvaluationInterval"/> it ticks the active rollouts, which
/// (re)activates them wherever Orleans places them, so a rollout keeps being evaluated after its silo is lost.
/// </summary>
public sealed partial class RolloutSupervisor(IGrainFactory grains, IOptions<RolloutOptions> options, TimeProvider timeProvider, ILogger<RolloutSupervisor> logger) : BackgroundService
{
    /// <summary>Ticks every active rollout once.</summary>
    public async Task TickAllAsync()
    {
        var active = await grains.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key).ActiveRolloutsAsync().ConfigureAwait(false);
        foreach (var id in active)
        {
            try
            {
                await grains.GetGrain<IRolloutGrain>(id).TickAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogTickFailed(logger, ex, id);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.EvaluationInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await TickAllAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
                {
                    LogTickFailed(logger, ex, "(registry)");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Rollout {RolloutId}: evaluation failed; retried on the next tick")]
    private static partial void LogTickFailed(ILogger logger, Exception exception, string rolloutId);
}
