using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using Xunit.Abstractions;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Serial;

/// <summary>The board link over a real pseudo-terminal pair (socat child process): the daemon's serial path end to end.</summary>
public sealed class PtyBoardLinkTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly BoardLinkSettings FastSettings = new(
        TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(1));

    private readonly SocatPtyPair _pty = SocatPtyPair.Start();
    private readonly SensorSnapshotStore _store = new();
    private readonly ITestOutputHelper _output;
    private readonly BoardLink _link;

    public PtyBoardLinkTests(ITestOutputHelper output)
    {
        _output = output;
        _link = new BoardLink(new TtyTransport(new TtyOptions(_pty.DaemonPath), TimeProvider.System), _store, TimeProvider.System, NullLogger.Instance, FastSettings);
    }

    public void Dispose()
    {
        _link.Dispose();
        _pty.Dispose();
    }

    internal static byte[] Encode(SensorFrame frame, ushort seq)
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        var n = SerialFrameEncoder.Encode(frame, seq, buffer);
        return buffer[..n];
    }

    private TtyStream OpenBoard() => TtyStream.Open(new TtyOptions(_pty.BoardPath), TimeProvider.System);

    private static SensorFrame Frame(uint boardMs)
    {
        var f = new KinematicRobot(1, 1, 0.5).Frame();
        f.BoardTimeMs = boardMs;
        return f;
    }

    [Fact]
    public async Task Frames_written_by_the_board_reach_the_snapshot_and_motor_commands_come_back_over_the_pty()
    {
        _link.Start();
        using var board = OpenBoard();
        Assert.Equal(BoardLinkState.Connected, _link.State);

        board.Write(Encode(Frame(10), 1));
        board.Write(Encode(Frame(30), 2));
        await Eventually.UntilAsync(() => { _store.Read(out var s); return s.FrameCount == 2; }, Timeout, "two frames over the pty");
        _store.Read(out var snap);
        Assert.Equal(30u, snap.Frame.BoardTimeMs);

        _link.Submit(new MotorCommand { LinearMps = 0.4f, AngularRadps = -0.1f, TimeoutMs = 200 });
        var command = ReadCommand(board, Timeout);
        Assert.Equal(0.4f, command.LinearMps);
        Assert.Equal(-0.1f, command.AngularRadps);
    }

    [Fact]
    public async Task Garbage_and_bit_errors_on_the_line_are_counted_and_the_next_frame_still_arrives()
    {
        _link.Start();
        using var board = OpenBoard();
        var corrupted = Encode(Frame(10), 1);
        corrupted[corrupted.Length / 2] ^= 0x10; // one flipped bit inside the frame
        board.Write(corrupted);
        board.Write([0xde, 0xad, 0xbe, 0xef, 0x00]);
        board.Write(Encode(Frame(20), 2));

        await Eventually.UntilAsync(() => _link.Counters.SensorFrames == 1, Timeout, "the clean frame after the garbage");
        await Eventually.UntilAsync(() => _link.Counters.Decoder.FramesRejected == 2, Timeout, "two rejected frames");
        _store.Read(out var snap);
        Assert.Equal(20u, snap.Frame.BoardTimeMs);
    }

    [Fact]
    public async Task Unplugging_the_pty_disconnects_and_the_link_reopens_the_same_path_when_it_comes_back()
    {
        _link.Start();
        var board = OpenBoard();
        board.Write(Encode(Frame(10), 1));
        await Eventually.UntilAsync(() => _link.Counters.SensorFrames == 1, Timeout, "the first frame");

        _pty.Unplug();
        board.Dispose();
        await Eventually.UntilAsync(() => _link.State == BoardLinkState.Disconnected, Timeout, "the link to see the hang-up");
        await Eventually.UntilAsync(() => _link.Counters.OpenFailures >= 2, Timeout, "reopen attempts while the device is gone");

        // Commands while unplugged are dropped, never block the caller.
        var submit = Stopwatch.StartNew();
        _link.Submit(new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = 200 });
        Assert.True(submit.ElapsedMilliseconds < 1000, $"submit took {submit.ElapsedMilliseconds} ms"); // blocking would mean seconds

        var replugged = Stopwatch.StartNew();
        _pty.Replug();
        await Eventually.UntilAsync(() => _link.State == BoardLinkState.Connected, Timeout, "the link to reopen the replugged pty");
        var reconnectMs = replugged.Elapsed.TotalMilliseconds;
        _output.WriteLine($"replug -> connected {reconnectMs:F0} ms (backoff {FastSettings.ReconnectDelay.TotalMilliseconds}-{FastSettings.MaxReconnectDelay.TotalMilliseconds} ms), downtime {_link.LastDowntime!.Value.TotalMilliseconds:F0} ms, open failures {_link.Counters.OpenFailures}");
        Assert.Equal(1, _link.Counters.Reconnects);
        Assert.NotNull(_link.LastDowntime);
        Assert.True(reconnectMs < FastSettings.MaxReconnectDelay.TotalMilliseconds + 5000, $"reconnect took {reconnectMs} ms");

        using var board2 = OpenBoard();
        board2.Write(Encode(Frame(40), 2));
        await Eventually.UntilAsync(() => _link.Counters.SensorFrames == 2, Timeout, "a frame on the new session");
        _link.Submit(new MotorCommand { LinearMps = 0.2f, TimeoutMs = 200 });
        Assert.Equal(0.2f, ReadCommand(board2, Timeout).LinearMps);
    }

    [Fact]
    public async Task A_silent_board_is_reported_within_the_timeout_and_cleared_by_the_next_frame()
    {
        _link.Start();
        using var board = OpenBoard();
        board.Write(Encode(Frame(10), 1));
        await Eventually.UntilAsync(() => _link.Counters.SensorFrames == 1, Timeout, "the first frame");
        Assert.False(_link.IsSilent);
        var episodes = _link.Counters.SilentEpisodes; // a loaded machine may have counted the wait for the first frame

        var silentSince = Stopwatch.StartNew();
        await Eventually.UntilAsync(() => _link.IsSilent, Timeout, "the silence to be detected");
        var detectedMs = silentSince.Elapsed.TotalMilliseconds;
        Assert.True(detectedMs < FastSettings.SilentAfter.TotalMilliseconds + 5000, $"silence detected after {detectedMs} ms");
        Assert.True(_link.SinceLastSensorFrame >= FastSettings.SilentAfter, "reported silent before the timeout");
        Assert.Equal(episodes + 1, _link.Counters.SilentEpisodes);
        Assert.Equal(BoardLinkState.Connected, _link.State);

        board.Write(Encode(Frame(500), 2));
        await Eventually.UntilAsync(() => !_link.IsSilent, Timeout, "the next frame to clear the silence");
    }

    [Fact]
    public async Task A_write_to_a_line_nobody_reads_fails_within_its_timeout_instead_of_hanging()
    {
        var options = new TtyOptions(_pty.DaemonPath, 115200, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(20));
        using var daemon = TtyStream.Open(options, TimeProvider.System);
        var chunk = new byte[4096];
        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<TimeoutException>(() =>
        {
            // The pty buffers and socat's relay fill up (nobody opened the board end), then the write must give up.
            for (var i = 0; i < 10_000; i++)
            {
                daemon.Write(chunk);
            }
        });
        Assert.Contains(_pty.DaemonPath, ex.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"write gave up after {watch.Elapsed}");

        // Closing the stuck stream does not hang either.
        await Task.Run(daemon.Dispose).WaitAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Opening_a_missing_device_names_the_path_and_the_os_error()
    {
        var missing = _pty.DaemonPath + "-missing";
        var ex = Assert.Throws<IOException>(() => TtyStream.Open(new TtyOptions(missing), TimeProvider.System));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
        Assert.Contains("open", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_returns_promptly_while_the_reader_is_blocked_on_a_quiet_line()
    {
        _link.Start();
        var watch = Stopwatch.StartNew();
        Assert.True(_link.Stop(TimeSpan.FromSeconds(2)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"stop took {watch.Elapsed}");
        Assert.Equal(BoardLinkState.Stopped, _link.State);
    }

    internal static MotorCommand ReadCommand(Stream board, TimeSpan timeout) => ReadCommandAsync(board).WaitAsync(timeout).GetAwaiter().GetResult();

    private static Task<MotorCommand> ReadCommandAsync(Stream board)
    {
        var decoder = new SerialFrameDecoder();
        var buffer = new byte[256];
        return Task.Run(() =>
        {
            while (true)
            {
                var n = board.Read(buffer, 0, buffer.Length);
                if (n == 0)
                {
                    throw new IOException("board end closed");
                }

                ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
                while (decoder.TryDecode(ref input, out var frame))
                {
                    if (frame.Type == BoardMessageType.MotorCommand)
                    {
                        return frame.Motor;
                    }
                }
            }
        });
    }
}
