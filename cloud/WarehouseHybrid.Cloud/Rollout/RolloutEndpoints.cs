using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>Body of POST /api/rollouts.</summary>
/// <param name="Version">A stored package's version.</param>
/// <param name="Percentage">Canary share, more than 0 and less than 100.</param>
/// <param name="SiteId">Site (default: the silo's configured site).</param>
public sealed record StartRolloutRequest(string? Version, double? Percentage, string? SiteId);

/// <summary>Body of POST /api/rollouts/{id}/rollback.</summary>
/// <param name="Reason">Why (goes to the audit trail).</param>
public sealed record RollBackRequest(string? Reason);

/// <summary>Source-generated JSON for the rollout API.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, UseStringEnumConverter = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(StartRolloutRequest))]
[JsonSerializable(typeof(RollBackRequest))]
[JsonSerializable(typeof(RolloutState))]
[JsonSerializable(typeof(RolloutState[]))]
[JsonSerializable(typeof(ModelRecord))]
[JsonSerializable(typeof(ModelRecord[]))]
public sealed partial class RolloutJson : JsonSerializerContext;

/// <summary>Registers the rollout service and maps its HTTP API.</summary>
public static class RolloutHosting
{
    /// <summary>
    /// Registers <see cref="RolloutOptions"/> (section <see cref="RolloutOptions.Section"/>, validated at start), the
    /// package verifier (trusted keys read at start: a bad key stops the host naming its index) and the supervisor.
    /// </summary>
    public static IServiceCollection AddModelRollout(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RolloutOptions>().BindConfiguration(RolloutOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RolloutOptions>>(new CheckValidator());
        services.AddSingleton(sp => new ModelPackageVerifier(sp.GetRequiredService<IOptions<RolloutOptions>>().Value.TrustedKeys));
        services.AddSingleton<RolloutSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<RolloutSupervisor>());
        return services;
    }

