using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Tests.Serial;

public sealed class InMemorySerialPairTests
{
    [Fact]
    public void Bytes_flow_both_ways_in_order()
    {
        using var pair = InMemorySerialPair.Create();
        pair.BoardEnd.Write([1, 2, 3]);
        pair.BoardEnd.Write([4, 5]);
        pair.DaemonEnd.Write([9, 8, 7]);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, ReadExactly(pair.DaemonEnd, 5));
        Assert.Equal(new byte[] { 9, 8, 7 }, ReadExactly(pair.BoardEnd, 3));
    }

    [Fact]
    public async Task Concurrent_writer_and_reader_through_a_small_buffer_deliver_every_byte_in_order()
    {
        using var pair = InMemorySerialPair.Create(new InMemorySerialOptions { CapacityBytes = 97, DaemonToBoardOverflow = SerialOverflowMode.Block });
        var data = new byte[200_000];
        new Random(7).NextBytes(data);

        // A dedicated thread: the writer blocks synchronously on a full line, as a daemon's serial writer would.
        var writer = Task.Factory.StartNew(async () =>
        {
            var rnd = new Random(3);
            for (var i = 0; i < data.Length;)
            {
                var n = Math.Min(rnd.Next(1, 300), data.Length - i);
                if ((i & 1) == 0)
                {
                    pair.DaemonEnd.Write(data.AsSpan(i, n));
                }
                else
                {
                    await pair.DaemonEnd.WriteAsync(data.AsMemory(i, n));
                }

                i += n;
            }

            pair.DaemonEnd.Dispose();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

        var received = new MemoryStream();
        var buffer = new byte[61];
        int read;
        while ((read = await pair.BoardEnd.ReadAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        await writer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(data, received.ToArray());
    }

    [Fact]
    public async Task Disposing_one_end_ends_the_peers_pending_read_after_it_drains_what_was_sent()
    {
        var pair = InMemorySerialPair.Create();
        pair.BoardEnd.Write([42]);
        Assert.Equal(new byte[] { 42 }, ReadExactly(pair.DaemonEnd, 1));

        var pending = Task.Run(() => pair.DaemonEnd.Read(new byte[8], 0, 8));
        Assert.False(pending.IsCompleted);
        pair.BoardEnd.Write([43]);
        Assert.Equal(1, await pending.WaitAsync(TimeSpan.FromSeconds(5)));

        var ending = pair.DaemonEnd.ReadAsync(new byte[8]).AsTask();
        pair.BoardEnd.Dispose();
        Assert.Equal(0, await ending.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, pair.DaemonEnd.Read(new byte[8]));
    }

    [Fact]
    public void Writing_to_a_closed_peer_fails_with_IOException()
    {
        var pair = InMemorySerialPair.Create();
        pair.DaemonEnd.Dispose();
        Assert.Throws<IOException>(() => pair.BoardEnd.Write([1]));
        Assert.Throws<ObjectDisposedException>(() => pair.DaemonEnd.Write([1]));
    }

    [Fact]
    public void Drop_mode_loses_whole_writes_when_full_and_counts_them()
    {
        using var pair = InMemorySerialPair.Create(new InMemorySerialOptions { CapacityBytes = 10 });
        pair.BoardEnd.Write([1, 2, 3, 4, 5, 6]);
        pair.BoardEnd.Write([7, 8, 9, 10, 11]); // does not fit: dropped whole
        pair.BoardEnd.Write([12, 13, 14, 15]);  // fits exactly

        Assert.Equal(1, pair.BoardEnd.DroppedWrites);
        Assert.Equal(5, pair.BoardEnd.DroppedBytesWritten);
        Assert.Equal(10, pair.DaemonEnd.BytesToRead);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 12, 13, 14, 15 }, ReadExactly(pair.DaemonEnd, 10));
    }

    [Fact]
    public void Blocking_write_to_a_full_line_times_out_with_the_write_timeout()
    {
        using var pair = InMemorySerialPair.Create(new InMemorySerialOptions { CapacityBytes = 4 });
        pair.DaemonEnd.WriteTimeout = 20;
        pair.DaemonEnd.Write([1, 2, 3, 4]);
        Assert.Throws<TimeoutException>(() => pair.DaemonEnd.Write([5]));
    }

    [Fact]
    public void Read_with_a_timeout_and_no_data_throws_TimeoutException()
    {
        using var pair = InMemorySerialPair.Create();
        pair.DaemonEnd.ReadTimeout = 20;
        Assert.Throws<TimeoutException>(() => pair.DaemonEnd.Read(new byte[4]));
    }

    [Fact]
    public async Task Pending_async_read_honours_cancellation()
    {
        using var pair = InMemorySerialPair.Create();
        using var cts = new CancellationTokenSource();
        var read = pair.BoardEnd.ReadAsync(new byte[4], cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private static byte[] ReadExactly(Stream s, int count)
    {
        var buffer = new byte[count];
        s.ReadExactly(buffer);
        return buffer;
    }
}
