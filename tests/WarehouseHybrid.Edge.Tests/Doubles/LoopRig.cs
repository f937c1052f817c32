using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Sensing;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Tests.Doubles;

/// <summary>
/// The control loop on a <see cref="FakeTimeProvider"/> with a kinematic robot in the loop: the set-up every
/// control-loop test shares (rule policy or the runtime-assurance module, the same map, limits, sinks and start pose).
/// <see cref="SimTick"/> is one simulated period: the board reports, the loop ticks, the physics follow the command.
/// </summary>
internal sealed class LoopRig : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);

    public LoopRig(IDrivingPolicy? policy = null, ControlLoopExtras? extras = null, FakeTimeProvider? time = null, SafetyShield? shield = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var settings = new ControlLoopSettings(Period, TimeSpan.FromMilliseconds(200), Builders.Map, GridGeometry.Default, Builders.Limits,
            new RobotPose(11, DomainHeading.East));
        Loop = new ControlLoop(settings, Sensors, Builders.Executor(), policy ?? new RulePolicy(Builders.Limits), shield ?? new SafetyShield(Builders.Limits, 200),
            Sinks, Sinks, Sinks, Time, NullLogger.Instance, extras);
    }

    public FakeTimeProvider Time { get; }

    public SensorSnapshotStore Sensors { get; } = new();

    public RecordingSinks Sinks { get; } = new();

    public KinematicRobot Robot { get; } = new(1.5, 1.5, 0);

    public ControlLoop Loop { get; }

    public ControlSample Latest => Loop.Latest;

    /// <summary>One simulated period: the board reports, the loop ticks, the physics follow the command.</summary>
    public void SimTick()
    {
        Sensors.Publish(Robot.Frame(), Time.GetTimestamp());
        Loop.Tick();
        Robot.Command(Sinks.LastCommand);
        Robot.Step(Period.TotalSeconds);
        Time.Advance(Period);
    }

    /// <summary>Simulated periods until <paramref name="done"/> holds or <paramref name="max"/> ticks ran.</summary>
    public void SimTicks(int max, Func<bool>? done = null)
    {
        for (var i = 0; i < max && !(done?.Invoke() ?? false); i++)
        {
            SimTick();
        }
    }

    /// <summary>Bytes this thread allocates over <paramref name="ticks"/> ticks on a fixed frame (the frame is built first).</summary>
    public long AllocatedOverTicks(int ticks)
    {
        var frame = Robot.Frame();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < ticks; i++)
        {
            Sensors.Publish(frame, Time.GetTimestamp());
            Loop.Tick();
            Time.Advance(Period);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public void Dispose() => Loop.Dispose();
}

/// <summary>Motor, telemetry and event sinks that remember what they got (events thread-safe: the loop thread adds them).</summary>
internal sealed class RecordingSinks : IMotorCommandSink, ITelemetrySink, IRobotEventSink
{
    private readonly List<RobotEventRecord> _events = [];
    private MotorCommand _last;

    public MotorCommand LastCommand
    {
        get
        {
            lock (_events)
            {
                return _last;
            }
        }
    }

    public int UrgentOffers { get; private set; }

    public long Commands { get; private set; }

    /// <summary>A copy of the events so far.</summary>
    public List<RobotEventRecord> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public void Submit(in MotorCommand command)
    {
        lock (_events)
        {
            _last = command;
            Commands++;
        }
    }

    public void Offer(in ControlSample sample, bool urgent)
    {
        if (urgent)
        {
            UrgentOffers++;
        }
    }

    public void Offer(RobotEventRecord record)
    {
        lock (_events)
        {
            _events.Add(record);
        }
    }
}
