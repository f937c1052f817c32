using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Tests.Models;

namespace WarehouseHybrid.Edge.Tests.Inference;

public sealed class OnnxPolicyTests
{
    private static TrainedModelFixture Fixture => TrainedModelFixture.Instance;

    private static OnnxPolicy Create(InferenceOptions? options = null, TimeProvider? time = null) =>
        OnnxPolicy.Create("t", Fixture.Model.Onnx, ModelManager.FeatureMeans(Fixture.Model.Manifest), options ?? new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) }, time ?? TimeProvider.System, NullLogger.Instance);

    [Fact]
    public void Onnx_runtime_output_matches_the_plain_csharp_forward_pass_of_the_same_weights()
    {
        using var policy = Create();
        var random = new Random(3);
        Span<float> action = stackalloc float[2];
        Span<float> probs = stackalloc float[2];
        var maxError = 0.0;
        for (var n = 0; n < 300; n++)
        {
            for (var i = 0; i < PolicyFeatures.Count; i++)
            {
                policy.Input[i] = (float)((random.NextDouble() * 2.4) - 1.2);
            }

            var output = policy.Run();
            Fixture.Model.Network.Forward(policy.Input, action, probs);
            Assert.Equal(InferenceStatus.Ok, output.Status);
            maxError = Math.Max(maxError, Math.Abs(output.LinearFraction - action[0]));
            maxError = Math.Max(maxError, Math.Abs(output.AngularFraction - action[1]));
            maxError = Math.Max(maxError, Math.Abs(output.ObstacleProbability - probs[1]));
            maxError = Math.Max(maxError, Math.Abs(output.Confidence - Math.Max(probs[0], probs[1])));
        }

        Assert.True(maxError <= 1e-5, $"largest difference {maxError:E2}");
    }

    [Fact]
    public void An_inference_allocates_nothing_after_warm_up()
    {
        using var policy = Create();
        for (var i = 0; i < 50; i++)
        {
            policy.Run();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2000; i++)
        {
            policy.Input[i % PolicyFeatures.Count] = i * 1e-4f;
            policy.Run();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Requested_gpu_providers_fall_back_to_cpu_with_a_reason_for_each()
    {
        using var policy = Create(new InferenceOptions { ExecutionProviders = [ExecutionProviderKind.TensorRT, ExecutionProviderKind.Cuda, ExecutionProviderKind.Cpu] });
        Assert.Equal(ExecutionProviderKind.Cpu, policy.ActiveProvider);
        Assert.Collection(
            policy.Attempts,
            a => Assert.True(a is { Provider: ExecutionProviderKind.TensorRT, Succeeded: false } && a.Reason.Length > 0, a.Reason),
            a => Assert.True(a is { Provider: ExecutionProviderKind.Cuda, Succeeded: false } && a.Reason.Length > 0, a.Reason),
            a => Assert.True(a is { Provider: ExecutionProviderKind.Cpu, Succeeded: true }));
    }

    [Fact]
    public void Cpu_is_appended_when_the_configured_list_lacks_it()
    {
        using var policy = Create(new InferenceOptions { ExecutionProviders = [ExecutionProviderKind.Cuda] });
        Assert.Equal(ExecutionProviderKind.Cpu, policy.ActiveProvider);
        Assert.Equal(2, policy.Attempts.Count);
    }

    [Fact]
    public void An_inference_past_the_deadline_is_reported_late_and_counted()
    {
        // Every timestamp read advances the clock 5 ms: the inference "takes" 5 ms against a 2 ms deadline.
        using var policy = Create(new InferenceOptions { Deadline = TimeSpan.FromMilliseconds(2) }, new SteppingTime(TimeSpan.FromMilliseconds(5)));
        var output = policy.Run();
        Assert.Equal(InferenceStatus.Late, output.Status);
        Assert.Equal(1, policy.DeadlineOverruns);
    }

    [Fact]
    public void Unloadable_onnx_bytes_fail_on_every_provider_with_the_reasons()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            OnnxPolicy.Create("broken", [1, 2, 3], new float[PolicyFeatures.Count], new InferenceOptions { ExecutionProviders = [ExecutionProviderKind.Cpu] }, TimeProvider.System, NullLogger.Instance));
        Assert.Contains("model broken", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Cpu:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_inference_options_are_named()
    {
        var errors = new InferenceOptions { Deadline = TimeSpan.Zero, IntraOpThreads = 0 }.Validate();
        Assert.Contains(errors, e => e.StartsWith("Inference:Deadline", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Inference:IntraOpThreads", StringComparison.Ordinal));
    }

    /// <summary>A clock that moves forward by a fixed step on every read.</summary>
    private sealed class SteppingTime(TimeSpan step) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _now, step.Ticks);
    }
}
