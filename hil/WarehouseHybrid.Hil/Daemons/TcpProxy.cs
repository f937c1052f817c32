using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>
/// A TCP proxy on loopback between one robot's daemon and the broker: adds latency and jitter to every chunk in
/// both directions (order kept), and partitions the robot (drops its connections and refuses new ones) on demand.
/// The daemon is pointed at <see cref="Port"/> instead of the broker, so it stays unmodified.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient A, TcpClient B)> _links = [];
    private readonly Lock _gate = new();
    private readonly Random _random;
    private readonly Task _accept;
    private long _latencyTicks;
    private long _jitterTicks;
    private volatile bool _partitioned;
    private volatile bool _held;

    /// <summary>Starts a proxy to 127.0.0.1:<paramref name="upstreamPort"/> on a free loopback port.</summary>
    public TcpProxy(int upstreamPort, int seed)
    {
        _upstreamPort = upstreamPort;
        _random = new Random(seed);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The port the daemon connects to.</summary>
    public int Port { get; }

    /// <summary>Connections accepted.</summary>
    public long Connections { get; private set; }

    /// <summary>Bytes forwarded both ways.</summary>
    public long BytesForwarded => Interlocked.Read(ref _bytes);

    private long _bytes;

    /// <summary>Added one-way latency.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    /// <summary>Uniform extra delay in [0, Jitter] per chunk.</summary>
    public TimeSpan Jitter
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _jitterTicks));
        set => Interlocked.Exchange(ref _jitterTicks, value.Ticks);
    }

    /// <summary>While true the robot is cut off: open connections are dropped and new ones refused.</summary>
    public bool Partitioned
    {
        get => _partitioned;
        set
        {
            _partitioned = value;
            if (value)
            {
                List<(TcpClient, TcpClient)> links;
                lock (_gate)
                {
                    links = [.. _links];
                    _links.Clear();
                }

                foreach (var (a, b) in links)
                {
                    a.Dispose();
                    b.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// While true new connections are refused and open ones kept (the rig holds the robots back after a broker
    /// restart until its observer is subscribed again; see <see cref="DaemonRig.RestartBrokerAsync"/>).
    /// </summary>
    public bool Held
    {
        get => _held;
        set => _held = value;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Partitioned = true;
        try
        {
            await _accept.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_partitioned || _held)
            {
                client.Dispose();
                continue;
            }

            var upstream = new TcpClient { NoDelay = true };
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                // The broker is down: the daemon sees its connection fail, as it would without the proxy.
                client.Dispose();
                upstream.Dispose();
                continue;
            }

            client.NoDelay = true;
            lock (_gate)
            {
                _links.Add((client, upstream));
            }

            Connections++;
            _ = PumpAsync(client, upstream);
            _ = PumpAsync(upstream, client);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var queue = Channel.CreateUnbounded<(long Due, byte[] Data)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = WriteLaterAsync(queue.Reader, to);
        var buffer = new byte[16 * 1024];
        var lastDue = 0L;
        try
        {
            var input = from.GetStream();
            while (true)
            {
                var n = await input.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                var delay = Latency.Ticks + (long)(Jitter.Ticks * NextDouble());
                var due = Math.Max(lastDue, TimeProvider.System.GetTimestamp() + (delay * TimeProvider.System.TimestampFrequency / TimeSpan.TicksPerSecond));
                lastDue = due;
                await queue.Writer.WriteAsync((due, buffer[..n]), _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // a side closed, or the proxy partitioned or stopped the link
        }

        queue.Writer.TryComplete();
        await writer.ConfigureAwait(false);
        from.Dispose();
        to.Dispose();
    }

    private async Task WriteLaterAsync(ChannelReader<(long Due, byte[] Data)> reader, TcpClient to)
    {
        try
        {
            var output = to.GetStream();
            await foreach (var (due, data) in reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                var wait = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
                }

                await output.WriteAsync(data, _stop.Token).ConfigureAwait(false);
                Interlocked.Add(ref _bytes, data.Length);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            to.Dispose();
        }
    }

    private double NextDouble()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}
