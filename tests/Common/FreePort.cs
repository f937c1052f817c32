using System.Net;
using System.Net.Sockets;

namespace WarehouseHybrid.Tests.Common;

/// <summary>Loopback ports for servers the tests start (never a fixed port: several test runs share a machine).</summary>
internal static class FreePort
{
    /// <summary>A loopback TCP port free right now (the OS picks it).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
