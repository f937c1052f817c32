using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Serial;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Hosting;

/// <summary>The daemon's real host wiring (<see cref="DaemonHost"/>), started in-process.</summary>
public sealed class DaemonHostTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static IHost Build(params string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        return DaemonHost.Configure(builder, etcConfigFile: Path.Combine(AppContext.BaseDirectory, "no-such-etc.json")).Build();
    }

    [Theory]
    [InlineData("--Daemon:SerialBaudRate=12345", "Daemon:SerialBaudRate")]
    [InlineData("--Daemon:SiteZones:0=dock:5,5,1,1", "Daemon:SiteZones:0")]
    [InlineData("--Edge:SensorStaleAfter=00:00:30", "Edge:SensorStaleAfter")]
    [InlineData("--Edge:RobotId=robot/1", "Edge:RobotId")]
    public async Task A_bad_option_stops_the_daemon_at_start_with_an_error_naming_it(string arg, string option)
    {
        using var host = Build(arg, "--Edge:CloudLinkEnabled=false");
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_daemon_runs_on_a_pty_and_writes_a_health_file_that_the_health_command_accepts()
    {
        using var pty = SocatPtyPair.Start();
        var health = Path.Combine(Path.GetTempPath(), "wh-daemon-health-" + Guid.NewGuid().ToString("N")[..12] + ".json");
        try
        {
            using var host = Build(
                $"--Edge:SerialDevicePath={pty.DaemonPath}", "--Edge:CloudLinkEnabled=false", "--Daemon:SiteSensorsEnabled=false",
                $"--Daemon:HealthFile={health}", "--Daemon:HealthCheckInterval=00:00:00.050");
            await host.StartAsync();
            var daemon = host.Services.GetRequiredService<EdgeDaemonService>();
            Assert.Equal(BoardLinkState.Connected, daemon.Runtime!.GetStatus().Board);

            await Eventually.UntilAsync(() => HealthTicks(health) > 0, Timeout, "a health file with loop ticks");

            // No board talks on the other end: after Edge:SensorStaleAfter the link reports silence, the daemon is degraded.
            await Eventually.UntilAsync(() => HealthCommand.Run([health], new StringWriter(), TimeProvider.System) == 1, Timeout, "the health command to report the silent board");
            Assert.True(daemon.Runtime.BoardSilent);
            await host.StopAsync();
            using var doc = JsonDocument.Parse(File.ReadAllBytes(health));
            Assert.Equal("stopping", doc.RootElement.GetProperty("phase").GetString());
        }
        finally
        {
            File.Delete(health);
        }
    }

    private static long HealthTicks(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.TryGetProperty("loop", out var loop) ? loop.GetProperty("ticks").GetInt64() : 0;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return 0;
        }
    }
}
