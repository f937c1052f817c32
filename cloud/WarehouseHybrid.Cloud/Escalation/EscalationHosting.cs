using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace WarehouseHybrid.Cloud.Escalation;

/// <summary>Registers the cloud escalation model as the silo's <see cref="IEscalationResponder"/>.</summary>
public static class EscalationHosting
{
    /// <summary>
    /// Binds <see cref="EscalationOptions"/> (section <see cref="EscalationOptions.Section"/>, validated at start) and,
    /// when enabled, registers <see cref="OnnxEscalationResponder"/> as the responder the MQTT bridge asks, loaded at start
    /// (else <see cref="NoOpinionEscalationResponder"/>). A responder registered before (a test's, another model) wins.
    /// </summary>
    public static IServiceCollection AddCloudEscalation(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<EscalationOptions>().BindConfiguration(EscalationOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EscalationOptions>>(new CheckValidator());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<EscalationOptions>>().Value.Enabled
            ? (IEscalationResponder)ActivatorUtilities.CreateInstance<OnnxEscalationResponder>(sp)
            : new NoOpinionEscalationResponder());
        services.AddHostedService<EscalationModelWarmup>();
        return services;
    }

    private sealed class CheckValidator : IValidateOptions<EscalationOptions>
    {
        public ValidateOptionsResult Validate(string? name, EscalationOptions options) =>
            options.Check() is { } failure ? ValidateOptionsResult.Fail("Cloud." + failure) : ValidateOptionsResult.Success;
    }
}
