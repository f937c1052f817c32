using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Models;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Edge.Tests.Decision;

/// <summary>The trained ONNX model inside the real control loop, driving a kinematic robot.</summary>
public sealed class LearnedControlLoopTests : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly SensorSnapshotStore _sensors = new();
    private readonly Sinks _sinks = new();
    private readonly KinematicRobot _robot = new(1.5, 1.5, 0);
    private readonly ModelManager _models;
    private readonly RuntimeAssurancePolicy _policy;
    private readonly ControlLoop _loop;
    private readonly TempDirectory _package = TrainedModelFixture.Instance.WritePackage();

    public LearnedControlLoopTests()
    {
        _models = new ModelManager(new ModelPackageLoader([TrainedModelFixture.Instance.PublicKeyPem]), new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) }, _time, NullLogger.Instance);
        _policy = new RuntimeAssurancePolicy(new RuntimeAssuranceOptions { AcceptConfidence = 0.6, EscalateConfidence = 0.5 }, Builders.Limits, _models, NullEscalationClient.Instance, _sinks, _time, NullLogger.Instance, "r1");
        var settings = new ControlLoopSettings(Period, TimeSpan.FromMilliseconds(200), Builders.Map, GridGeometry.Default, Builders.Limits, new RobotPose(11, DomainHeading.East));
        _loop = new ControlLoop(settings, _sensors, Builders.Executor(), _policy, new SafetyShield(Builders.Limits, 200), _sinks, _sinks, _sinks, _time, NullLogger.Instance);
    }

    public void Dispose()
    {
        _loop.Dispose();
        _models.Dispose();
        _package.Dispose();
    }

    private void SimTick()
    {
        _sensors.Publish(_robot.Frame(), _time.GetTimestamp());
        _loop.Tick();
        _robot.Command(_sinks.LastCommand);
        _robot.Step(Period.TotalSeconds);
        _time.Advance(Period);
    }

    [Fact]
    public void The_trained_model_drives_only_while_assured_and_every_mode_change_is_an_event_with_its_reason()
    {
        SimTick();
        Assert.Equal((DecisionMode.Rule, DecisionReason.ModelUnavailable), (_loop.Latest.Mode, _loop.Latest.Reason));
        Assert.True(_models.TryInstall(_package.Path).Installed);

        _loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East)));
        for (var i = 0; i < 400 && _loop.Latest.LastCompletedStep == 0; i++)
        {
            SimTick();
            if (_loop.Latest.Mode == DecisionMode.Learned)
            {
                // Simplex: a learned command only ever goes out while the inputs are in distribution and the model is sure.
                Assert.False(_policy.Drift!.InDrift);
                Assert.True(_policy.LastOutput.Confidence >= 0.6f);
            }
        }

        // Behaviour cloning alone drifts off the line (compounding error); the drift monitor must hand over to the
        // rule policy before the robot leaves the training distribution (docs/models.md discusses this).
        Assert.True(_policy.Counters.LearnedTicks > 20, $"learned ticks {_policy.Counters.LearnedTicks}");
        Assert.True(_loop.Latest.LastCompletedStep == 1 || _sinks.Events.Exists(e => e.Kind == "drift-detected"), "either the step completes or drift was detected");
        Assert.Contains(_sinks.Events, e => e.Kind == "mode-change" && e.Detail.EndsWith("model-unavailable", StringComparison.Ordinal));
        Assert.Contains(_sinks.Events, e => e.Kind == "mode-change" && e.Detail == "Rule->Learned: learned-policy");
        Assert.Contains(_sinks.Events, e => e.Kind == "model-swap" && e.Detail.Contains("0.9.0-test on Cpu", StringComparison.Ordinal));
        Assert.InRange(_robot.Y, 0.5, 2.5); // never left its row of cells
    }

    [Fact]
    public void The_shield_still_brakes_an_accepted_learned_proposal_on_emergency_stop()
    {
        Assert.True(_models.TryInstall(_package.Path).Installed);
        _loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East)));
        for (var i = 0; i < 15; i++)
        {
            SimTick();
        }

        _robot.Flags = SensorFlags.EmergencyStop;
        SimTick();
        Assert.Equal((DecisionMode.ShieldStop, DecisionReason.EmergencyStop), (_loop.Latest.Mode, _loop.Latest.Reason));
        Assert.True(_sinks.LastCommand.Flags.HasFlag(MotorFlags.Brake));
    }

    private sealed class Sinks : IMotorCommandSink, ITelemetrySink, IRobotEventSink
    {
        public MotorCommand LastCommand;

        public List<RobotEventRecord> Events { get; } = [];

        public void Submit(in MotorCommand command) => LastCommand = command;

        public void Offer(in ControlSample sample, bool urgent)
        {
        }

        public void Offer(RobotEventRecord record) => Events.Add(record);
    }
}
