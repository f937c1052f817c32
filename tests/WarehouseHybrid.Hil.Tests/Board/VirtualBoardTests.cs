using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Hil.Board;
using WarehouseHybrid.Hil.Tests.World;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Hil.World;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Board;

public sealed class VirtualBoardTests
{
    private static MotorCommand Forward(double v, ushort timeoutMs = 60_000) => new() { LinearMps = (float)v, TimeoutMs = timeoutMs };

    private static (SimWorld World, VirtualBoard Board, DaemonSide Daemon, WorldDriver Driver, InMemorySerialPair Pair) Rig(
        VirtualBoardOptions? options = null)
    {
        var world = new SimWorld(TestMaps.Open(12, 3));
        var r = world.AddRobot("r0", world.Map.CellAt(1, 1), Heading.East);
        var pair = InMemorySerialPair.Create();
        var board = new VirtualBoard(pair.BoardEnd, world, r, options);
        var driver = new WorldDriver(world, [board]);
        return (world, board, new DaemonSide(pair.DaemonEnd), driver, pair);
    }

    [Fact]
    public async Task Commands_written_on_the_daemon_end_move_the_robot_and_sensor_frames_show_the_motion()
    {
        var (world, board, daemon, driver, pair) = Rig();
        await using var _ = board;
        using var __ = pair;
        board.StartReceiving();

        daemon.Send(Forward(1.0));
        Eventually.True(() => board.Stats.CommandsApplied == 1, "the board applied the command");
        driver.RunSteps(100); // 1 s of world time at 10 ms

        var frames = daemon.Drain();
        var sensors = frames.Where(f => f.Type == BoardMessageType.SensorFrame).Select(f => f.Sensor).ToList();
        Assert.Equal(50, sensors.Count); // 50 Hz for 1 s
        Assert.Equal(4, frames.Count(f => f.Type == BoardMessageType.Heartbeat)); // 4 Hz (protocol section 6)
        Assert.Equal(0, daemon.Decoder.Stats.FramesRejected);
        Assert.Equal(0, daemon.Decoder.Stats.SequenceGaps);

        Assert.True(sensors.Zip(sensors.Skip(1)).All(p => p.Second.BoardTimeMs - p.First.BoardTimeMs == 20));
        Assert.True(sensors.Zip(sensors.Skip(1)).All(p => p.Second.LeftTicks >= p.First.LeftTicks));
        var last = sensors[^1];
        var truth = world.GetRobot(0);
        Assert.InRange(last.LeftTicks, truth.LeftTicks - 41, truth.LeftTicks); // within one 20 ms frame of travel
        Assert.InRange(last.LeftTicks, 0.45 * world.Options.TicksPerMetre, 0.5 * world.Options.TicksPerMetre);
        Assert.InRange(last.LeftWheelMps, 0.9f, 1.0f);
        Assert.False(last.Flags.HasFlag(SensorFlags.Braked));
        Assert.Equal(BoardStatus.Ok, last.Status);
    }

    [Fact]
    public void The_board_reports_a_watchdog_expiry_once_when_commands_stop()
    {
        var (world, board, daemon, driver, _) = Rig();
        board.ProcessReceived(Encode(Forward(1.0, timeoutMs: 100)));
        driver.RunSteps(50);

        var faults = daemon.Drain().Where(f => f.Type == BoardMessageType.BoardFault).Select(f => f.Fault).ToList();
        var fault = Assert.Single(faults);
        Assert.Equal(BoardFaultCodes.CommandWatchdogExpired, fault.Code);
        Assert.Equal(1, fault.Severity);
        Assert.True(world.GetRobot(0).Braked);
    }

    [Fact]
    public void A_severity_two_fault_latches_the_brake_until_the_daemon_clears_it_at_rest()
    {
        var (world, board, daemon, driver, _) = Rig();
        board.ReportFault(BoardFaultCodes.LeftMotorOverCurrent, 2);
        Assert.Equal(BoardStatus.Faulted, board.Status);

        board.ProcessReceived(Encode(Forward(1.0)));
        driver.RunSteps(50);
        Assert.Equal(1.5, world.GetRobot(0).X, 9); // commands ignored while faulted
        var frames = daemon.Drain();
        Assert.Contains(frames, f => f.Type == BoardMessageType.BoardFault && f.Fault.Code == BoardFaultCodes.LeftMotorOverCurrent && f.Fault.Severity == 2);
        Assert.Equal(BoardStatus.Faulted, frames.Last(f => f.Type == BoardMessageType.SensorFrame).Sensor.Status);

        board.ProcessReceived(Encode(new MotorCommand { Flags = MotorFlags.ClearFault, TimeoutMs = 60_000 }));
        Assert.Equal(BoardStatus.Ok, board.Status);
        board.ProcessReceived(Encode(Forward(1.0)));
        driver.RunSteps(50);
        Assert.True(world.GetRobot(0).X > 1.6);
    }

    [Fact]
    public void Emergency_stop_shows_in_the_flags_and_is_reported()
    {
        var (_, board, daemon, driver, _) = Rig();
        board.SetEmergencyStop(true);
        driver.RunSteps(2);
        var frames = daemon.Drain();
        Assert.Contains(frames, f => f.Type == BoardMessageType.BoardFault && f.Fault.Code == BoardFaultCodes.EmergencyStopEngaged);
        Assert.True(frames.Last(f => f.Type == BoardMessageType.SensorFrame).Sensor.Flags.HasFlag(SensorFlags.EmergencyStop));
    }

    [Fact]
    public void Garbage_from_the_daemon_is_counted_and_the_next_good_command_still_applies()
    {
        var (world, board, _, _, _) = Rig();
        byte[] garbage = [0x13, 0x37, 0x42, 0x00, 0x01, 0x02, 0x00];
        Assert.Equal(1, board.ProcessReceived([.. garbage, .. Encode(Forward(0.5))]));
        Assert.True(board.DecoderStats.FramesRejected >= 1);
        Assert.Equal(0.5f, board.LastCommand?.LinearMps);
        Assert.Equal(1, board.Stats.CommandsApplied);
        Assert.False(world.GetRobot(0).WatchdogExpired);
    }

    [Fact]
    public void Commands_split_across_reads_are_reassembled()
    {
        var (_, board, _, _, _) = Rig();
        var bytes = Encode(Forward(0.25));
        Assert.Equal(0, board.ProcessReceived(bytes.AsSpan(0, 3)));
        Assert.Equal(1, board.ProcessReceived(bytes.AsSpan(3)));
        Assert.Equal(0.25f, board.LastCommand?.LinearMps);
    }

    [Fact]
    public async Task When_the_daemon_closes_the_line_the_board_stops_sending_without_throwing()
    {
        var (_, board, _, driver, pair) = Rig();
        board.StartReceiving();
        pair.DaemonEnd.Dispose();
        await board.Receiving.WaitAsync(TimeSpan.FromSeconds(5)); // end of stream ends the loop
        driver.RunSteps(10);
        Assert.True(board.LinkDown);
        Assert.Equal(1, board.Stats.WriteFailures);
        await board.DisposeAsync();
    }

    [Fact]
    public void Heartbeats_from_the_daemon_are_counted()
    {
        var (_, board, _, _, _) = Rig();
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        var n = SerialFrameEncoder.Encode(new Heartbeat { UptimeMs = 5 }, 0, buffer);
        board.ProcessReceived(buffer.AsSpan(0, n));
        Assert.Equal(1, board.Stats.HeartbeatsReceived);
    }

    private static byte[] Encode(MotorCommand command)
    {
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        return buffer[..SerialFrameEncoder.Encode(command, 0, buffer)];
    }
}
