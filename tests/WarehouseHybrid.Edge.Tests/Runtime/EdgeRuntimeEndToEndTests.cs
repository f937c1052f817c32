using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;

using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Runtime;

/// <summary>One EdgeRuntime, a test-double board over the in-memory serial line, and a real in-process MQTTnet broker.</summary>
public sealed class EdgeRuntimeEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Robot_reaches_the_target_cell_of_a_plan_segment_sent_over_mqtt_and_confirms_it_in_telemetry()
    {
        await using var broker = await TestBroker.StartAsync();
        await broker.SubscribeAsync(FleetTopics.Telemetry("site-a", "robot-7"));
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        var options = new EdgeOptions
        {
            RobotId = "robot-7", SiteId = "site-a", MqttHost = "127.0.0.1", MqttPort = broker.Port,
            MapWidth = 10, MapHeight = 10, StartCell = 11, StartHeading = WarehouseHybrid.Domain.Grid.Heading.East,
            ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        };
        await using var runtime = new EdgeRuntime(options, line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        board.Start();
        await Eventually.UntilAsync(() => runtime.GetStatus().Cloud.Connects >= 1, Timeout, "the robot to connect to the broker and subscribe");

        var segment = Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East));
        segment.RobotId = "robot-7";
        await broker.PublishAsync(FleetTopics.Plan("site-a", "robot-7"), segment);

        await Eventually.UntilAsync(
            () => broker.Received.Any(m => Telemetry.Parser.ParseFrom(m.Payload) is { Progress.LastCompletedStep: 1, Pose.Cell: 12 }),
            Timeout,
            "telemetry confirming step 1 at cell 12");
        Assert.InRange(board.Robot.X, 2.45, 2.55);
        Assert.InRange(board.Robot.Y, 1.45, 1.55);
        var status = runtime.GetStatus();
        Assert.Equal(1u, status.LastCompletedStep);
        Assert.Equal(DecisionMode.Rule, status.Mode);
        Assert.True(status.Serial.CommandsWritten > 0);

        await runtime.StopAsync();
        Assert.False(runtime.GetStatus().Running);
        await Eventually.UntilAsync(() => board.LastCommandWasBrake, Timeout, "the brake command at shutdown");
    }
}

/// <summary>A virtual board: reads motor commands, steps the physics at 50 Hz, writes sensor frames.</summary>
internal sealed class BoardDouble : IDisposable
{
    private readonly Stream _stream;
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _gate = new();
    private Thread? _reader;
    private Task? _stepper;
    private byte[]? _garbage;

    public BoardDouble(Stream stream, KinematicRobot robot)
    {
        _stream = stream;
        Robot = robot;
    }

    public KinematicRobot Robot { get; }

    public bool LastCommandWasBrake { get; private set; }

    /// <summary>Bytes written on the line before the next sensor frame (garbage, bit errors).</summary>
    public byte[]? NextGarbage
    {
        get => Volatile.Read(ref _garbage);
        set => Volatile.Write(ref _garbage, value);
    }

    public void Start()
    {
        _reader = new Thread(ReadCommands) { IsBackground = true, Name = "board-double-read" };
        _reader.Start();
        _stepper = Task.Run(StepAsync);
    }

    public void Dispose()
    {
        _cts.Cancel();
        try
        {
            _stepper?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stream.Dispose();
        _reader?.Join(TimeSpan.FromSeconds(5));
        _cts.Dispose();
    }

    private void ReadCommands()
    {
        var decoder = new SerialFrameDecoder();
        var buffer = new byte[512];
        try
        {
            while (true)
            {
                var n = _stream.Read(buffer, 0, buffer.Length);
                if (n == 0)
                {
                    return;
                }

                ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
                while (decoder.TryDecode(ref input, out var frame))
                {
                    if (frame.Type == BoardMessageType.MotorCommand)
                    {
                        lock (_gate)
                        {
                            Robot.Command(frame.Motor);
                        }

                        LastCommandWasBrake = (frame.Motor.Flags & MotorFlags.Brake) != 0;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or IOException)
        {
            // The line went away (unplugged pty, disposed stream).
        }
    }

    private async Task StepAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        ushort seq = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_cts.Token))
            {
                SensorFrame frame;
                lock (_gate)
                {
                    Robot.Step(0.02);
                    frame = Robot.Frame();
                }

                if (Interlocked.Exchange(ref _garbage, null) is { } garbage)
                {
                    _stream.Write(garbage);
                }

                var n = SerialFrameEncoder.Encode(frame, seq++, buffer);
                _stream.Write(buffer, 0, n);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }
}
