using CsCheck;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Tracing;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Tests.Doubles;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>
/// The cloud rollout's <c>cmd/model</c> messages on the edge: a real model manager and rollout service on a temp model
/// store (packages of the test-trained model signed with the fixture's key), the handler between them and a recording
/// event sink standing in for the link.
/// </summary>
public sealed class ModelDeploymentHandlerTests : IAsyncLifetime
{
    private const string Robot = "r7";
    private static TrainedModelFixture Fixture => TrainedModelFixture.Instance;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TempDirectory _store = new();
    private readonly TempDirectory _packages = new();
    private readonly RecordingSinks _events = new();
    private ModelManager _models = null!;
    private ModelRolloutService _service = null!;
    private ModelDeploymentHandler _handler = null!;

    public Task InitializeAsync()
    {
        _models = new ModelManager(new ModelPackageLoader([Fixture.PublicKeyPem]), new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) },
            new ModelRolloutOptions { ProbationTicks = 5, ProbationFailureStreak = 3 }, _time, NullLogger.Instance);
        _service = new ModelRolloutService(_models, new ModelStoreSettings(_store.Path, TimeSpan.FromSeconds(1)), _events, new FakeTimeProvider(), NullLogger.Instance);
        _service.Start();
        _handler = NewHandler(_service);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _handler.DisposeAsync();
        _service.Dispose();
        _models.Dispose();
        _store.Dispose();
        _packages.Dispose();
    }

    private ModelDeploymentHandler NewHandler(IModelInstaller? installer, ModelDeploymentLimits? limits = null)
    {
        var handler = new ModelDeploymentHandler(Robot, installer, () => _models.Current, _store.Path, _events, _time, NullLogger.Instance, limits);
        _models.Lifecycle += handler.OnLifecycle;
        return handler;
    }

    private string Package(string version)
    {
        var dir = Path.Combine(_packages.Path, version);
        Fixture.WriteVariant(dir, version, _ => { });
        return dir;
    }

    private ModelDeployment Deployment(string version, string rollout = "ro-1", string robot = Robot) =>
        TrainedModelFixture.Deployment(Package(version), robot, rollout);

    private static ModelDeployment Revert(string rollout = "ro-1") =>
        new() { RobotId = Robot, RolloutId = rollout, Revert = true, TraceId = TraceParent.NewRoot() };

    private async Task<ModelDeploymentOutcome> HandleAsync(ModelDeployment deployment) =>
        (await _handler.HandleAsync(deployment.ToByteArray()))!;

    /// <summary>Runs what the control thread does at a tick boundary: a staged model goes live.</summary>
    private string LiveVersion()
    {
        _models.AcquireForTick();
        return _models.Current?.Manifest.Version ?? string.Empty;
    }

    private void RunningBefore(string version)
    {
        Assert.True(_models.TryInstall(Package(version)).Installed);
        Assert.Equal(version, LiveVersion());
    }

    private List<RobotEventRecord> DeploymentEvents() => [.. _events.Events.Where(e => e.Kind == ModelDeploymentHandler.EventKind)];

    [Fact]
    public async Task A_valid_deployment_is_installed_goes_live_at_the_next_tick_and_is_reported_with_its_trace_id()
    {
        RunningBefore("1.0.0");
        var deployment = Deployment("2.0.0");

        var outcome = await HandleAsync(deployment);

        Assert.Equal(ModelDeploymentResult.Installed, outcome.Result);
        Assert.Equal("2.0.0", LiveVersion());
        var e = Assert.Single(DeploymentEvents());
        Assert.StartsWith("rollout=ro-1 version=2.0.0 result=installed: ", e.Detail, StringComparison.Ordinal);
        Assert.Equal(deployment.TraceId, e.TraceId);
        Assert.Contains(_events.Events, x => x.Kind == "model-staged" && x.Detail.Contains("cloud rollout ro-1", StringComparison.Ordinal));
        Assert.Equal(1, _handler.Counters.Installed);

        // Probation passes: reported again under the rollout with the same trace.
        for (var i = 0; i < 5; i++)
        {
            _models.ReportTick(InferenceStatus.Ok);
        }

        Assert.Contains(DeploymentEvents(), x => x.Detail.StartsWith("rollout=ro-1 version=2.0.0 result=promoted", StringComparison.Ordinal) && x.TraceId == deployment.TraceId);
    }

    [Fact]
    public async Task A_deployment_for_another_robot_is_rejected_and_counted_and_nothing_is_installed()
    {
        RunningBefore("1.0.0");

        var outcome = await HandleAsync(Deployment("2.0.0", robot: "r8"));

        Assert.Equal(ModelDeploymentResult.Rejected, outcome.Result);
        Assert.Contains("robot_id 'r8' is not this robot ('r7')", outcome.Detail, StringComparison.Ordinal);
        Assert.Equal("1.0.0", LiveVersion());
        Assert.Equal(1, _handler.Counters.Rejected);
        Assert.DoesNotContain(_events.Events, x => x.Kind == "model-staged" && x.Detail.Contains("ro-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_signature_is_refused_by_the_installer_and_the_old_model_keeps_driving()
    {
        RunningBefore("1.0.0");
        var deployment = Deployment("2.0.0");
        var signature = deployment.Signature.ToByteArray();
        signature[10] ^= 0x40;
        deployment.Signature = ByteString.CopyFrom(signature);

        var outcome = await HandleAsync(deployment);

        Assert.Equal(ModelDeploymentResult.Refused, outcome.Result);
        Assert.Contains(nameof(ModelRefusal.SignatureInvalid), outcome.Detail, StringComparison.Ordinal);
        Assert.Equal("1.0.0", LiveVersion());
        Assert.StartsWith("rollout=ro-1 version=2.0.0 result=refused: ", Assert.Single(DeploymentEvents()).Detail, StringComparison.Ordinal);
        Assert.Equal(1, _handler.Counters.Refused);
    }

    [Fact]
    public async Task A_redelivered_deployment_is_reported_as_a_duplicate_and_installs_nothing_twice()
    {
        RunningBefore("1.0.0");
        var payload = Deployment("2.0.0").ToByteArray();

        var first = await _handler.HandleAsync(payload);
        LiveVersion();
        var swaps = _models.Swaps;
        var second = await _handler.HandleAsync(payload);

        Assert.Equal(ModelDeploymentResult.Installed, first!.Result);
        Assert.Equal(ModelDeploymentResult.Duplicate, second!.Result);
        Assert.Contains("already handled: installed", second.Detail, StringComparison.Ordinal);
        Assert.Equal(swaps, _models.Swaps);
        Assert.Equal("2.0.0", LiveVersion());
        Assert.Single(_events.Events, x => x.Kind == "model-staged" && x.Detail.Contains("ro-1", StringComparison.Ordinal));
        Assert.Equal((1, 1), (_handler.Counters.Installed, _handler.Counters.Duplicates));
    }

    [Fact]
    public async Task Revert_puts_back_the_model_that_ran_before_the_rollout_even_after_the_new_one_passed_probation()
    {
        RunningBefore("1.0.0");
        Assert.Equal(ModelDeploymentResult.Installed, (await HandleAsync(Deployment("2.0.0"))).Result);
        Assert.Equal("2.0.0", LiveVersion());
        for (var i = 0; i < 5; i++)
        {
            _models.ReportTick(InferenceStatus.Ok); // promoted: the manager's own last-good is now 2.0.0
        }

        var revert = Revert();
        var outcome = await HandleAsync(revert);

        Assert.True(outcome.Result == ModelDeploymentResult.Reverted, outcome.Detail);
        Assert.Contains("model 1.0.0 put back", outcome.Detail, StringComparison.Ordinal);
        Assert.Equal("1.0.0", LiveVersion());
        Assert.Contains(DeploymentEvents(), x => x.Detail.StartsWith("rollout=ro-1 version=- result=reverted", StringComparison.Ordinal) && x.TraceId == revert.TraceId);

        // Reverting again (or a revert redelivered with a new trace) changes nothing.
        var again = await HandleAsync(Revert());
        Assert.Equal(ModelDeploymentResult.Duplicate, again.Result);
        Assert.Equal(1, _handler.Counters.Reverted);
    }

    [Fact]
    public async Task Revert_on_a_robot_that_ran_no_model_before_the_rollout_removes_the_model_and_the_rule_policy_drives()
    {
        Assert.Equal(ModelDeploymentResult.Installed, (await HandleAsync(Deployment("2.0.0", rollout: "ro-2"))).Result);
        Assert.Equal("2.0.0", LiveVersion());

        var outcome = await HandleAsync(Revert("ro-2"));

        Assert.Equal(ModelDeploymentResult.Reverted, outcome.Result);
        Assert.Equal(string.Empty, LiveVersion());
        Assert.Contains(_events.Events, x => x.Kind == "model-removed");
    }

    [Fact]
    public async Task Revert_of_a_rollout_this_robot_never_installed_is_a_no_op_that_keeps_the_current_model()
    {
        RunningBefore("1.0.0");

        var outcome = await HandleAsync(Revert("ro-unknown"));

        Assert.Equal(ModelDeploymentResult.Reverted, outcome.Result);
        Assert.Contains("installed nothing from rollout ro-unknown; model 1.0.0 stays", outcome.Detail, StringComparison.Ordinal);
        Assert.Equal("1.0.0", LiveVersion());
    }

    [Fact]
    public async Task Garbage_oversize_and_inconsistent_messages_are_rejected_with_the_field_named_and_never_throw()
    {
        RunningBefore("1.0.0");
        var good = Deployment("2.0.0");
        await using var small = NewHandler(_service, new ModelDeploymentLimits(MaxPayloadBytes: 1024));

        var garbage = await _handler.HandleAsync(new byte[] { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 });
        var oversize = await small.HandleAsync(good.ToByteArray());
        var mismatch = await HandleAsync(good.Clone().Also(d => d.Version = "2.0.1"));
        var revertWithBytes = await HandleAsync(good.Clone().Also(d => d.Revert = true));
        var badRollout = await HandleAsync(good.Clone().Also(d => d.RolloutId = "ro\n1"));
        var noManifest = await HandleAsync(good.Clone().Also(d => d.Manifest = ByteString.Empty));

        Assert.Equal(ModelDeploymentResult.Rejected, garbage!.Result);
        Assert.Contains("is not a ModelDeployment", garbage.Detail, StringComparison.Ordinal);
        Assert.Contains("exceeds Edge:Link:MaxModelDeploymentBytes 1024", oversize!.Detail, StringComparison.Ordinal);
        Assert.Contains("disagrees with the manifest's version '2.0.0'", mismatch.Detail, StringComparison.Ordinal);
        Assert.Contains("revert=true carries package bytes", revertWithBytes.Detail, StringComparison.Ordinal);
        Assert.Contains("rollout_id 'ro\\u000a1'", badRollout.Detail, StringComparison.Ordinal);
        Assert.Equal("manifest is empty", noManifest.Detail);
        Assert.All(new[] { mismatch, revertWithBytes, badRollout, noManifest }, o => Assert.Equal(ModelDeploymentResult.Rejected, o.Result));
        Assert.Equal("1.0.0", LiveVersion());
        Assert.Equal(5, _handler.Counters.Rejected);
    }

    [Fact]
    public void Random_payloads_never_throw_out_of_the_receive_path_and_each_gets_one_answer()
    {
        var installer = new CountingInstaller();
        var events = new RecordingSinks();
        var handler = new ModelDeploymentHandler(Robot, installer, () => null, null, events, _time, NullLogger.Instance, new ModelDeploymentLimits(QueueCapacity: 1_000_000));
        var offered = 0;
        // One thread, as the link's receive path calls Offer (CsCheck samples on several threads by default).
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            handler.Offer(bytes);
            offered++;
        }, iter: 2_000, threads: 1);

        // Not started: nothing was installed; every message was either queued or answered.
        Assert.Equal(0, installer.Calls);
        var c = handler.Counters;
        Assert.Equal(offered, c.Received);
        Assert.Equal(c.Rejected + c.Duplicates, events.Events.Count);
    }

    [Fact]
    public async Task Without_a_model_store_every_deployment_is_answered_as_rejected_saying_why()
    {
        await using var handler = NewHandler(installer: null);

        var outcome = await handler.HandleAsync(Deployment("2.0.0").ToByteArray());

        Assert.Equal(ModelDeploymentResult.Rejected, outcome!.Result);
        Assert.Contains("takes no model packages at run time", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offered_deployments_are_installed_in_order_by_the_worker_off_the_receive_path()
    {
        RunningBefore("1.0.0");
        var done = new TaskCompletionSource<ModelDeploymentOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _handler.Outcome += o =>
        {
            if (o.Version == "3.0.0")
            {
                done.TrySetResult(o);
            }
        };
        _handler.Start();

        _handler.Offer(Deployment("2.0.0").ToByteArray());
        _handler.Offer(Deployment("3.0.0", rollout: "ro-3").ToByteArray());
        var last = await done.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ModelDeploymentResult.Installed, last.Result);
        Assert.Equal(new[] { "2.0.0", "3.0.0" }, DeploymentEvents().Select(e => e.Detail.Split(' ')[1]["version=".Length..]));
        Assert.Equal("3.0.0", LiveVersion());
    }

    private sealed class CountingInstaller : IModelInstaller
    {
        public int Calls { get; private set; }

        public Task<ModelInstallResult> InstallAsync(string packageDirectory, string origin, CancellationToken cancellationToken = default) => Count();

        public Task<ModelInstallResult> InstallAsync(ModelPackageFiles files, string origin, CancellationToken cancellationToken = default) => Count();

        public Task RemoveAsync(string origin, CancellationToken cancellationToken = default) => Count();

        private Task<ModelInstallResult> Count()
        {
            Calls++;
            return Task.FromResult(new ModelInstallResult(true, ModelRefusal.None, "counted"));
        }
    }
}

/// <summary>Small fluent edit for protobuf clones in tests.</summary>
internal static class ProtoEdits
{
    public static T Also<T>(this T value, Action<T> edit)
    {
        edit(value);
        return value;
    }
}
