using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Tests.Doubles;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Edge.Tests.Control;

public sealed class ControlLoopTests : IDisposable
{
    private readonly LoopRig _rig = new();

    public void Dispose() => _rig.Dispose();

    private static PlanSegment OneStepEast() => Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East));

    [Fact]
    public void Loop_drives_a_posted_plan_step_to_completion_and_reports_it_urgently()
    {
        _rig.Loop.Post(OneStepEast());
        _rig.SimTicks(500, () => _rig.Latest.LastCompletedStep > 0);

        var s = _rig.Latest;
        Assert.Equal(1u, s.LastCompletedStep);
        Assert.Equal(new RobotPose(12, DomainHeading.East), s.DiscretePose);
        Assert.InRange(_rig.Robot.X, 2.45, 2.55);
        Assert.Equal(1, _rig.Sinks.UrgentOffers);
        Assert.Equal(DecisionMode.Rule, s.Mode);
    }

    [Fact]
    public void Stale_sensors_switch_to_shield_stop_with_a_mode_change_event_and_back()
    {
        _rig.SimTick();
        Assert.Equal(DecisionMode.Rule, _rig.Latest.Mode);

        // No frames for longer than the stale timeout.
        _rig.Time.Advance(TimeSpan.FromMilliseconds(300));
        _rig.Loop.Tick();
        Assert.Equal(DecisionMode.ShieldStop, _rig.Latest.Mode);
        Assert.Equal(DecisionReason.SensorStale, _rig.Latest.Reason);
        Assert.Equal(RobotActivity.Stopped, _rig.Latest.Activity);

        _rig.SimTick();
        Assert.Equal(DecisionMode.Rule, _rig.Latest.Mode);
        var events = _rig.Sinks.Events;
        Assert.Contains(events, e => e.Kind == "mode-change" && e.Detail.Contains("sensor-stale", StringComparison.Ordinal));
        Assert.Equal(3, events.Count(e => e.Kind == "mode-change")); // Unknown->Rule, Rule->ShieldStop, ShieldStop->Rule
        Assert.Equal(1, _rig.Loop.ReasonEpisodes(DecisionReason.SensorStale));
        Assert.Equal(1, _rig.Loop.ReasonTicks(DecisionReason.SensorStale));
    }

    [Fact]
    public void Rejected_plan_is_reported_as_an_event()
    {
        _rig.Loop.Post(Builders.Segment(1, 55, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 56, ProtoHeading.East)));
        _rig.SimTick();

        var e = Assert.Single(_rig.Sinks.Events, e => e.Kind == "plan-rejected");
        Assert.Equal("trace-1", e.TraceId);
        Assert.Equal(1, _rig.Loop.Counters.PlansRejected);
    }

    [Fact]
    public void Warmed_up_tick_allocates_nothing()
    {
        _rig.Loop.Post(OneStepEast());
        _rig.SimTicks(20);

        var allocated = _rig.AllocatedOverTicks(200);
        Assert.True(allocated == 0, $"200 ticks allocated {allocated} bytes");
    }

    [Fact]
    public void Dedicated_thread_ticks_when_the_time_provider_advances_and_brakes_on_stop()
    {
        _rig.Loop.Start();
        for (var i = 0; i < 5; i++)
        {
            var before = _rig.Loop.Counters.Ticks;
            _rig.Sensors.Publish(_rig.Robot.Frame(), _rig.Time.GetTimestamp());
            _rig.Time.Advance(LoopRig.Period);
            Assert.True(SpinWait.SpinUntil(() => _rig.Loop.Counters.Ticks > before, TimeSpan.FromSeconds(5)), $"tick {i} did not run");
        }

        Assert.True(_rig.Loop.Stop(TimeSpan.FromSeconds(5)));
        Assert.True((_rig.Sinks.LastCommand.Flags & MotorFlags.Brake) != 0);
        Assert.EndsWith("shutdown", _rig.Sinks.Events[^1].Detail, StringComparison.Ordinal);
        var lateness = _rig.Loop.Counters.Lateness;
        Assert.Equal(5, lateness.Count);
        Assert.Equal(0, _rig.Loop.Counters.Overruns);
    }

    [Fact]
    public void Late_ticks_are_counted_as_overruns()
    {
        _rig.Loop.Start();
        var before = _rig.Loop.Counters.Ticks;
        _rig.Time.Advance(LoopRig.Period * 3.5); // the timer fires for each period, the loop coalesces them
        Assert.True(SpinWait.SpinUntil(() => _rig.Loop.Counters.Ticks + _rig.Loop.Counters.Overruns - before >= 3, TimeSpan.FromSeconds(5)));
        Assert.True(_rig.Loop.Stop(TimeSpan.FromSeconds(5)));
        var c = _rig.Loop.Counters;
        Assert.Equal(3, c.Ticks + c.Overruns - before);
    }

    [Fact]
    public void An_immediate_tick_runs_out_of_schedule_without_moving_the_schedule()
    {
        _rig.Loop.Start();
        _rig.Sensors.Publish(_rig.Robot.Frame(), _rig.Time.GetTimestamp());
        _rig.Loop.RequestImmediateTick(); // no time passes: only the request can make it tick
        Assert.True(SpinWait.SpinUntil(() => _rig.Loop.Counters.Ticks == 1, TimeSpan.FromSeconds(5)), "the immediate tick did not run");
        Assert.Equal(1, _rig.Loop.ImmediateTicks);

        _rig.Time.Advance(LoopRig.Period);
        Assert.True(SpinWait.SpinUntil(() => _rig.Loop.Counters.Ticks == 2, TimeSpan.FromSeconds(5)), "the scheduled tick did not run");
        Assert.True(_rig.Loop.Stop(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, _rig.Loop.Counters.Overruns);
        Assert.Equal(1, _rig.Loop.Counters.Lateness.Count); // the immediate tick is not a scheduled one
    }

    [Fact]
    public void The_allocation_counter_ignores_warm_up_and_counts_ticks_that_allocate()
    {
        using var rig = new LoopRig(extras: new ControlLoopExtras { AllocationWarmupTicks = 5 });
        rig.SimTicks(30);
        Assert.Equal(0, rig.Loop.AllocatedBytes);
        rig.Loop.Post(OneStepEast()); // applying a plan allocates (copies its steps)
        rig.SimTick();
        Assert.True(rig.Loop.AllocatedBytes > 0);
        Assert.Equal(1, rig.Loop.AllocatingTicks);
    }
}
