using Microsoft.Extensions.Hosting;

namespace WarehouseHybrid.Hil.Demo;

/// <summary>
/// A host lifetime for a host embedded in a larger program: it neither waits for nor reacts to console
/// signals; the embedding program decides when to stop the host.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
