using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WarehouseHybrid.Cloud.Api;

/// <summary>
/// The operations API under <c>/api</c>: its services (API-key authentication, the Read/Write policies, problem
/// details) and its endpoint groups. Other web features (dashboard, metrics) reuse the same authentication and
/// policies (<see cref="ApiPolicies"/>) and map their own groups beside it.
/// </summary>
public static class CloudApi
{
    /// <summary>Registers authentication, authorization and problem details for the silo's HTTP endpoints.</summary>
    public static IServiceCollection AddCloudApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddProblemDetails();
        services.AddExceptionHandler<GrainCallExceptionHandler>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<IAuthorizationHandler, ApiAccessHandler>();
        services.AddAuthentication(ApiPolicies.Scheme)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiPolicies.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Read, p => p.AddRequirements(new ApiAccessRequirement(Hosting.ApiRole.Read)))
            .AddPolicy(ApiPolicies.Write, p => p.AddRequirements(new ApiAccessRequirement(Hosting.ApiRole.Write)));
        return services;
    }

    /// <summary>Maps every <c>/api</c> endpoint group.</summary>
    public static IEndpointRouteBuilder MapCloudApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("/api");
        api.MapSiteEndpoints();
        api.MapTaskEndpoints();
        api.MapRobotEndpoints();
        return endpoints;
    }
}

/// <summary>
/// Turns failures of the cluster behind a request (a silo gone, a grain call timing out) into 503 with Retry-After,
/// and anything else into a plain 500 problem; the exception is logged, never echoed to the caller.
/// </summary>
internal sealed partial class GrainCallExceptionHandler(IProblemDetailsService problems, ILogger<GrainCallExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        int status;
        string title, detail;
        if (exception is BadHttpRequestException bad)
        {
            // Kestrel's own refusals (body over Cloud:Http:MaxRequestBodyBytes: 413; a broken request: 400).
            (status, title, detail) = (bad.StatusCode, "Request rejected", bad.Message);
        }
        else if (exception is TimeoutException or OrleansException or SiloUnavailableException or OperationCanceledException)
        {
            LogFailed(logger, exception, httpContext.Request.Method, httpContext.Request.Path.Value ?? string.Empty);
            httpContext.Response.Headers.RetryAfter = "1";
            (status, title, detail) = (StatusCodes.Status503ServiceUnavailable, "The cluster is busy or recovering",
                "A silo did not answer in time; retry the request (with the same Idempotency-Key for submissions).");
        }
        else
        {
            LogFailed(logger, exception, httpContext.Request.Method, httpContext.Request.Path.Value ?? string.Empty);
            (status, title, detail) = (StatusCodes.Status500InternalServerError, "Internal error", "The request failed; the silo's log has the details.");
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "HTTP {Method} {Path} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method, string path);
}
