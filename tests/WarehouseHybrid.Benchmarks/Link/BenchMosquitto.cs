using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WarehouseHybrid.Benchmarks.Link;

/// <summary>A Mosquitto 2 child process on a free loopback port for the link benches (stopped by its pid).</summary>
internal sealed class BenchMosquitto : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wh-bench-mosquitto-").FullName;
    private Process? _process;

    public BenchMosquitto()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        Port = ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public int Port { get; }

    public async Task StartAsync()
    {
        var conf = Path.Combine(_dir, "mosquitto.conf");
        File.WriteAllLines(conf,
        [
            Environment.UserName == "root" ? "user root" : "# not root",
            $"listener {Port.ToString(CultureInfo.InvariantCulture)} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_queued_messages 1000000",
            "max_inflight_messages 256",
            "max_connections -1",
            $"log_dest file {Path.Combine(_dir, "mosquitto.log")}",
        ]);
        var exe = File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(conf);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("mosquitto did not start");
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (started.Elapsed < TimeSpan.FromSeconds(20) && !_process.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }

        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