    /// <summary>
    /// Maps POST /api/models (multipart: <c>manifest</c>, <c>onnx</c>, <c>signature</c> files), GET /api/models,
    /// POST /api/rollouts, GET /api/rollouts, GET /api/rollouts/{id}, POST /api/rollouts/{id}/rollback. Every write
    /// requires an authenticated caller (<paramref name="writePolicy"/>, or the default policy), who is recorded in the
    /// audit trail; reads take <paramref name="readPolicy"/> when given.
    /// </summary>
    public static IEndpointRouteBuilder MapModelRollout(this IEndpointRouteBuilder endpoints, string? writePolicy = null, string? readPolicy = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("/api");
        var reads = new List<IEndpointConventionBuilder>();
        var writes = new List<IEndpointConventionBuilder>();
        writes.Add(api.MapPost("/models", UploadAsync).DisableAntiforgery());
        reads.Add(api.MapGet("/models", async (IGrainFactory grains) =>
            Results.Json(await grains.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key).ListAsync(), RolloutJson.Default.ModelRecordArray)));
        writes.Add(api.MapPost("/rollouts", StartAsync));
        reads.Add(api.MapGet("/rollouts", async (IGrainFactory grains) =>
        {
            var ids = await grains.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key).RolloutIdsAsync();
            var all = await Task.WhenAll(ids.Select(id => grains.GetGrain<IRolloutGrain>(id).GetAsync()));
            return Results.Json(all.OfType<RolloutState>().ToArray(), RolloutJson.Default.RolloutStateArray);
        }));
        reads.Add(api.MapGet("/rollouts/{id}", async (string id, IGrainFactory grains) =>
            await grains.GetGrain<IRolloutGrain>(id).GetAsync() is { } rollout
                ? Results.Json(rollout, RolloutJson.Default.RolloutState)
                : Results.Problem(statusCode: 404, title: "unknown rollout", detail: $"rollout '{id}' does not exist")));
        writes.Add(api.MapPost("/rollouts/{id}/rollback", async (string id, RollBackRequest? body, HttpContext http, IGrainFactory grains) =>
            await Refusable(async () => Results.Json(await grains.GetGrain<IRolloutGrain>(id).RollBackAsync(Actor(http), body?.Reason ?? string.Empty), RolloutJson.Default.RolloutState))));

        foreach (var w in writes)
        {
            if (writePolicy is null)
            {
                w.RequireAuthorization();
            }
            else
            {
                w.RequireAuthorization(writePolicy);
            }
        }

        if (readPolicy is not null)
        {
            foreach (var r in reads)
            {
                r.RequireAuthorization(readPolicy);
            }
        }

        return endpoints;
    }

    private static async Task<IResult> UploadAsync(HttpContext http, IGrainFactory grains, ModelPackageVerifier verifier, IOptions<RolloutOptions> options, TimeProvider time)
    {
        if (!http.Request.HasFormContentType)
        {
            return Bad("POST /api/models takes multipart/form-data with the files 'manifest' (manifest.pb), 'onnx' (model.onnx) and 'signature' (manifest.sig)");
        }

        if (http.Request.ContentLength is { } length && length > options.Value.MaxPackageBytes)
        {
            return Results.Problem(statusCode: 413, title: "package too large", detail: $"{length} bytes exceed Cloud:Rollout:MaxPackageBytes ({options.Value.MaxPackageBytes})");
        }

        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            return Bad($"the multipart body could not be read: {ex.Message}");
        }

        var missing = new[] { "manifest", "onnx", "signature" }.Where(n => form.Files.GetFile(n) is null).ToArray();
        if (missing.Length > 0)
        {
            return Bad($"missing file field(s): {string.Join(", ", missing)} (expected manifest, onnx, signature)");
        }

        var total = form.Files.Sum(f => f.Length);
        if (total > options.Value.MaxPackageBytes)
        {
            return Results.Problem(statusCode: 413, title: "package too large", detail: $"{total} bytes exceed Cloud:Rollout:MaxPackageBytes ({options.Value.MaxPackageBytes})");
        }

        var package = new ModelPackageBytes(await ReadAsync(form.Files.GetFile("manifest")!), await ReadAsync(form.Files.GetFile("onnx")!), await ReadAsync(form.Files.GetFile("signature")!));
        var (manifest, error) = verifier.Verify(package);
        if (manifest is null)
        {
            return Results.Problem(statusCode: 400, title: "package refused", detail: error);
        }

        var record = new ModelRecord
        {
            Version = manifest.Version,
            ModelName = manifest.ModelName,
            OnnxSha256 = manifest.OnnxSha256,
            TrainingDataDigest = manifest.TrainingDataDigest,
            Bytes = package.Manifest.Length + package.Onnx.Length + package.Signature.Length,
            UploadedAt = time.GetUtcNow(),
            UploadedBy = Actor(http),
        };
        var outcome = await grains.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key).AddAsync(package, record);
        return outcome switch
        {
            ModelUploadOutcome.Created => Results.Json(record, RolloutJson.Default.ModelRecord, statusCode: 201),
            ModelUploadOutcome.AlreadyStored => Results.Json(record, RolloutJson.Default.ModelRecord, statusCode: 200),
            _ => Results.Problem(statusCode: 409, title: "version exists", detail: $"another package is already stored as version '{manifest.Version}': versions are immutable, give the new package a new version"),
        };
    }

    private static async Task<IResult> StartAsync(StartRolloutRequest? body, HttpContext http, IGrainFactory grains, IOptions<CloudOptions> cloud, TimeProvider time)
    {
        if (body is null)
        {
            return Bad("the body must be JSON {\"version\": \"1.1.0\", \"percentage\": 10, \"siteId\": \"site-1\"}");
        }

        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(body.Version))
        {
            problems.Add("version is required");
        }

        if (body.Percentage is not { } pct || double.IsNaN(pct) || pct <= 0 || pct >= 100)
        {
            problems.Add($"percentage must be more than 0 and less than 100, got {body.Percentage?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        }

        var site = body.SiteId ?? cloud.Value.SiteId;
        if (!FleetTopics.IsValidId(site))
        {
            problems.Add($"siteId '{site}' must be 1-64 of [A-Za-z0-9_-]");
        }

        if (problems.Count > 0)
        {
            return Bad(string.Join("; ", problems));
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"ro-{time.GetUtcNow():yyyyMMdd-HHmmss}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        return await Refusable(async () =>
        {
            var state = await grains.GetGrain<IRolloutGrain>(id).StartAsync(new RolloutStart(site, body.Version!, body.Percentage!.Value, Actor(http)));
            return Results.Json(state, RolloutJson.Default.RolloutState, statusCode: 201);
        });
    }

    private static async Task<IResult> Refusable(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (RolloutRefusedException ex)
        {
            return Results.Problem(statusCode: ex.StatusCode, title: "rollout refused", detail: ex.Message);
        }
    }

    private static async Task<byte[]> ReadAsync(IFormFile file)
    {
        using var stream = new MemoryStream((int)file.Length);
        await file.CopyToAsync(stream);
        return stream.ToArray();
    }

    private static string Actor(HttpContext http) => http.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : "unauthenticated";

    private static IResult Bad(string detail) => Results.Problem(statusCode: 400, title: "bad request", detail: detail);

    private sealed class CheckValidator : IValidateOptions<RolloutOptions>
    {
        public ValidateOptionsResult Validate(string? name, RolloutOptions options) =>
            options.Check() is { } failure ? ValidateOptionsResult.Fail("Cloud." + failure) : ValidateOptionsResult.Success;
    }
}
