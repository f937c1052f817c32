using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;

namespace WarehouseHybrid.Edge.Tests.Control;

public sealed class ControlLoopTests : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly SensorSnapshotStore _sensors = new();
    private readonly RecordingSinks _sinks = new();
    private readonly KinematicRobot _robot = new(1.5, 1.5, 0);
    private readonly ControlLoop _loop;

    public ControlLoopTests()
    {
        var settings = new ControlLoopSettings(Period, TimeSpan.FromMilliseconds(200), Builders.Map, GridGeometry.Default, Builders.Limits,
            new RobotPose(11, DomainHeading.East));
        _loop = new ControlLoop(settings, _sensors, Builders.Executor(), new RulePolicy(Builders.Limits), new SafetyShield(Builders.Limits, 200),
            _sinks, _sinks, _sinks, _time, NullLogger.Instance);
    }

    public void Dispose() => _loop.Dispose();

    /// <summary>One simulated period: the board reports, the loop ticks, the physics follow the command.</summary>
    private void SimTick()
    {
        _sensors.Publish(_robot.Frame(), _time.GetTimestamp());
        _loop.Tick();
        _robot.Command(_sinks.LastCommand);
        _robot.Step(Period.TotalSeconds);
        _time.Advance(Period);
    }

    [Fact]
    public void Loop_drives_a_posted_plan_step_to_completion_and_reports_it_urgently()
    {
        _loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East)));
        for (var i = 0; i < 500 && _loop.Latest.LastCompletedStep == 0; i++)
        {
            SimTick();
        }

        var s = _loop.Latest;
        Assert.Equal(1u, s.LastCompletedStep);
        Assert.Equal(new RobotPose(12, DomainHeading.East), s.DiscretePose);
        Assert.InRange(_robot.X, 2.45, 2.55);
        Assert.Equal(1, _sinks.UrgentOffers);
        Assert.Equal(DecisionMode.Rule, s.Mode);
    }

    [Fact]
    public void Stale_sensors_switch_to_shield_stop_with_a_mode_change_event_and_back()
    {
        SimTick();
        Assert.Equal(DecisionMode.Rule, _loop.Latest.Mode);

        // No frames for longer than the stale timeout.
        _time.Advance(TimeSpan.FromMilliseconds(300));
        _loop.Tick();
        Assert.Equal(DecisionMode.ShieldStop, _loop.Latest.Mode);
        Assert.Equal(DecisionReason.SensorStale, _loop.Latest.Reason);
        Assert.Equal(RobotActivity.Stopped, _loop.Latest.Activity);

        SimTick();
        Assert.Equal(DecisionMode.Rule, _loop.Latest.Mode);
        Assert.Contains(_sinks.Events, e => e.Kind == "mode-change" && e.Detail.Contains("sensor-stale", StringComparison.Ordinal));
        Assert.Equal(3, _sinks.Events.Count(e => e.Kind == "mode-change")); // Unknown->Rule, Rule->ShieldStop, ShieldStop->Rule
    }

    [Fact]
    public void Rejected_plan_is_reported_as_an_event()
    {
        _loop.Post(Builders.Segment(1, 55, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 56, ProtoHeading.East)));
        SimTick();

        var e = Assert.Single(_sinks.Events, e => e.Kind == "plan-rejected");
        Assert.Equal("trace-1", e.TraceId);
        Assert.Equal(1, _loop.Counters.PlansRejected);
    }

    [Fact]
    public void Warmed_up_tick_allocates_nothing()
    {
        _loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East)));
        for (var i = 0; i < 20; i++)
        {
            SimTick();
        }

        var frame = _robot.Frame();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            _sensors.Publish(frame, _time.GetTimestamp());
            _loop.Tick();
            _time.Advance(Period);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"200 ticks allocated {allocated} bytes");
    }

    [Fact]
    public void Dedicated_thread_ticks_when_the_time_provider_advances_and_brakes_on_stop()
    {
        _loop.Start();
        for (var i = 0; i < 5; i++)
        {
            var before = _loop.Counters.Ticks;
            _sensors.Publish(_robot.Frame(), _time.GetTimestamp());
            _time.Advance(Period);
            Assert.True(SpinWait.SpinUntil(() => _loop.Counters.Ticks > before, TimeSpan.FromSeconds(5)), $"tick {i} did not run");
        }

        Assert.True(_loop.Stop(TimeSpan.FromSeconds(5)));
        Assert.True((_sinks.LastCommand.Flags & MotorFlags.Brake) != 0);
        Assert.EndsWith("shutdown", _sinks.Events[^1].Detail, StringComparison.Ordinal);
        var lateness = _loop.Counters.Lateness;
        Assert.Equal(5, lateness.Count);
        Assert.Equal(0, _loop.Counters.Overruns);
    }

    [Fact]
    public void Late_ticks_are_counted_as_overruns()
    {
        _loop.Start();
        var before = _loop.Counters.Ticks;
        _time.Advance(Period * 3.5); // the timer fires for each period, the loop coalesces them
        Assert.True(SpinWait.SpinUntil(() => _loop.Counters.Ticks + _loop.Counters.Overruns - before >= 3, TimeSpan.FromSeconds(5)));
        Assert.True(_loop.Stop(TimeSpan.FromSeconds(5)));
        var c = _loop.Counters;
        Assert.Equal(3, c.Ticks + c.Overruns - before);
    }

    private sealed class RecordingSinks : IMotorCommandSink, ITelemetrySink, IRobotEventSink
    {
        public MotorCommand LastCommand;
        public int UrgentOffers;
        public List<RobotEventRecord> Events { get; } = [];

        public void Submit(in MotorCommand command) => LastCommand = command;

        public void Offer(in ControlSample sample, bool urgent)
        {
            if (urgent)
            {
                UrgentOffers++;
            }
        }

        public void Offer(RobotEventRecord record)
        {
            lock (Events)
            {
                Events.Add(record);
            }
        }
    }
}
