using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WarehouseHybrid.Hil.Daemons;

namespace WarehouseHybrid.Hil.Tests.Daemons;

/// <summary>The rig's TCP proxy on loopback: bytes pass in order, latency is added, a partition drops and refuses.</summary>
public sealed class TcpProxyTests
{
    [Fact]
    public async Task Bytes_pass_in_order_with_the_added_latency_and_a_partition_cuts_the_connection()
    {
        using var upstream = new TcpListener(IPAddress.Loopback, 0);
        upstream.Start();
        await using var proxy = new TcpProxy(((IPEndPoint)upstream.LocalEndpoint).Port, seed: 1) { Latency = TimeSpan.FromMilliseconds(150) };
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        using var server = await upstream.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var sent = Stopwatch.StartNew();
        await client.GetStream().WriteAsync(new byte[] { 1, 2, 3, 4, 5 });
        var got = new byte[5];
        await server.GetStream().ReadExactlyAsync(got).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([1, 2, 3, 4, 5], got);
        Assert.True(sent.Elapsed >= TimeSpan.FromMilliseconds(140), $"arrived after {sent.Elapsed.TotalMilliseconds:F0} ms");

        proxy.Partitioned = true;
        Assert.True(await ClosedAsync(server), "the broker side sees the connection end");

        using var again = new TcpClient();
        await again.ConnectAsync(IPAddress.Loopback, proxy.Port); // accepted, then closed at once while partitioned
        Assert.True(await ClosedAsync(again), "a new connection is refused while partitioned");
    }

    [Fact]
    public async Task A_held_proxy_keeps_open_connections_refuses_new_ones_and_forwards_again_when_released()
    {
        using var upstream = new TcpListener(IPAddress.Loopback, 0);
        upstream.Start();
        await using var proxy = new TcpProxy(((IPEndPoint)upstream.LocalEndpoint).Port, seed: 2);
        using var open = new TcpClient();
        await open.ConnectAsync(IPAddress.Loopback, proxy.Port);
        using var openServer = await upstream.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));

        proxy.Held = true;
        using var refused = new TcpClient();
        await refused.ConnectAsync(IPAddress.Loopback, proxy.Port);
        Assert.True(await ClosedAsync(refused), "a new connection is refused while held");

        // The connection opened before the hold still carries bytes.
        await open.GetStream().WriteAsync(new byte[] { 7 });
        var one = new byte[1];
        await openServer.GetStream().ReadExactlyAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(7, one[0]);

        proxy.Held = false;
        using var later = new TcpClient();
        await later.ConnectAsync(IPAddress.Loopback, proxy.Port);
        using var laterServer = await upstream.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await later.GetStream().WriteAsync(new byte[] { 9 });
        await laterServer.GetStream().ReadExactlyAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(9, one[0]);
    }

    private static async Task<bool> ClosedAsync(TcpClient client)
    {
        try
        {
            return await client.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) == 0;
        }
        catch (IOException)
        {
            return true; // reset
        }
    }
}
