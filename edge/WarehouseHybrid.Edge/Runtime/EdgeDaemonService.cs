using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Runtime;

/// <summary>Hosts one <see cref="EdgeRuntime"/> in the daemon, its serial side opened from <see cref="EdgeOptions.SerialDevicePath"/>.</summary>
/// <param name="options">Validated options.</param>
/// <param name="time">The clock.</param>
/// <param name="loggerFactory">Logging.</param>
public sealed class EdgeDaemonService(IOptions<EdgeOptions> options, TimeProvider time, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private EdgeRuntime? _runtime;

    /// <summary>The hosted runtime once started.</summary>
    public EdgeRuntime? Runtime => _runtime;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        _runtime = new EdgeRuntime(o, new DeviceFileTransport(o.SerialDevicePath), time, loggerFactory);
        await _runtime.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_runtime is not null)
        {
            await _runtime.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_runtime is not null)
        {
            await _runtime.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Startup validation of <see cref="EdgeOptions"/> (the same rules <see cref="EdgeRuntime"/> applies).</summary>
public sealed class EdgeOptionsValidator : IValidateOptions<EdgeOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EdgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
