using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Serial;

public sealed class BoardLinkTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly InMemorySerialPair _line = InMemorySerialPair.Create();
    private readonly SensorSnapshotStore _store = new();
    private readonly BoardLink _link;

    public BoardLinkTests()
    {
        _link = new BoardLink(new ExistingStreamTransport(_line.DaemonEnd), _store, TimeProvider.System, NullLogger.Instance);
        _link.Start();
    }

    public void Dispose()
    {
        _link.Dispose();
        _line.Dispose();
    }

    private static byte[] Encode(SensorFrame frame, ushort seq)
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        var n = SerialFrameEncoder.Encode(frame, seq, buffer);
        return buffer[..n];
    }

    [Fact]
    public async Task Sensor_frames_reach_the_snapshot_and_garbage_between_them_is_counted()
    {
        var first = new KinematicRobot(1, 1, 0.5).Frame();
        var second = first;
        second.BoardTimeMs = 20;
        second.HeadingRad = 0.75f;

        _line.BoardEnd.Write(Encode(first, 1));
        _line.BoardEnd.Write([0x13, 0x37, 0xAB, 0xCD, 0xEF, 0x00]); // a run that is no frame
        _line.BoardEnd.Write(Encode(second, 2));

        await Eventually.UntilAsync(() => { _store.Read(out var s); return s.FrameCount == 2; }, Timeout, "two sensor frames");
        _store.Read(out var snap);
        Assert.Equal(0.75f, snap.Frame.HeadingRad);
        Assert.Equal(20u, snap.Frame.BoardTimeMs);
        Assert.Equal(2, _link.Counters.SensorFrames);
        await Eventually.UntilAsync(() => _link.Counters.Decoder.FramesRejected == 1, Timeout, "the garbage run to be counted");
    }

    [Fact]
    public async Task Motor_commands_come_out_as_decodable_frames_latest_first()
    {
        var received = new List<MotorCommand>();
        var reader = Task.Factory.StartNew(() =>
        {
            var decoder = new SerialFrameDecoder();
            var buffer = new byte[256];
            while (true)
            {
                var n = _line.BoardEnd.Read(buffer, 0, buffer.Length);
                if (n == 0)
                {
                    return;
                }

                ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
                while (decoder.TryDecode(ref input, out var frame))
                {
                    Assert.Equal(BoardMessageType.MotorCommand, frame.Type);
                    lock (received)
                    {
                        received.Add(frame.Motor);
                    }
                }
            }
        }, TaskCreationOptions.LongRunning);

        _link.Submit(new MotorCommand { LinearMps = 0.5f, AngularRadps = -0.25f, TimeoutMs = 200 });
        await Eventually.UntilAsync(() => { lock (received) { return received.Count >= 1; } }, Timeout, "a motor command frame");
        _link.Submit(new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = 200 });
        await Eventually.UntilAsync(() => { lock (received) { return received.Count >= 2; } }, Timeout, "the brake frame");

        lock (received)
        {
            Assert.Equal(0.5f, received[0].LinearMps);
            Assert.Equal(-0.25f, received[0].AngularRadps);
            Assert.Equal(MotorFlags.Brake, received[^1].Flags);
        }

        Assert.True(_link.Stop(Timeout));
        await reader.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Stream_ending_reports_disconnected_without_throwing()
    {
        var states = new List<BoardLinkState>();
        _link.StateChanged += s => { lock (states) { states.Add(s); } };

        _line.BoardEnd.Dispose();

        await Eventually.UntilAsync(() => _link.State == BoardLinkState.Disconnected, Timeout, "the link to report the stream end");
        Assert.Equal(1, _link.Counters.ReadFailures);
        _link.Submit(new MotorCommand { Flags = MotorFlags.Brake }); // writing to a dead line must not throw here
        Assert.True(_link.Stop(Timeout));
    }

    /// <summary>Reads motor commands from the board's end until the link stops.</summary>
    private Task<List<MotorCommand>> ReadCommandsAsync(List<MotorCommand> received) => Task.Factory.StartNew(() =>
    {
        var decoder = new SerialFrameDecoder();
        var buffer = new byte[256];
        while (true)
        {
            var n = _line.BoardEnd.Read(buffer, 0, buffer.Length);
            if (n == 0)
            {
                return received;
            }

            ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
            while (decoder.TryDecode(ref input, out var frame))
            {
                lock (received)
                {
                    received.Add(frame.Motor);
                }
            }
        }
    }, TaskCreationOptions.LongRunning);

    [Fact]
    public async Task An_urgent_brake_is_written_at_once_and_holds_until_a_decision_has_seen_its_frame()
    {
        var received = new List<MotorCommand>();
        var reader = ReadCommandsAsync(received);
        var brake = new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = 200 };
        var drive = new MotorCommand { LinearMps = 0.6f, TimeoutMs = 200 };

        _link.BrakeNow(brake, latchUntilFrame: 7);
        await Eventually.UntilAsync(() => { lock (received) { return received.Count == 1; } }, Timeout, "the urgent brake");

        _link.Submit(drive, basedOnFrame: 6); // decided before the dangerous frame: held as a brake
        await Eventually.UntilAsync(() => { lock (received) { return received.Count == 2; } }, Timeout, "the held command");
        _link.Submit(drive, basedOnFrame: 7); // decided on the dangerous frame or later: the decision stands
        await Eventually.UntilAsync(() => { lock (received) { return received.Count == 3; } }, Timeout, "the fresh decision");

        lock (received)
        {
            Assert.Equal([true, true, false], received.Select(c => (c.Flags & MotorFlags.Brake) != 0));
            Assert.Equal(0.6f, received[2].LinearMps);
        }

        Assert.Equal(1, _link.Counters.UrgentBrakes);
        Assert.Equal(1, _link.Counters.CommandsLatched);
        Assert.True(_link.Stop(Timeout));
        await reader.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_drive_command_queued_before_an_urgent_brake_never_follows_it_on_the_line()
    {
        var received = new List<MotorCommand>();
        var reader = ReadCommandsAsync(received);
        for (var round = 0; round < 200; round++)
        {
            // The round travels in the watchdog field so the board's side can tell whose command is whose.
            var tag = (ushort)(1000 + round);
            _link.Submit(new MotorCommand { LinearMps = 0.5f, TimeoutMs = tag }, basedOnFrame: (ulong)(2 * round));
            _link.BrakeNow(new MotorCommand { Flags = MotorFlags.Brake, TimeoutMs = tag }, latchUntilFrame: (ulong)((2 * round) + 1));
        }

        await Eventually.UntilAsync(() => _link.Counters.UrgentBrakes == 200, Timeout, "200 urgent brakes");
        Assert.True(_link.Stop(Timeout));
        await reader.WaitAsync(Timeout);

        // Whatever the interleaving of the writer thread and the urgent writes, a round's drive never comes after its brake.
        lock (received)
        {
            var brakeAt = new Dictionary<ushort, int>();
            for (var i = 0; i < received.Count; i++)
            {
                var c = received[i];
                if ((c.Flags & MotorFlags.Brake) != 0)
                {
                    brakeAt.TryAdd(c.TimeoutMs, i);
                }
                else
                {
                    Assert.False(brakeAt.ContainsKey(c.TimeoutMs), $"the drive of round {c.TimeoutMs - 1000} came after its urgent brake");
                }
            }

            Assert.Equal(200, brakeAt.Count);
        }
    }
}
