using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Tasks;

namespace WarehouseHybrid.Cloud.Api;

/// <summary>
/// <c>POST /api/tasks</c> (submit; Write) and <c>GET /api/tasks/{id}</c> (status; Read). Validation errors are
/// 400 problem details with an <c>errors</c> map (field to messages); an <c>Idempotency-Key</c> used again with the
/// same body returns the first task (200, <c>Idempotent-Replayed: true</c>), with another body 422.
/// </summary>
internal static class TaskEndpoints
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public static void MapTaskEndpoints(this RouteGroupBuilder api)
    {
        api.MapPost("/tasks", SubmitAsync).RequireAuthorization(ApiPolicies.Write);
        api.MapGet("/tasks/{id}", GetAsync).RequireAuthorization(ApiPolicies.Read);
    }

    private static async Task<IResult> SubmitAsync(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return Results.Problem(
                detail: $"send the task as JSON (Content-Type: application/json), got '{request.ContentType ?? "none"}'",
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type");
        }

        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await request.Body.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }

        var parsed = TaskSubmissionJson.Parse(body);
        var errors = parsed.Errors.ToList();
        string? key = null;
        if (request.Headers.TryGetValue(IdempotencyKeyHeader, out var keys))
        {
            key = keys.ToString();
            var problem = keys.Count != 1 ? "must be given once" : TaskSubmissionJson.CheckIdempotencyKey(key);
            if (problem is not null)
            {
                errors.Add(new FieldError(IdempotencyKeyHeader, problem));
            }
        }

        if (errors.Count > 0 || parsed.Order is null || parsed.Site is null)
        {
            return Invalid(errors);
        }

        var order = parsed.Order with { IdempotencyKey = key, SubmittedBy = user.Identity?.Name ?? "anonymous" };
        var outcome = await grains.GetGrain<ISiteGrain>(parsed.Site).SubmitOrderAsync(order);
        switch (outcome.Status)
        {
            case SubmitStatus.Created:
                return Results.Created($"/api/tasks/{outcome.Task!.Id}", outcome.Task);
            case SubmitStatus.Replayed:
                request.HttpContext.Response.Headers[ReplayedHeader] = "true";
                return outcome.Task is null
                    ? Results.Problem(detail: "the key created a task that has been forgotten (older than the kept history)", statusCode: StatusCodes.Status410Gone, title: "Task forgotten")
                    : Results.Ok(outcome.Task);
            case SubmitStatus.KeyConflict:
                return Results.Problem(
                    detail: outcome.Errors.FirstOrDefault()?.Message,
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Idempotency key reused with a different request",
                    extensions: new Dictionary<string, object?> { ["errors"] = ErrorMap(outcome.Errors), ["taskId"] = outcome.Task?.Id });
            default:
                return Invalid(outcome.Errors);
        }
    }

    private static async Task<IResult> GetAsync(string id, IGrainFactory grains)
    {
        if (!TaskIds.TryParse(id, out var site, out var number))
        {
            return Results.Problem(detail: $"task id '{id}' must be {{site}}.{{number}}, as POST /api/tasks returned it", statusCode: StatusCodes.Status400BadRequest, title: "Bad task id");
        }

        var view = await grains.GetGrain<ISiteGrain>(site).GetTaskAsync(number);
        return view is null
            ? Results.Problem(detail: $"site '{site}' has no task {number} (never submitted, or ended long enough ago to be forgotten)", statusCode: StatusCodes.Status404NotFound, title: "Unknown task")
            : Results.Ok(view);
    }

    private static IResult Invalid(IEnumerable<FieldError> errors) =>
        Results.ValidationProblem(ErrorMap(errors), title: "The task submission is invalid", statusCode: StatusCodes.Status400BadRequest);

    private static Dictionary<string, string[]> ErrorMap(IEnumerable<FieldError> errors) =>
        errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal);
}
