using System.Net.Sockets;
using System.Text;

namespace WarehouseHybrid.Edge.Tests.Hosting;

/// <summary>A unix datagram socket bound by the test where systemd's NOTIFY_SOCKET would be.</summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly string _dir;

    public NotifySocket()
    {
        _dir = Path.Combine(Path.GetTempPath(), "wh-notify-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
        SocketPath = Path.Combine(_dir, "notify");
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(SocketPath));
    }

    public string SocketPath { get; }

    /// <summary>Every datagram waiting now (non-blocking).</summary>
    public List<string> Drain()
    {
        var messages = new List<string>();
        var buffer = new byte[4096];
        while (_socket.Available > 0)
        {
            var n = _socket.Receive(buffer);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return messages;
    }

    public void Dispose()
    {
        _socket.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
