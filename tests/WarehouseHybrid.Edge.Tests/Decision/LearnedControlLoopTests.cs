using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Models;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;

namespace WarehouseHybrid.Edge.Tests.Decision;

/// <summary>The trained ONNX model inside the real control loop, driving a kinematic robot.</summary>
public sealed class LearnedControlLoopTests : IDisposable
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly RecordingSinks _events = new();
    private readonly ModelManager _models;
    private readonly RuntimeAssurancePolicy _policy;
    private readonly LoopRig _rig;
    private readonly TempDirectory _package = TrainedModelFixture.Instance.WritePackage();

    public LearnedControlLoopTests()
    {
        _models = new ModelManager(new ModelPackageLoader([TrainedModelFixture.Instance.PublicKeyPem]), new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) }, _time, NullLogger.Instance);
        _policy = new RuntimeAssurancePolicy(new RuntimeAssuranceOptions { AcceptConfidence = 0.6, EscalateConfidence = 0.5 }, Builders.Limits, _models, NullEscalationClient.Instance, _events, _time, NullLogger.Instance, "r1");
        _rig = new LoopRig(_policy, time: _time);
    }

    public void Dispose()
    {
        _rig.Dispose();
        _models.Dispose();
        _package.Dispose();
    }

    private List<RobotEventRecord> AllEvents => [.. _events.Events, .. _rig.Sinks.Events];

    [Fact]
    public void The_trained_model_drives_only_while_assured_and_every_mode_change_is_an_event_with_its_reason()
    {
        _rig.SimTick();
        Assert.Equal((DecisionMode.Rule, DecisionReason.ModelUnavailable), (_rig.Latest.Mode, _rig.Latest.Reason));
        Assert.True(_models.TryInstall(_package.Path).Installed);

        _rig.Loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East)));
        for (var i = 0; i < 400 && _rig.Latest.LastCompletedStep == 0; i++)
        {
            _rig.SimTick();
            if (_rig.Latest.Mode == DecisionMode.Learned)
            {
                // Simplex: a learned command only ever goes out while the inputs are in distribution and the model is sure.
                Assert.False(_policy.Drift!.InDrift);
                Assert.True(_policy.LastOutput.Confidence >= 0.6f);
            }
        }

        // Behaviour cloning alone drifts off the line (compounding error); the drift monitor must hand over to the
        // rule policy before the robot leaves the training distribution (docs/models.md discusses this).
        var events = AllEvents;
        Assert.True(_policy.Counters.LearnedTicks > 20, $"learned ticks {_policy.Counters.LearnedTicks}");
        Assert.True(_rig.Latest.LastCompletedStep == 1 || events.Exists(e => e.Kind == "drift-detected"), "either the step completes or drift was detected");
        Assert.Contains(events, e => e.Kind == "mode-change" && e.Detail.EndsWith("model-unavailable", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Kind == "mode-change" && e.Detail == "Rule->Learned: learned-policy");
        Assert.Contains(events, e => e.Kind == "model-swap" && e.Detail.Contains("0.9.0-test on Cpu", StringComparison.Ordinal));
        Assert.InRange(_rig.Robot.Y, 0.5, 2.5); // never left its row of cells
    }

    [Fact]
    public void Model_health_counts_the_current_models_ticks_from_its_install_and_steady_ticks_still_allocate_nothing()
    {
        Assert.True(_models.TryInstall(_package.Path).Installed);
        _rig.Loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East)));
        _rig.SimTicks(60);
        var reporter = new ModelHealthReporter(_policy);
        var before = reporter.Build(_rig.Latest)!;

        var allocated = _rig.AllocatedOverTicks(100);
        var after = reporter.Build(_rig.Latest)!;

        Assert.True(allocated == 0, $"100 learned-policy ticks allocated {allocated} bytes");
        Assert.Equal(before.LearnedTicks + before.FallbackTicks + 100, after.LearnedTicks + after.FallbackTicks + EscalatedTicks());
        Assert.True(after.InferenceP99Us >= after.InferenceP50Us); // a fake clock measures 0 us; the runtime test sees real ones
        Assert.Equal(_policy.Drift!.FeatureNames[_policy.Drift.WorstFeature], after.DriftFeature);
        Assert.Equal(Math.Abs(_policy.Drift.WorstZ), after.DriftMaxZ, 9);

        // A new install (even of the same version) starts its counters again at its first tick.
        Assert.True(_models.TryInstall(_package.Path).Installed);
        _rig.SimTick();
        var fresh = reporter.Build(_rig.Latest)!;
        Assert.Equal(1UL, fresh.LearnedTicks + fresh.FallbackTicks);

        // Without a model there is no model health (the proto: absent).
        _models.Remove();
        _rig.SimTick();
        Assert.Null(reporter.Build(_rig.Latest));

        ulong EscalatedTicks() => 0; // NullEscalationClient: the uncertain band falls back, never holds
    }

    [Fact]
    public void The_shield_still_brakes_an_accepted_learned_proposal_on_emergency_stop()
    {
        Assert.True(_models.TryInstall(_package.Path).Installed);
        _rig.Loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 1, Builders.Step(1, PlanAction.Forward, 12, ProtoHeading.East)));
        _rig.SimTicks(15);

        _rig.Robot.Flags = SensorFlags.EmergencyStop;
        _rig.SimTick();
        Assert.Equal((DecisionMode.ShieldStop, DecisionReason.EmergencyStop), (_rig.Latest.Mode, _rig.Latest.Reason));
        Assert.True(_rig.Sinks.LastCommand.Flags.HasFlag(MotorFlags.Brake));
    }
}
