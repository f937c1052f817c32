using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Hosting;

namespace WarehouseHybrid.Cloud.Api;

/// <summary>
/// The authorization policies of every HTTP endpoint of the silo. Endpoints (the task API here, the dashboard and
/// metrics of other folders) pick one with <c>RequireAuthorization(ApiPolicies.Read)</c>.
/// </summary>
public static class ApiPolicies
{
    /// <summary>The authentication scheme: API keys from configuration.</summary>
    public const string Scheme = "ApiKey";

    /// <summary>Reading (GET): a Read or Write key, or nobody when <c>Cloud:Http:Auth:AnonymousRead</c> is set.</summary>
    public const string Read = "cloud.read";

    /// <summary>Changing anything (task submission): a Write key, never anonymous.</summary>
    public const string Write = "cloud.write";

    /// <summary>The claim holding the key's role.</summary>
    public const string RoleClaim = ClaimTypes.Role;
}

/// <summary>The configured keys, held as SHA-256 digests only.</summary>
public sealed class ApiKeyStore
{
    private readonly (string Name, ApiRole Role, byte[] Digest)[] _keys;

    /// <summary>Takes the keys of <c>Cloud:Http:Auth:Keys</c>; plain keys are hashed here and not kept.</summary>
    public ApiKeyStore(IOptions<CloudOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _keys = options.Value.Http.Auth.Keys
            .Select(k => (k.Name, k.Role, string.IsNullOrEmpty(k.Sha256) ? Digest(k.Key!) : Convert.FromHexString(k.Sha256)))
            .ToArray();
        PlainKeys = options.Value.Http.Auth.Keys.Where(k => !string.IsNullOrEmpty(k.Key)).Select(k => k.Name).ToArray();
    }

    /// <summary>Names of keys configured in plain text (the host warns about them at start).</summary>
    public IReadOnlyList<string> PlainKeys { get; }

    /// <summary>Number of configured keys.</summary>
    public int Count => _keys.Length;

    /// <summary>The lower-case hex SHA-256 of a key, as <c>Cloud:Http:Auth:Keys:N:Sha256</c> takes it.</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(Digest(key));
    }

    /// <summary>Finds the key; compares every configured digest in constant time so timing tells nothing.</summary>
    public bool TryFind(string presented, out string name, out ApiRole role)
    {
        var digest = Digest(presented);
        name = string.Empty;
        role = ApiRole.Read;
        var found = false;
        foreach (var k in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, k.Digest) && !found)
            {
                (name, role, found) = (k.Name, k.Role, true);
            }
        }

        return found;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>
/// Authenticates <c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c> against <see cref="ApiKeyStore"/>.
/// No credentials: anonymous (the policy decides); wrong credentials: refused even where anonymous reads are allowed,
/// so a misconfigured client notices. 401 and 403 answer with a problem-details body saying what to send.
/// </summary>
internal sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyStore keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    internal const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Whether the request carries credentials of our kind (used to refuse anonymous access with a bad key).</summary>
    internal static bool HasCredentials(HttpRequest request) => ReadCredential(request) is not null;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadCredential(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!keys.TryFind(presented, out var name, out var role))
        {
            LogUnknownKey(Logger, Request.Method, Request.Path.Value ?? string.Empty, Context.Connection.RemoteIpAddress?.ToString() ?? "?");
            return Task.FromResult(AuthenticateResult.Fail("the API key is not known"));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(ApiPolicies.RoleClaim, role.ToString())],
            ApiPolicies.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiPolicies.Scheme)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"warehouse-hybrid\"";
        var detail = HasCredentials(Request)
            ? "The API key is not known."
            : "Send an API key as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'.";
        await Results.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Authentication required").ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var who = Context.User.Identity?.Name ?? "anonymous";
        var role = Context.User.FindFirst(ApiPolicies.RoleClaim)?.Value ?? "none";
        await Results.Problem(
            detail: $"The key '{who}' has role {role}; this request needs a Write key.",
            statusCode: StatusCodes.Status403Forbidden,
            title: "Not allowed").ExecuteAsync(Context);
    }

    private static string? ReadCredential(HttpRequest request)
    {
        var auth = request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = auth["Bearer ".Length..].Trim();
            return token.Length > 0 ? token : null;
        }

        var key = request.Headers[ApiKeyHeader].ToString().Trim();
        return key.Length > 0 ? key : null;
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Refused an unknown API key: {Method} {Path} from {Remote}")]
    private static partial void LogUnknownKey(ILogger logger, string method, string path, string remote);
}

/// <summary>Access a policy asks for: reading or writing.</summary>
/// <param name="Role">The least role that passes.</param>
internal sealed record ApiAccessRequirement(ApiRole Role) : IAuthorizationRequirement;

/// <summary>Passes a Read requirement for Read and Write keys (and for nobody when anonymous reads are on and no key was sent); Write only for Write keys.</summary>
internal sealed class ApiAccessHandler(IOptions<CloudOptions> options) : AuthorizationHandler<ApiAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiAccessRequirement requirement)
    {
        var claimed = context.User.FindFirst(ApiPolicies.RoleClaim)?.Value;
        if (claimed is not null && Enum.TryParse<ApiRole>(claimed, out var role) && role >= requirement.Role)
        {
            context.Succeed(requirement);
        }
        else if (requirement.Role == ApiRole.Read && options.Value.Http.Auth.AnonymousRead
            && context.User.Identity?.IsAuthenticated != true
            && !(context.Resource is HttpContext http && ApiKeyAuthenticationHandler.HasCredentials(http.Request)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
