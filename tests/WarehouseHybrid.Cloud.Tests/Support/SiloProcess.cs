using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using WarehouseHybrid.Tests.Common;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>
/// The real silo executable (WarehouseHybrid.Cloud.dll, run with <c>dotnet</c>) as a child process configured through
/// <c>Cloud__...</c> environment variables, with its own silo, gateway and HTTP ports. Ready when its HTTP API answers
/// (the silo is up behind it). <see cref="ServerProcess.KillAsync"/> ends it with SIGKILL by its pid.
/// </summary>
internal sealed class SiloProcess : ServerProcess
{
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly string _apiKey;

    public SiloProcess(string name, IReadOnlyDictionary<string, string> settings, string apiKey)
        : base("silo-" + name, FreePort.Next())
    {
        SiloName = name;
        SiloPort = FreePort.Next();
        GatewayPort = FreePort.Next();
        _settings = settings;
        _apiKey = apiKey;
    }

    public string SiloName { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public Uri HttpAddress => new($"http://{Host}:{Port}/");

    /// <summary>Whether an Orleans silo address (<c>S127.0.0.1:PORT:GENERATION</c>) is this process's silo.</summary>
    public bool IsSilo(string? siloAddress) => siloAddress is not null && siloAddress.Contains($":{SiloPort.ToString(CultureInfo.InvariantCulture)}:", StringComparison.Ordinal);

    public HttpClient Client()
    {
        var http = new HttpClient { BaseAddress = HttpAddress, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        return http;
    }

    protected override ProcessStartInfo CreateStartInfo()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "WarehouseHybrid.Cloud.dll");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = Directory };
        psi.ArgumentList.Add(dll);
        psi.Environment["DOTNET_gcServer"] = "0";
        psi.Environment["Cloud__Silo__SiloPort"] = SiloPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["Cloud__Silo__GatewayPort"] = GatewayPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["Cloud__Http__Port"] = Port.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in _settings)
        {
            psi.Environment[key] = value;
        }

        return psi;
    }

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (!await CanConnectAsync(cancellationToken))
        {
            return false;
        }

        try
        {
            using var http = Client();
            using var response = await http.GetAsync("api/sites", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
