using System.Net;

namespace WarehouseHybrid.Cloud.Hosting;

/// <summary>The silo's HTTP endpoint (section "Cloud:Http"): the task API and, beside it, the dashboard and metrics.</summary>
public sealed class HttpOptions
{
    /// <summary>Whether the silo serves HTTP at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Address Kestrel listens on; loopback by default (put a reverse proxy with TLS in front to expose it).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 lets the OS pick one (read the bound URL with <c>CloudHost.GetHttpAddress</c>).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Largest request body accepted, in bytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Who may read and write (API keys / bearer tokens).</summary>
    public HttpAuthOptions Auth { get; set; } = new();

    /// <summary>Names every bad setting (prefixed "Http.").</summary>
    public IEnumerable<string> Check()
    {
        if (!Enabled)
        {
            yield break;
        }

        if (!IPAddress.TryParse(BindAddress, out _))
        {
            yield return $"Http.BindAddress '{BindAddress}' is not an IP address";
        }

        if (Port is < 0 or > 65535)
        {
            yield return $"Http.Port must be 0-65535 (0 = any free port), got {Port}";
        }

        if (MaxRequestBodyBytes is < 1024 or > 64 * 1024 * 1024)
        {
            yield return $"Http.MaxRequestBodyBytes must be 1 KiB - 64 MiB, got {MaxRequestBodyBytes}";
        }

        foreach (var problem in Auth.Check())
        {
            yield return "Http." + problem;
        }
    }
}

/// <summary>Who may use the HTTP endpoints (section "Cloud:Http:Auth").</summary>
public sealed class HttpAuthOptions
{
    /// <summary>Whether reads (GET) work without credentials. Writes never do.</summary>
    public bool AnonymousRead { get; set; }

    /// <summary>The accepted API keys (sent as <c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c>).</summary>
    public List<ApiKeyOptions> Keys { get; set; } = new();

    /// <summary>Names every bad setting (prefixed "Auth.").</summary>
    public IEnumerable<string> Check()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Keys.Count; i++)
        {
            var k = Keys[i];
            var at = $"Auth.Keys[{i}]";
            if (k is null)
            {
                yield return $"{at} is empty";
                continue;
            }

            if (string.IsNullOrWhiteSpace(k.Name) || k.Name.Length > 64)
            {
                yield return $"{at}.Name must be 1-64 characters (it names the caller in logs)";
            }
            else if (!names.Add(k.Name))
            {
                yield return $"{at}.Name '{k.Name}' is used by another key";
            }

            if (!Enum.IsDefined(k.Role))
            {
                yield return $"{at}.Role '{k.Role}' must be Read or Write";
            }

            var hasKey = !string.IsNullOrEmpty(k.Key);
            var hasHash = !string.IsNullOrEmpty(k.Sha256);
            if (hasKey == hasHash)
            {
                yield return $"{at} must set exactly one of Key (plain text) and Sha256 (hex SHA-256 of the key; preferred)";
            }
            else if (hasKey && k.Key!.Length < 16)
            {
                yield return $"{at}.Key must be at least 16 characters, got {k.Key.Length}";
            }
            else if (hasHash && (k.Sha256!.Length != 64 || !k.Sha256.All(Uri.IsHexDigit)))
            {
                yield return $"{at}.Sha256 must be 64 hex digits (the SHA-256 of the key), got '{k.Sha256}'";
            }
        }
    }
}

/// <summary>What a key may do.</summary>
public enum ApiRole
{
    /// <summary>GET endpoints (task status, robots, sites, dashboard).</summary>
    Read = 0,

    /// <summary>Everything a reader may, plus submitting tasks.</summary>
    Write = 1,
}

/// <summary>One API key: who it is, what it may do, and the key itself or (better) its SHA-256.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The caller's name, as logs and the task records show it.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>What the key may do.</summary>
    public ApiRole Role { get; set; } = ApiRole.Read;

    /// <summary>The key in plain text (development; prefer <see cref="Sha256"/>).</summary>
    public string? Key { get; set; }

    /// <summary>Lower- or upper-case hex SHA-256 of the key's UTF-8 bytes (<c>WarehouseHybrid.Cloud hash-key</c> prints it).</summary>
    public string? Sha256 { get; set; }
}
