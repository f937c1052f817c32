using System.Net;
using System.Net.Sockets;

namespace WarehouseHybrid.Tests.Common;

/// <summary>Loopback ports for servers the tests start (never a fixed port: several test runs share a machine).</summary>
internal static class FreePort
{
    private static readonly HashSet<int> HandedOut = new();
    private static readonly Lock Gate = new();

    /// <summary>
    /// A loopback TCP port free right now (the OS picks it), never one this process has handed out before: the OS
    /// may give a port just closed to the next request, and a server given two such "free" ports (say its silo and
    /// HTTP ports) then fails to bind the second (seen in a CI run).
    /// </summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Gate)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException("no loopback port that this process has not handed out already, after 1000 tries");
    }
}
