using System.Globalization;
using System.Net.Sockets;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>
/// A real Mosquitto 2 broker run by the rig as a child process on a loopback port, with its own configuration in a
/// temporary directory. Queue limits are set deliberately (Mosquitto drops QoS 1 messages to slow subscribers with
/// its defaults). <see cref="StopAsync"/> and <see cref="StartAsync"/> on the same port make a broker outage.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    private readonly string _dir;
    private ChildProcess? _process;

    private MosquittoBroker(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    /// <summary>The loopback port (kept across restarts).</summary>
    public int Port { get; }

    /// <summary>Whether it runs.</summary>
    public bool IsRunning => _process is { IsRunning: true };

    /// <summary>Whether mosquitto is installed.</summary>
    public static bool Available => ChildProcess.Find("mosquitto") is not null;

    /// <summary>Prepares and starts a broker on a free loopback port.</summary>
    public static async Task<MosquittoBroker> StartNewAsync(string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var broker = new MosquittoBroker(directory, Broker.EmbeddedBroker.FreeLoopbackPort());
        await broker.StartAsync(cancellationToken).ConfigureAwait(false);
        return broker;
    }

    /// <summary>Starts the broker (again) and waits until it accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }

        var exe = ChildProcess.Find("mosquitto") ?? throw new InvalidOperationException("mosquitto is not installed (Debian package mosquitto)");
        var conf = Path.Combine(_dir, "mosquitto.conf");
        await File.WriteAllLinesAsync(conf,
        [
            "# written by the HIL rig",
            Environment.UserName == "root" ? "user root" : "# not root: no user switch",
            "per_listener_settings false",
            "persistence false",
            $"log_dest file {Path.Combine(_dir, "mosquitto.log")}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 100000",
            "max_inflight_messages 256",
            "allow_anonymous true",
            $"listener {Port.ToString(CultureInfo.InvariantCulture)} 127.0.0.1",
        ], cancellationToken).ConfigureAwait(false);
        _process = ChildProcess.Start("mosquitto", exe, ["-c", conf]);
        var deadline = TimeProvider.System.GetTimestamp();
        while (true)
        {
            if (!_process.IsRunning)
            {
                throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}: {_process.Output}");
            }

            if (await CanConnectAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (TimeProvider.System.GetElapsedTime(deadline) > TimeSpan.FromSeconds(20))
            {
                await _process.KillAsync().ConfigureAwait(false);
                throw new TimeoutException($"mosquitto did not listen on 127.0.0.1:{Port} within 20 s: {_process.Output}");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops it (SIGTERM to its pid): the broker outage.</summary>
    public async Task StopAsync()
    {
        if (_process is { } p)
        {
            _process = null;
            await p.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await p.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task<bool> CanConnectAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", Port, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
