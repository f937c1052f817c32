using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Metrics;
using WarehouseHybrid.Edge.Tests.Models;
using WarehouseHybrid.Edge.Tests.Serial;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Hosting;

/// <summary>The daemon from its real host wiring with audit, metrics and site sensors configured from the command line.</summary>
[Collection(MeterListeningCollection.Name)]
public sealed class DaemonObservabilityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_daemon_serves_metrics_on_loopback_audits_into_a_verifiable_chain_and_reports_missing_site_sensors_as_stale()
    {
        using var pty = SocatPtyPair.Start();
        using var state = new TempDirectory();
        var health = state.File("health.json");
        var audit = state.File("audit");
        var metricsPort = FreePort.Next();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args =
            [
                $"--Edge:SerialDevicePath={pty.DaemonPath}", "--Edge:CloudLinkEnabled=false",
                "--Daemon:SiteSensorsEnabled=true", "--Edge:MqttHost=127.0.0.1", $"--Edge:MqttPort={FreePort.Next()}", // nobody listens there
                $"--Daemon:HealthFile={health}", "--Daemon:HealthCheckInterval=00:00:00.050",
                $"--Edge:Audit:Directory={audit}", "--Daemon:Metrics:Enabled=true", $"--Daemon:Metrics:Port={metricsPort}",
            ],
        });
        using (var host = DaemonHost.Configure(builder, etcConfigFile: Path.Combine(AppContext.BaseDirectory, "no-such-etc.json")).Build())
        {
            await host.StartAsync();
            var daemon = host.Services.GetRequiredService<EdgeDaemonService>();
            Assert.NotNull(daemon.MetricsEndpoint);

            await Eventually.UntilAsync(() => Health(health) is { } h && h.GetProperty("site").GetProperty("stale").GetBoolean(), Timeout, "the health file to report the missing site sensors");
            using (var doc = JsonDocument.Parse(File.ReadAllBytes(health)))
            {
                Assert.Contains("site sensors stale", doc.RootElement.GetProperty("status").GetString(), StringComparison.Ordinal);
                Assert.True(doc.RootElement.GetProperty("audit").GetProperty("headSeq").GetInt64() >= 0);
                Assert.Matches("^[0-9a-f]{64}$", doc.RootElement.GetProperty("audit").GetProperty("headHash").GetString());
            }

            using var http = new HttpClient { Timeout = Timeout };
            var text = await http.GetStringAsync(daemon.MetricsEndpoint!.Url);
            Assert.Contains("edge_control_ticks_total", text, StringComparison.Ordinal);
            Assert.Contains("edge_audit_records_total", text, StringComparison.Ordinal);
            Assert.StartsWith("http://127.0.0.1:", daemon.MetricsEndpoint.Url.ToString(), StringComparison.Ordinal);
            await host.StopAsync();
        }

        var output = new StringWriter();
        Assert.Equal(0, AuditCommand.Run(["verify", audit], output));
        Assert.Contains("ok:", output.ToString(), StringComparison.Ordinal);
    }

    private static JsonElement? Health(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.TryGetProperty("site", out _) ? doc.RootElement.Clone() : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }
}
