using System.Globalization;
using System.Net.Sockets;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>
/// A real Mosquitto 2 broker run by the rig as a child process on a loopback port, with its own configuration in a
/// temporary directory. Queue limits are set deliberately (Mosquitto drops QoS 1 messages to slow subscribers with
/// its defaults). Persistence is on, in the same directory: <see cref="StopAsync"/> (SIGTERM: Mosquitto writes its
/// database as it exits) and <see cref="StartAsync"/> on the same port, directory and configuration make a broker
/// outage that keeps the persistent sessions of the rig's observer and the silo's bridge and the QoS 1 messages
/// queued or in flight for them. <see cref="KillAsync"/> (SIGKILL) is a crash: what changed since the last autosave
/// (<see cref="AutosaveInterval"/>) is lost (docs/adr/0013-hil-rig.md).
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    /// <summary>
    /// How often Mosquitto writes its database while it runs (autosave_interval, by time). A graceful stop writes it
    /// anyway; this bounds what a SIGKILL loses. Saving by change count (autosave_on_changes) was measured to lose
    /// nearly nothing on SIGKILL but rewrites the whole database every few messages, which a fleet's telemetry rate
    /// makes a constant disk load; the rig's faults stop the broker gracefully.
    /// </summary>
    public static readonly TimeSpan AutosaveInterval = TimeSpan.FromSeconds(5);

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
        await broker.WriteConfigurationAsync(cancellationToken).ConfigureAwait(false);
        await broker.StartAsync(cancellationToken).ConfigureAwait(false);
        return broker;
    }

    /// <summary>The directory of its configuration, database (mosquitto.db) and log.</summary>
    public string DataDirectory => _dir;

    /// <summary>The configuration file, written once: every restart reads the same one.</summary>
    public string ConfigPath => Path.Combine(_dir, "mosquitto.conf");

    /// <summary>Starts the broker (again) and waits until it accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }

        var exe = ChildProcess.Find("mosquitto") ?? throw new InvalidOperationException("mosquitto is not installed (Debian package mosquitto)");
        _process = ChildProcess.Start("mosquitto", exe, ["-c", ConfigPath]);
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

    /// <summary>
    /// Stops it (SIGTERM to its pid) and waits for it to exit: Mosquitto saves its database on the way out, so the
    /// sessions and their queued messages are there when <see cref="StartAsync"/> brings it back. The broker outage.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { } p)
        {
            _process = null;
            await p.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await p.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Kills it (SIGKILL to its pid): a broker crash, which loses what changed since the last autosave.</summary>
    public async Task KillAsync()
    {
        if (_process is { } p)
        {
            _process = null;
            await p.KillAsync().ConfigureAwait(false);
            await p.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private Task WriteConfigurationAsync(CancellationToken cancellationToken) => File.WriteAllLinesAsync(ConfigPath,
    [
        "# written by the HIL rig",
        // As root, Mosquitto drops to the 'mosquitto' user, which could not write the rig's private directory.
        Environment.UserName == "root" ? "user root" : "# not root: no user switch",
        "per_listener_settings false",
        "persistence true",
        $"persistence_location {_dir}/",
        $"autosave_interval {AutosaveInterval.TotalSeconds.ToString(CultureInfo.InvariantCulture)}",
        $"log_dest file {Path.Combine(_dir, "mosquitto.log")}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "max_queued_messages 100000",
        "max_inflight_messages 256",
        "allow_anonymous true",
        $"listener {Port.ToString(CultureInfo.InvariantCulture)} 127.0.0.1",
    ], cancellationToken);

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
