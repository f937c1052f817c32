using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Tests.Doubles;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using ProtoHeading = WarehouseHybrid.Contracts.Fleet.Heading;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>Run-time model rollout: probation and rollback in the manager, self-tests on recorded inputs, the drop directory.</summary>
public sealed class ModelRolloutTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static TrainedModelFixture Fixture => TrainedModelFixture.Instance;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero));
    private readonly List<ModelLifecycleEvent> _lifecycle = [];
    private readonly TempDirectory _store = new();

    public void Dispose() => _store.Dispose();

    private ModelManager Manager(ModelRolloutOptions? rollout = null, InferenceOptions? inference = null)
    {
        var m = new ModelManager(new ModelPackageLoader([Fixture.PublicKeyPem]), inference ?? new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) },
            rollout ?? new ModelRolloutOptions { ProbationTicks = 20, ProbationFailureStreak = 3 }, _time, NullLogger.Instance);
        m.Lifecycle += e =>
        {
            lock (_lifecycle)
            {
                _lifecycle.Add(e);
            }
        };
        return m;
    }

    private static ActiveModel Fake(string version, FakeModel model) =>
        new(model, new ModelManifest { Version = version }, ExecutionProviderKind.Cpu, []);

    [Fact]
    public void A_model_replacing_another_is_on_probation_and_a_faulty_streak_rolls_back_to_it_between_ticks()
    {
        using var manager = Manager();
        var good = new FakeModel();
        var candidate = new FakeModel();
        manager.Stage(Fake("1.0", good));
        Assert.Same(good, manager.AcquireForTick()!.Model);
        for (var i = 0; i < 20; i++)
        {
            manager.ReportTick(InferenceStatus.Ok);
        }

        Assert.False(manager.OnProbation); // the first model passed its probation
        manager.Stage(Fake("2.0", candidate));
        Assert.Same(candidate, manager.AcquireForTick()!.Model);
        Assert.True(manager.OnProbation);

        manager.ReportTick(InferenceStatus.NonFinite);
        manager.ReportTick(InferenceStatus.Ok); // a streak must be consecutive
        manager.ReportTick(InferenceStatus.Late);
        manager.ReportTick(InferenceStatus.NonFinite);
        Assert.Same(candidate, manager.AcquireForTick()!.Model);
        manager.ReportTick(InferenceStatus.Fault);

        Assert.Same(good, manager.AcquireForTick()!.Model);
        Assert.False(manager.OnProbation);
        Assert.Equal(1, manager.Rollbacks);
        var rollback = Assert.Single(_lifecycle, e => e.Kind == ModelLifecycleKind.RolledBack);
        Assert.Equal("2.0", rollback.Version);
        Assert.Contains("3 consecutive Fault ticks", rollback.Detail, StringComparison.Ordinal);
        Assert.Contains("back to 1.0", rollback.Detail, StringComparison.Ordinal);
        manager.DisposeRetired();
        Assert.True(candidate.Disposed);
        Assert.False(good.Disposed);
    }

    [Fact]
    public void A_first_model_that_fails_probation_rolls_back_to_no_model_and_the_rule_policy()
    {
        using var manager = Manager();
        manager.Stage(Fake("1.0", new FakeModel()));
        manager.AcquireForTick();
        for (var i = 0; i < 3; i++)
        {
            manager.ReportTick(InferenceStatus.NonFinite);
        }

        Assert.Null(manager.AcquireForTick());
        Assert.Contains("back to no model", _lifecycle.Single(e => e.Kind == ModelLifecycleKind.RolledBack).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_that_passes_probation_is_promoted_and_the_previous_one_is_released()
    {
        using var manager = Manager();
        var first = new FakeModel();
        manager.Stage(Fake("1.0", first));
        manager.AcquireForTick();
        for (var i = 0; i < 20; i++)
        {
            manager.ReportTick(InferenceStatus.Ok);
        }

        manager.Stage(Fake("2.0", new FakeModel()));
        manager.AcquireForTick();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 19; i++)
        {
            manager.ReportTick(i % 2 == 0 ? InferenceStatus.Ok : InferenceStatus.Late);
            manager.AcquireForTick();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before); // probation bookkeeping on the control thread is free
        manager.ReportTick(InferenceStatus.Ok);
        Assert.False(manager.OnProbation);
        Assert.Equal(2, manager.Promotions);
        manager.DisposeRetired();
        Assert.True(first.Disposed);
    }

    [Fact]
    public void Recorded_inputs_are_kept_in_a_ring_and_replayed_into_the_candidate()
    {
        using var manager = Manager(new ModelRolloutOptions { RecordedInputs = 4 });
        for (var i = 0; i < 6; i++)
        {
            var row = new float[PolicyFeatures.Count];
            row[0] = i;
            manager.RecordInput(row);
        }

        Assert.Equal([2f, 3f, 4f, 5f], manager.RecordedInputs().Select(r => r[0]));

        using var package = Fixture.WritePackage();
        var result = manager.TryInstall(package.Path);
        Assert.True(result.Installed, result.Detail);
        Assert.Contains("self-tested on 5 inputs (4 recorded)", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_candidate_whose_outputs_leave_the_action_range_on_the_self_test_is_refused_and_the_live_model_stays()
    {
        using var manager = Manager();
        using var good = Fixture.WritePackage();
        Assert.True(manager.TryInstall(good.Path).Installed);
        var live = manager.AcquireForTick();
        using var wild = new TempDirectory();
        Fixture.WriteVariant(wild.Path, "0.9.1-wild", net => net.BAction[0] = 7f);

        var refused = manager.TryInstall(wild.Path);
        Assert.False(refused.Installed);
        Assert.Equal(ModelRefusal.SelfTestFailed, refused.Refusal);
        Assert.Contains("is outside +-1.5 of the top speeds", refused.Detail, StringComparison.Ordinal);
        Assert.Same(live, manager.AcquireForTick());
    }

    [Fact]
    public void A_candidate_slower_than_the_inference_deadline_is_refused_by_the_self_test()
    {
        // Real time: the inference is timed by the manager's clock.
        using var manager = new ModelManager(new ModelPackageLoader([Fixture.PublicKeyPem]), new InferenceOptions { Deadline = TimeSpan.FromTicks(1) }, TimeProvider.System, NullLogger.Instance);
        using var package = Fixture.WritePackage();
        var refused = manager.TryInstall(package.Path);
        Assert.False(refused.Installed);
        Assert.Contains("too slow: median inference", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_drop_directory_installs_a_package_that_then_passes_probation_and_is_remembered_as_current()
    {
        using var rig = new Rig(this);
        await rig.DropAsync("good-1", dir => Fixture.WriteVariant(dir, "1.1.0", _ => { }));

        Assert.Contains(rig.Events, e => e.Kind == "model-staged" && e.Detail.Contains("1.1.0", StringComparison.Ordinal));
        rig.Loop.SimTicks(25); // live at the first tick, 20 probation ticks
        Assert.Equal("1.1.0", rig.Models.AcquireForTick()!.Manifest.Version);
        Assert.False(rig.Models.OnProbation);
        Assert.Contains(rig.Events, e => e.Kind == "model-promoted");
        await Eventually.UntilAsync(() => rig.Service.LastGoodPackage() is not null, Timeout, "the promoted package to be remembered");
        Assert.EndsWith("good-1", rig.Service.LastGoodPackage(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(rig.Service.Incoming));
    }

    [Fact]
    public async Task A_package_that_fails_live_within_probation_is_rolled_back_to_the_last_good_model_and_moved_to_rejected()
    {
        using var rig = new Rig(this);
        await rig.DropAsync("good", dir => Fixture.WriteVariant(dir, "1.1.0", _ => { }));
        rig.Loop.SimTicks(25);
        Assert.False(rig.Models.OnProbation);

        // Recorded inputs come from moves only, so the self-test passes; a rotation sends the outputs to infinity.
        await rig.DropAsync("fails-on-rotate", dir => Fixture.WriteVariant(dir, "1.2.0", TrainedModelFixture.InfinityOnRotate));
        Assert.Contains(rig.Events, e => e.Kind == "model-staged" && e.Detail.Contains("1.2.0", StringComparison.Ordinal));
        rig.Loop.SimTick();
        Assert.Equal("1.2.0", rig.Models.AcquireForTick()!.Manifest.Version);
        rig.Loop.Loop.Post(Builders.Segment(1, 11, ProtoHeading.East, 2, Builders.Step(1, PlanAction.RotateCcw, 11, ProtoHeading.North)));
        rig.Loop.SimTicks(5);

        Assert.Equal("1.1.0", rig.Models.AcquireForTick()!.Manifest.Version);
        Assert.Contains(rig.Events, e => e.Kind == "model-rollback" && e.Detail.Contains("1.2.0", StringComparison.Ordinal) && e.Detail.Contains("NonFinite", StringComparison.Ordinal));
        Assert.Contains(rig.Events, e => e.Kind == "model-swap" && e.Detail.Contains("1.2.0", StringComparison.Ordinal) && e.Detail.Contains("-> 1.1.0", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => Directory.GetDirectories(rig.Service.Rejected).Any(d => d.EndsWith("fails-on-rotate", StringComparison.Ordinal)), Timeout, "the package in rejected/");
        var reason = File.ReadAllText(Path.Combine(Directory.GetDirectories(rig.Service.Rejected).Single(), "reason.txt"));
        Assert.Contains("rolled back after going live", reason, StringComparison.Ordinal);
        Assert.True(rig.Loop.Loop.ReasonTicks(DecisionReason.ModelFault) >= 3, "the rule policy drove every faulty tick");
    }

    [Fact]
    public async Task A_tampered_package_in_the_drop_directory_is_refused_with_its_reason_and_the_live_model_stays()
    {
        using var rig = new Rig(this);
        await rig.DropAsync("good", dir => Fixture.WriteVariant(dir, "1.1.0", _ => { }));
        rig.Loop.SimTick();
        await rig.DropAsync("tampered", dir =>
        {
            Fixture.WriteVariant(dir, "1.3.0", _ => { });
            var onnx = Path.Combine(dir, ModelPackageLayout.OnnxFile);
            var bytes = File.ReadAllBytes(onnx);
            bytes[^3] ^= 0x10;
            File.WriteAllBytes(onnx, bytes);
        });

        Assert.Contains(rig.Events, e => e.Kind == "model-refused" && e.Detail.StartsWith("OnnxHashMismatch", StringComparison.Ordinal));
        var rejected = Assert.Single(Directory.GetDirectories(rig.Service.Rejected));
        Assert.StartsWith("OnnxHashMismatch", File.ReadAllText(Path.Combine(rejected, "reason.txt")), StringComparison.Ordinal);
        rig.Loop.SimTick();
        Assert.Equal("1.1.0", rig.Models.AcquireForTick()!.Manifest.Version);
    }

    [Fact]
    public async Task A_package_is_taken_only_when_it_stopped_changing_and_dot_directories_are_ignored()
    {
        using var rig = new Rig(this);
        var incoming = rig.Service.Incoming;
        Fixture.WriteVariant(Path.Combine(incoming, ".still-copying"), "9.9.9", _ => { });
        var growing = Path.Combine(incoming, "growing");
        Fixture.WriteVariant(growing, "1.4.0", _ => { });
        await rig.Service.PollAsync();
        File.AppendAllText(Path.Combine(growing, "notes.txt"), "copy in progress");
        await rig.Service.PollAsync();
        Assert.Equal(0, rig.Service.Picked); // changed between the polls: not taken yet

        await rig.Service.PollAsync();
        Assert.Equal(1, rig.Service.Picked);
        Assert.True(Directory.Exists(Path.Combine(incoming, ".still-copying")));
    }

    [Fact]
    public async Task A_rollout_given_as_bytes_is_written_into_the_store_and_installed()
    {
        using var rig = new Rig(this);
        using var package = new TempDirectory();
        Fixture.WriteVariant(package.Path, "1.5.0", _ => { });
        var files = new ModelPackageFiles(
            File.ReadAllBytes(package.File(ModelPackageLayout.OnnxFile)), File.ReadAllBytes(package.File(ModelPackageLayout.ManifestFile)), File.ReadAllBytes(package.File(ModelPackageLayout.SignatureFile)));

        var result = await rig.Service.InstallAsync(files, "cloud rollout r-17");
        Assert.True(result.Installed, result.Detail);
        Assert.Equal("1.5.0", result.Version);
        Assert.Contains(rig.Events, e => e.Kind == "model-staged" && e.Detail.Contains("cloud rollout r-17", StringComparison.Ordinal));

        var unsigned = await rig.Service.InstallAsync(files with { Signature = [] }, "cloud rollout r-18");
        Assert.Equal(ModelRefusal.Unsigned, unsigned.Refusal);
    }

    /// <summary>A control loop with the decision module over a real manager, and the rollout service on a model store.</summary>
    private sealed class Rig : IDisposable
    {
        private readonly RecordingSinks _events = new();

        public Rig(ModelRolloutTests test)
        {
            Models = test.Manager();
            var policy = new RuntimeAssurancePolicy(new RuntimeAssuranceOptions { AcceptConfidence = 0.5, EscalateConfidence = 0.4, RecoveryTicks = 0 },
                Builders.Limits, Models, NullEscalationClient.Instance, _events, test._time, NullLogger.Instance, "r1");
            Loop = new LoopRig(policy, time: test._time);

            // Its own clock, never advanced: the poll timer never fires, the test polls.
            Service = new ModelRolloutService(Models, new ModelStoreSettings(test._store.Path, TimeSpan.FromSeconds(1)), _events, new FakeTimeProvider(), NullLogger.Instance);
            Service.Start();
            Loop.SimTicks(30); // recorded inputs: moves and holds, never a rotation
        }

        public ModelManager Models { get; }

        public LoopRig Loop { get; }

        public ModelRolloutService Service { get; }

        public List<RobotEventRecord> Events => _events.Events;

        /// <summary>Writes a package into incoming/ the way a producer should (a dot directory renamed into place) and polls until it is taken.</summary>
        public async Task DropAsync(string name, Action<string> write)
        {
            var temp = Path.Combine(Service.Incoming, "." + name);
            write(temp);
            Directory.Move(temp, Path.Combine(Service.Incoming, name));
            var picked = Service.Picked;
            await Service.PollAsync();
            await Service.PollAsync();
            Assert.Equal(picked + 1, Service.Picked);
        }

        public void Dispose()
        {
            Service.Dispose();
            Loop.Dispose();
            Models.Dispose();
        }
    }

    private sealed class FakeModel : ILearnedModel, IDisposable
    {
        private readonly float[] _input = new float[PolicyFeatures.Count];

        public bool Disposed { get; private set; }

        public string Version => "fake";

        public Span<float> Input => _input;

        public LearnedOutput Run() => new(InferenceStatus.Ok, 0.1f, 0, 0.01f, 0.99f, TimeSpan.Zero);

        public void Dispose() => Disposed = true;
    }
}
