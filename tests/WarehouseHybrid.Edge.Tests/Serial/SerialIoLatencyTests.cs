using System.Diagnostics;
using System.IO.Ports;
using WarehouseHybrid.Edge.Serial;
using Xunit.Abstractions;

namespace WarehouseHybrid.Edge.Tests.Serial;

/// <summary>
/// Measures the daemon's serial path over a real socat pty pair, the raw <see cref="TtyStream"/> against
/// System.IO.Ports' SerialPort in the same run (numbers in docs/adr/0005-serial-io.md): 1-byte round trips through
/// an echoing board end, and one 64 KiB transfer.
/// </summary>
public sealed class SerialIoLatencyTests(ITestOutputHelper output) : IDisposable
{
    private const int RoundTrips = 300;
    private const int BulkBytes = 64 * 1024;
    private readonly SocatPtyPair _pty = SocatPtyPair.Start();

    public void Dispose() => _pty.Dispose();

    [Fact]
    [Trait("Category", "Measure")]
    public async Task Raw_tty_round_trip_and_bulk_transfer_are_at_least_as_fast_as_SerialPort()
    {
        var tty = await MeasureAsync("TtyStream", () => TtyStream.Open(new TtyOptions(_pty.DaemonPath), TimeProvider.System));
        var port = await MeasureAsync("SerialPort", () =>
        {
            var sp = new SerialPort(_pty.DaemonPath, 115200) { ReadTimeout = 2000, WriteTimeout = 2000 };
            sp.Open();
            return new SerialPortStream(sp);
        });

        // The raw stream must meet the budget the control loop needs (a 100 Hz tick is 10 ms).
        Assert.True(tty.P50Ms < 5, $"TtyStream median round trip {tty.P50Ms:F3} ms");
        Assert.True(tty.BulkMs < 1000, $"TtyStream 64 KiB in {tty.BulkMs:F1} ms");
        output.WriteLine($"ratio SerialPort/TtyStream p50 {port.P50Ms / tty.P50Ms:F2}, bulk {port.BulkMs / tty.BulkMs:F2}");
    }

    private async Task<(double P50Ms, double P99Ms, double BulkMs)> MeasureAsync(string name, Func<Stream> open)
    {
        using var board = TtyStream.Open(new TtyOptions(_pty.BoardPath), TimeProvider.System);
        using var daemon = open();
        var one = new byte[1];
        var echo = new byte[1];
        var samples = new double[RoundTrips];
        var echoTask = Task.Factory.StartNew(
            () =>
            {
                var b = new byte[1];
                for (var i = 0; i < RoundTrips + 5; i++)
                {
                    if (board.Read(b, 0, 1) != 1)
                    {
                        return;
                    }

                    board.Write(b, 0, 1);
                }
            },
            TaskCreationOptions.LongRunning);

        for (var i = 0; i < RoundTrips + 5; i++)
        {
            one[0] = (byte)i;
            var t0 = Stopwatch.GetTimestamp();
            daemon.Write(one, 0, 1);
            var n = daemon.Read(echo, 0, 1);
            var rtt = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            Assert.Equal(1, n);
            Assert.Equal(one[0], echo[0]);
            if (i >= 5)
            {
                samples[i - 5] = rtt; // first few warm up the JIT and socat
            }
        }

        await echoTask.WaitAsync(TimeSpan.FromSeconds(10));

        var payload = new byte[BulkBytes];
        Random.Shared.NextBytes(payload);
        var sink = Task.Factory.StartNew(
            () =>
            {
                var buffer = new byte[8192];
                var got = 0;
                while (got < BulkBytes)
                {
                    var n = board.Read(buffer, 0, buffer.Length);
                    if (n == 0)
                    {
                        break;
                    }

                    got += n;
                }

                return got;
            },
            TaskCreationOptions.LongRunning);
        var b0 = Stopwatch.GetTimestamp();
        daemon.Write(payload, 0, payload.Length);
        var received = await sink.WaitAsync(TimeSpan.FromSeconds(10));
        var bulk = Stopwatch.GetElapsedTime(b0).TotalMilliseconds;
        Assert.Equal(BulkBytes, received);

        Array.Sort(samples);
        var p50 = samples[samples.Length / 2];
        var p99 = samples[(int)(samples.Length * 0.99)];
        output.WriteLine($"{name}: 1-byte round trip p50 {p50:F3} ms, p99 {p99:F3} ms, max {samples[^1]:F3} ms; 64 KiB in {bulk:F2} ms");
        return (p50, p99, bulk);
    }

    /// <summary>SerialPort's BaseStream, closing the port with it.</summary>
    private sealed class SerialPortStream(SerialPort port) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => port.BaseStream.Flush();

        public override int Read(byte[] buffer, int offset, int count) => port.BaseStream.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => port.BaseStream.Write(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                port.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
