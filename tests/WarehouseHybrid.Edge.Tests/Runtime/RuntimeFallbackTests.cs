using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Serial;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Runtime;

/// <summary>
/// The whole runtime through the fallback paths that need real I/O: the board's pty unplugged mid-step (socat killed),
/// garbage on the line, and the cloud lost mid-plan (the in-process MQTT broker stopped).
/// </summary>
public sealed class RuntimeFallbackTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static EdgeOptions Options(bool cloud, int port = 1883) => new()
    {
        RobotId = "robot-f", SiteId = "site-f", CloudLinkEnabled = cloud, MqttHost = "127.0.0.1", MqttPort = port,
        MapWidth = 10, MapHeight = 10, StartCell = 11, StartHeading = WarehouseHybrid.Domain.Grid.Heading.East,
        SensorStaleAfter = TimeSpan.FromMilliseconds(100),
        ReconnectDelay = TimeSpan.FromMilliseconds(20), MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
    };

    private static PlanSegment ThreeSteps(bool grantThird = true)
    {
        var segment = Builders.Segment(1, 11, Heading.East, 1,
            Builders.Step(1, PlanAction.Forward, 12, Heading.East),
            Builders.Step(2, PlanAction.Forward, 13, Heading.East),
            Builders.Step(3, PlanAction.Forward, 14, Heading.East, granted: grantThird));
        segment.RobotId = "robot-f";
        return segment;
    }

    [Fact]
    public async Task A_serial_unplug_mid_plan_stops_the_robot_on_stale_sensors_and_the_plan_resumes_after_the_replug()
    {
        using var pty = SocatPtyPair.Start();
        var robot = new KinematicRobot(1.5, 1.5, 0);
        await using var runtime = new EdgeRuntime(Options(cloud: false), new TtyTransport(new TtyOptions(pty.DaemonPath), TimeProvider.System), TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        var board = new BoardDouble(TtyStream.Open(new TtyOptions(pty.BoardPath), TimeProvider.System), robot);
        board.Start();
        runtime.PlanInbox.Post(ThreeSteps());
        await Eventually.UntilAsync(() => runtime.GetStatus().LastCompletedStep >= 1, Timeout, "step 1");

        pty.Unplug();
        board.Dispose();
        await Eventually.UntilAsync(() => runtime.GetStatus() is { Board: BoardLinkState.Disconnected, Reason: DecisionReason.SensorStale }, Timeout, "the unplug to stop the robot on stale sensors");
        var stopped = runtime.GetStatus();
        Assert.Equal(DecisionMode.ShieldStop, stopped.Mode);
        Assert.Equal(0, stopped.Command.LinearMps);
        Assert.True(stopped.LastCompletedStep < 3);

        pty.Replug();
        using var replugged = new BoardDouble(TtyStream.Open(new TtyOptions(pty.BoardPath), TimeProvider.System), robot);
        replugged.Start();
        await Eventually.UntilAsync(() => runtime.GetStatus().LastCompletedStep == 3, Timeout, "the plan to finish after the replug");
        var status = runtime.GetStatus();
        Assert.Equal(1, status.Serial.Reconnects);
        Assert.InRange(robot.X, 4.4, 4.6);
    }

    [Fact]
    public async Task Garbage_and_bit_errors_on_the_line_are_counted_resynchronised_and_the_plan_still_completes()
    {
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        var options = Options(cloud: false);
        options.SensorStaleAfter = TimeSpan.FromMilliseconds(500);
        await using var runtime = new EdgeRuntime(options, line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        board.Start();
        runtime.PlanInbox.Post(ThreeSteps());
        var random = new Random(5);
        while (runtime.GetStatus().LastCompletedStep < 3)
        {
            if (board.NextGarbage is null && runtime.GetStatus().Serial.Decoder.FramesRejected < 20)
            {
                var garbage = new byte[random.Next(1, 40)];
                random.NextBytes(garbage);
                garbage[^1] = 0; // a delimiter, so the garbage is a rejected frame of its own
                board.NextGarbage = garbage;
            }

            await Eventually.UntilAsync(() => board.NextGarbage is null || runtime.GetStatus().LastCompletedStep >= 3, Timeout, "the garbage to go out");
        }

        var status = runtime.GetStatus();
        Assert.True(status.Serial.Decoder.FramesRejected >= 10, $"{status.Serial.Decoder.FramesRejected} rejected frames");
        Assert.InRange(board.Robot.X, 4.4, 4.6);
        Assert.True(status.Serial.SensorFrames > 50, "frames after the garbage were decoded");
    }

    [Fact]
    public async Task When_the_cloud_is_lost_mid_plan_the_robot_finishes_the_granted_steps_then_holds_and_waits()
    {
        var broker = await TestBroker.StartAsync();
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        await using var runtime = new EdgeRuntime(Options(cloud: true, broker.Port), line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        board.Start();
        await Eventually.UntilAsync(() => runtime.GetStatus().Cloud.Connects >= 1, Timeout, "the cloud link, subscribed");

        await broker.PublishAsync(FleetTopics.Plan("site-f", "robot-f"), ThreeSteps(grantThird: false));
        await Eventually.UntilAsync(() => runtime.GetStatus().LastCompletedStep >= 1, Timeout, "step 1");
        await broker.DisposeAsync(); // the cloud goes away with step 2 granted and step 3 not
        await Eventually.UntilAsync(() => !runtime.GetStatus().CloudConnected, Timeout, "the link to see the broker gone");

        await Eventually.UntilAsync(() => runtime.GetStatus() is { LastCompletedStep: 2, Activity: RobotActivity.WaitingGrant }, Timeout, "step 2 done and waiting for a grant");
        var x = board.Robot.X;
        var ticks = runtime.GetStatus().Loop.Ticks;
        await Eventually.UntilAsync(() => runtime.GetStatus().Loop.Ticks > ticks + 50, Timeout, "50 more ticks");
        var status = runtime.GetStatus();
        Assert.Equal(2u, status.LastCompletedStep);
        Assert.Equal(RobotActivity.WaitingGrant, status.Activity);
        Assert.InRange(board.Robot.X, x - 0.01, x + 0.01); // never guessed its way into the ungranted cell
        Assert.InRange(board.Robot.X, 3.45, 3.55);
    }
}
