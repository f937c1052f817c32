using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using Heading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Tests.Decision;

public sealed class RuntimeAssurancePolicyTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Events _events = new();
    private readonly FakeModel _model = new();
    private readonly ModelManager _models;
    private readonly PolicyInput _input = Input(rangeMetres: 3.0);

    public RuntimeAssurancePolicyTests()
    {
        // Probation is ModelRolloutTests' subject; here a staged model simply stays.
        _models = new ModelManager(new ModelPackageLoader([]), new InferenceOptions(), new ModelRolloutOptions { ProbationTicks = 0 }, _time, NullLogger.Instance);
    }

    public void Dispose() => _models.Dispose();

    private RuntimeAssurancePolicy Policy(IEscalationClient? client = null, RuntimeAssuranceOptions? options = null) =>
        new(options ?? new RuntimeAssuranceOptions { RecoveryTicks = 0, DriftWindow = 20 }, Builders.Limits, _models,
            client ?? NullEscalationClient.Instance, _events, _time, NullLogger.Instance, "r1");

    private void StageModel(PolicyInput trainedOn)
    {
        // Training statistics centred on the features of trainedOn: those inputs are in distribution.
        var features = new float[PolicyFeatures.Count];
        PolicyFeatures.Extract(trainedOn, Builders.Limits, features);
        var manifest = new ModelManifest { Version = "fake-1" };
        for (var i = 0; i < features.Length; i++)
        {
            manifest.FeatureStatistics.Add(new FeatureStatistics { Name = PolicyFeatures.Names[i], Mean = features[i], StdDev = 0.1 });
        }

        _models.Stage(new ActiveModel(_model, manifest, ExecutionProviderKind.Cpu, []));
    }

    private static PolicyInput Input(double rangeMetres)
    {
        var snapshot = new SensorSnapshot { FrameCount = 1 };
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            snapshot.Frame.Ranges[i] = (ushort)(rangeMetres * 1000);
        }

        var target = new StepTarget(TargetKind.Move, 1, 12, Heading.East, 2.5, 1.5, 0);
        return new PolicyInput(new ContinuousPose(1.5, 1.5, 0), target, snapshot, 0.5, 0, new DriveCommand(0.5, 0), 0.02);
    }

    private DriveCommand Decide(RuntimeAssurancePolicy policy, PolicyInput? input = null)
    {
        Assert.True(policy.TryDecide(input ?? _input, out var command));
        return command;
    }

    private DriveCommand Rule(PolicyInput? input = null)
    {
        new RulePolicy(Builders.Limits).TryDecide(input ?? _input, out var command);
        return command;
    }

    [Fact]
    public void Without_a_model_the_rule_policy_drives_with_reason_model_unavailable()
    {
        var policy = Policy();
        var command = Decide(policy);
        Assert.Equal((DecisionMode.Rule, DecisionReason.ModelUnavailable), (policy.Mode, policy.Reason));
        Assert.Equal(Rule(), command);
    }

    [Fact]
    public void A_confident_on_time_in_distribution_model_drives_toward_its_setpoint_within_the_acceleration_limits()
    {
        StageModel(_input);
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.4f, -0.25f, 0.02f, 0.98f, TimeSpan.FromMicroseconds(2));
        var policy = Policy();
        var command = Decide(policy);
        Assert.Equal((DecisionMode.Learned, DecisionReason.LearnedPolicy), (policy.Mode, policy.Reason));

        // Setpoint (0.4 m/s, -0.5 rad/s) from the previous command (0.5, 0) at 1 m/s^2 and 4 rad/s^2 over 20 ms.
        Assert.Equal(0.5 - 0.02, command.LinearMps, 1e-6);
        Assert.Equal(-0.08, command.AngularRadps, 1e-6);
        Assert.Equal(RulePolicy.Limit(_input, new DriveCommand(0.4 * Builders.Limits.MaxLinearMps, -0.25 * Builders.Limits.MaxAngularRadps), Builders.Limits), command);
        Assert.Equal(0.98f, policy.Confidence);
        Assert.Contains(_events.Kinds, k => k == "model-swap");
    }

    [Theory]
    [InlineData(InferenceStatus.Late, DecisionReason.ModelLate)]
    [InlineData(InferenceStatus.Fault, DecisionReason.ModelFault)]
    [InlineData(InferenceStatus.NonFinite, DecisionReason.ModelFault)]
    public void An_unusable_inference_hands_the_tick_to_the_rule_policy_with_its_reason(InferenceStatus status, DecisionReason reason)
    {
        StageModel(_input);
        _model.Next = new LearnedOutput(status, float.NaN, 0, 0, 0.99f, TimeSpan.FromMilliseconds(5));
        var policy = Policy();
        var command = Decide(policy);
        Assert.Equal((DecisionMode.Rule, reason), (policy.Mode, policy.Reason));
        Assert.Equal(Rule(), command);
        Assert.Equal(status == InferenceStatus.Late ? 1 : 0, policy.Counters.DeadlineOverruns);
        Assert.Equal(1, policy.Counters.FallbackTicks[(int)reason]);
    }

    [Fact]
    public void Confidence_below_the_escalation_band_hands_the_tick_to_the_rule_policy()
    {
        StageModel(_input);
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.9f, 0, 0.5f, 0.5f, TimeSpan.Zero);
        var policy = Policy();
        Assert.Equal(Rule(), Decide(policy));
        Assert.Equal(DecisionReason.LowConfidence, policy.Reason);
    }

    [Fact]
    public void After_a_fallback_the_learned_policy_returns_only_after_the_recovery_ticks()
    {
        StageModel(_input);
        var policy = Policy(options: new RuntimeAssuranceOptions { RecoveryTicks = 3, DriftWindow = 20 });
        _model.Next = new LearnedOutput(InferenceStatus.Late, 0, 0, 0, 0.99f, TimeSpan.Zero);
        Decide(policy);
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.3f, 0, 0.01f, 0.99f, TimeSpan.Zero);
        for (var i = 0; i < 3; i++)
        {
            Decide(policy);
            Assert.Equal((DecisionMode.Rule, DecisionReason.ModelLate), (policy.Mode, policy.Reason));
        }

        Decide(policy);
        Assert.Equal(DecisionMode.Learned, policy.Mode);
    }

    [Fact]
    public void Inputs_shifted_from_the_training_statistics_raise_a_drift_event_and_the_rule_policy_drives()
    {
        StageModel(Input(rangeMetres: 3.0));
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.3f, 0, 0.01f, 0.99f, TimeSpan.Zero);
        var policy = Policy();
        var shifted = Input(rangeMetres: 0.8); // range features 0.2 instead of 0.75: z = -5.5
        for (var i = 0; i < 9; i++)
        {
            Decide(policy, shifted);
            Assert.Equal(DecisionMode.Learned, policy.Mode); // fewer than half a window: not judged yet
        }

        Assert.Equal(Rule(shifted), Decide(policy, shifted));
        Assert.Equal(DecisionReason.InputDrift, policy.Reason);
        var drift = Assert.Single(_events.Records, e => e.Kind == "drift-detected");
        Assert.Contains("feature 'range_", drift.Detail, StringComparison.Ordinal);
        Assert.Contains("z=-5.50", drift.Detail, StringComparison.Ordinal);

        for (var i = 0; i < 20; i++)
        {
            Decide(policy, Input(rangeMetres: 3.0));
        }

        Assert.Equal(DecisionMode.Learned, policy.Mode);
        Assert.Contains(_events.Kinds, k => k == "drift-ended");
    }

    [Fact]
    public void Uncertain_confidence_without_a_cloud_lets_the_deterministic_fallback_decide_at_once()
    {
        StageModel(_input);
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.9f, 0, 0.3f, 0.7f, TimeSpan.Zero);
        var policy = Policy();
        Assert.Equal(Rule(), Decide(policy));
        Assert.Equal(DecisionReason.EscalationTimeout, policy.Reason);
    }

    [Fact]
    public void Uncertain_confidence_slows_asks_the_cloud_and_drives_within_its_advice()
    {
        StageModel(_input);
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.9f, 0, 0.3f, 0.7f, TimeSpan.Zero);
        var cloud = new FakeCloud();
        var policy = Policy(cloud);

        var slowed = Decide(policy);
        Assert.Equal(DecisionReason.Escalating, policy.Reason);
        Assert.True(slowed.LinearMps < _input.Previous.LinearMps, "the robot slows while the cloud is asked");
        var request = Assert.Single(cloud.Sent);
        Assert.Equal(PolicyFeatures.Count, request.Features.Count);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", request.TraceId);
        Assert.Equal(0.7f, request.EdgeConfidence);

        _time.Advance(TimeSpan.FromMilliseconds(50));
        cloud.Answer(request.RequestId, speedLimit: 0.2f);
        var advised = Decide(policy);
        Assert.Equal(DecisionReason.CloudAdvice, policy.Reason);
        Assert.InRange(advised.LinearMps, -0.2 - 1e-6, 0.2 + 1e-6);
        Assert.True(advised.LinearMps > 0.19, "drives at the advised limit, below what the rule policy wanted");
        Assert.Contains(_events.Kinds, k => k == "escalation-answered");
        Assert.Equal(1, policy.Counters.EscalationsAnswered);
    }

    [Fact]
    public void An_escalation_unanswered_within_the_slo_lets_the_deterministic_fallback_decide()
    {
        StageModel(_input);
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.9f, 0, 0.3f, 0.7f, TimeSpan.Zero);
        var cloud = new FakeCloud();
        var policy = Policy(cloud, new RuntimeAssuranceOptions { RecoveryTicks = 0, DriftWindow = 20, EscalationSlo = TimeSpan.FromMilliseconds(100) });

        Decide(policy);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Decide(policy);
        Assert.Equal(DecisionReason.Escalating, policy.Reason);

        _time.Advance(TimeSpan.FromMilliseconds(2));
        Assert.Equal(Rule(), Decide(policy));
        Assert.Equal(DecisionReason.EscalationTimeout, policy.Reason);
        Assert.Contains(_events.Records, e => e.Kind == "escalation-timeout" && e.Detail.Contains("100 ms", StringComparison.Ordinal));
        cloud.Answer(cloud.Sent[0].RequestId, 0.5f); // too late: ignored
        Decide(policy);
        Assert.Equal(DecisionReason.EscalationTimeout, policy.Reason);
        Assert.Equal(1, policy.Counters.EscalationTimeouts);
    }

    [Fact]
    public void A_decision_allocates_nothing_in_steady_state()
    {
        StageModel(_input);
        _model.Next = new LearnedOutput(InferenceStatus.Ok, 0.3f, 0, 0.01f, 0.99f, TimeSpan.Zero);
        var policy = Policy();
        for (var i = 0; i < 50; i++)
        {
            Decide(policy);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            policy.TryDecide(_input, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Invalid_options_are_refused_naming_each()
    {
        var ex = Assert.Throws<ArgumentException>(() => Policy(options: new RuntimeAssuranceOptions { AcceptConfidence = 0.5, EscalateConfidence = 0.7, DriftWindow = 1 }));
        Assert.Contains("LearnedPolicy:EscalateConfidence", ex.Message, StringComparison.Ordinal);
        Assert.Contains("LearnedPolicy:DriftWindow", ex.Message, StringComparison.Ordinal);
    }

    private sealed class FakeModel : ILearnedModel
    {
        private readonly float[] _input = new float[PolicyFeatures.Count];

        public LearnedOutput Next { get; set; }

        public string Version => "fake-1";

        public Span<float> Input => _input;

        public LearnedOutput Run() => Next;
    }

    private sealed class FakeCloud : IEscalationClient
    {
        private readonly Dictionary<string, EscalationResponse> _answers = [];

        public List<EscalationRequest> Sent { get; } = [];

        public bool IsAvailable => true;

        public bool TrySend(EscalationRequest request)
        {
            Sent.Add(request);
            return true;
        }

        public void Answer(string requestId, float speedLimit) =>
            _answers[requestId] = new EscalationResponse { RequestId = requestId, SpeedLimitMps = speedLimit, Confidence = 0.95f, ModelVersion = "cloud-1" };

        public bool TryTakeResponse(string requestId, [NotNullWhen(true)] out EscalationResponse? response) => _answers.Remove(requestId, out response);
    }

    private sealed class Events : IRobotEventSink
    {
        public List<RobotEventRecord> Records { get; } = [];

        public IEnumerable<string> Kinds => Records.Select(r => r.Kind);

        public void Offer(RobotEventRecord record) => Records.Add(record);
    }
}
