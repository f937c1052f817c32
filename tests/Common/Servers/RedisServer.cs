using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace WarehouseHybrid.Tests.Common.Servers;

/// <summary>
/// A real redis-server 7 on a loopback port (bound to 127.0.0.1 explicitly: it binds every interface otherwise),
/// no snapshots; ready when it answers PING with PONG.
/// </summary>
internal sealed class RedisServer : ServerProcess
{
    /// <summary>Creates (does not start) a server on a free port, or on <paramref name="port"/>.</summary>
    public RedisServer(int? port = null)
        : base("redis", port)
    {
    }

    /// <summary>Whether redis-server is installed (./test.sh installs it).</summary>
    public static bool Available => FindExecutable("redis-server") is not null;

    /// <summary>The StackExchange.Redis style connection string.</summary>
    public string ConnectionString => $"{Host}:{Port}";

    /// <summary>Creates and starts a server.</summary>
    public static async Task<RedisServer> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var server = new RedisServer();
        try
        {
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    protected override ProcessStartInfo CreateStartInfo()
    {
        var exe = FindExecutable("redis-server") ?? throw new InvalidOperationException("redis-server is not installed (./test.sh installs it: NEED[redis-server]=redis-server)");
        var psi = new ProcessStartInfo(exe);
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", Host, "--save", string.Empty, "--appendonly", "no", "--dir", Directory, "--protected-mode", "yes" })
        {
            psi.ArgumentList.Add(arg);
        }

        return psi;
    }

    /// <inheritdoc />
    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(Host, Port, cts.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
            var buffer = new byte[64];
            var n = await stream.ReadAsync(buffer, cts.Token);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
