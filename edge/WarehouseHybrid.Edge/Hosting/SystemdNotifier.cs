using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace WarehouseHybrid.Edge.Hosting;

/// <summary>
/// Sends sd_notify messages (READY=1, STATUS=..., WATCHDOG=1, STOPPING=1) as datagrams to the unix socket in
/// NOTIFY_SOCKET. Written here rather than taken from Microsoft.Extensions.Hosting.Systemd because that package
/// only acts when its parent process is systemd and never sends WATCHDOG=1 (../shared/PLATFORM.md); this one
/// works wherever NOTIFY_SOCKET points, so tests bind their own datagram socket. Sending never blocks for long
/// and never throws: a lost notification is logged by the caller, not fatal.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endpoint;
    private readonly Lock _gate = new();

    /// <summary>A notifier for the socket at <paramref name="socketPath"/> ('@' prefix: Linux abstract namespace).</summary>
    public SystemdNotifier(string socketPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        SocketPath = socketPath;
        _endpoint = new UnixDomainSocketEndPoint(socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { SendTimeout = 1000 };
    }

    /// <summary>The socket path from NOTIFY_SOCKET.</summary>
    public string SocketPath { get; }

    /// <summary>Messages sent successfully.</summary>
    public long Sent { get; private set; }

    /// <summary>Messages that could not be sent.</summary>
    public long Failed { get; private set; }

    /// <summary>The notifier for NOTIFY_SOCKET, or null when the variable is unset (not started by systemd with Type=notify).</summary>
    public static SystemdNotifier? FromEnvironment(Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        var path = getEnv("NOTIFY_SOCKET");
        return string.IsNullOrWhiteSpace(path) ? null : new SystemdNotifier(path);
    }

    /// <summary>
    /// The watchdog interval systemd expects pings within (WATCHDOG_USEC), or null when no watchdog is armed
    /// or WATCHDOG_PID names another process.
    /// </summary>
    public static TimeSpan? WatchdogInterval(Func<string, string?>? getEnv = null, int? processId = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        var usec = getEnv("WATCHDOG_USEC");
        if (string.IsNullOrEmpty(usec) || !long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var us) || us <= 0)
        {
            return null;
        }

        var pid = getEnv("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p != (processId ?? Environment.ProcessId)))
        {
            return null;
        }

        return TimeSpan.FromTicks(us * 10);
    }

    /// <summary>READY=1 with a status line.</summary>
    public bool Ready(string status) => Notify($"READY=1\nSTATUS={OneLine(status)}");

    /// <summary>WATCHDOG=1.</summary>
    public bool Watchdog() => Notify("WATCHDOG=1");

    /// <summary>STATUS=... (shown by systemctl status).</summary>
    public bool Status(string status) => Notify("STATUS=" + OneLine(status));

    /// <summary>STOPPING=1.</summary>
    public bool Stopping() => Notify("STOPPING=1");

    /// <summary>Sends one raw notification (newline-separated KEY=VALUE assignments).</summary>
    public bool Notify(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bytes = Encoding.UTF8.GetBytes(message);
        lock (_gate)
        {
            try
            {
                _socket.SendTo(bytes, SocketFlags.None, _endpoint);
                Sent++;
                return true;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                Failed++;
                return false;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();

    private static string OneLine(string text) => text.Replace('\n', ' ').Replace('\r', ' ');
}
