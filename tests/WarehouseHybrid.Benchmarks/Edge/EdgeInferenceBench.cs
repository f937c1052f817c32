using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.ModelTool.Packaging;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.Benchmarks.Edge;

/// <summary>
/// <c>edge-inference [--calls N]</c>: the learned policy's MLP (25-32-32-2+2) through ONNX Runtime on CPU with
/// one intra-op thread, three ways in the same run (OrtIoBinding over pinned OrtValues as the daemon does,
/// Run with preallocated OrtValues, NamedOnnxValue), per-call p50/p99/max and bytes allocated per call; then
/// the control tick with the rule policy alone and with the runtime-assurance module running the model.
/// </summary>
public static class EdgeInferenceBench
{
    /// <summary>Runs the bench and prints a table.</summary>
    public static void Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var calls = args is ["--calls", var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 20_000;
        Console.WriteLine("training the benchmark model (rule-policy imitation, 10,000 rows)...");
        var model = PolicyModelBuilder.Build(new PolicyModelSpec(Samples: 10_000, HoldoutSamples: 500, Trainer: new TrainerSettings(Epochs: 5)), DateTimeOffset.UnixEpoch);
        var row = ModelManager.FeatureMeans(model.Manifest);

        var binding = Measure("IoBinding (daemon path)", calls, BindingCall(model.Onnx, row));
        var prealloc = Measure("Run, preallocated OrtValues", calls, PreallocatedCall(model.Onnx, row));
        var named = Measure("Run, NamedOnnxValue", calls, NamedCall(model.Onnx, row));
        Console.WriteLine();
        Console.WriteLine("| path | p50 us | p99 us | max us | B/call | p50 vs IoBinding |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in new[] { binding, prealloc, named })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.P50:F2} | {r.P99:F2} | {r.Max:F1} | {r.BytesPerCall:F0} | {r.P50 / binding.P50:F2}x |"));
        }

        var rule = TickBench("control tick, rule policy only", calls, model, learned: false);
        var learned = TickBench("control tick, runtime assurance + ONNX model", calls, model, learned: true);
        var full = TickBench("control tick, runtime assurance + ONNX model + audit sampling + Prometheus metrics", calls, model, learned: true, auditAndMetrics: true);
        Console.WriteLine();
        Console.WriteLine("| tick | p50 us | p99 us | max us | B/tick | learned share |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (r, share) in new[] { rule, learned, full })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.P50:F2} | {r.P99:F2} | {r.Max:F1} | {r.BytesPerCall:F1} | {share:P0} |"));
        }
    }

    private sealed record Result(string Name, double P50, double P99, double Max, double BytesPerCall);

    private static Action BindingCall(byte[] onnx, float[] row)
    {
        var policy = OnnxPolicy.Create("bench", onnx, row, new InferenceOptions { ExecutionProviders = [ExecutionProviderKind.Cpu], Deadline = TimeSpan.FromSeconds(1) }, TimeProvider.System, NullLogger.Instance);
        row.CopyTo(policy.Input);
        return () => policy.Run();
    }

    private static SessionOptions Options() => new() { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };

    private static Action PreallocatedCall(byte[] onnx, float[] row)
    {
        var session = new InferenceSession(onnx, Options());
        var runOptions = new RunOptions();
        var input = (float[])row.Clone();
        OrtValue[] inputs = [OrtValue.CreateTensorValueFromMemory(input, [1, PolicyFeatures.Count])];
        OrtValue[] outputs = [OrtValue.CreateTensorValueFromMemory(new float[2], [1, 2]), OrtValue.CreateTensorValueFromMemory(new float[2], [1, 2])];
        string[] inputNames = [PolicyFeatures.InputName];
        string[] outputNames = [PolicyFeatures.ActionOutputName, PolicyFeatures.ObstacleOutputName];
        return () => session.Run(runOptions, inputNames, inputs, outputNames, outputs);
    }

    private static Action NamedCall(byte[] onnx, float[] row)
    {
        var session = new InferenceSession(onnx, Options());
        var tensor = new DenseTensor<float>((float[])row.Clone(), [1, PolicyFeatures.Count]);
        return () =>
        {
            var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(PolicyFeatures.InputName, tensor) };
            using var results = session.Run(inputs);
            _ = results[0].AsTensor<float>()[0, 0];
        };
    }

    private static Result Measure(string name, int calls, Action call)
    {
        for (var i = 0; i < 2000; i++)
        {
            call();
        }

        var samples = new double[calls];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < calls; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            call();
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }

        var bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls;
        return Summarise(name, samples, bytes);
    }

    private static (Result Result, double LearnedShare) TickBench(string name, int ticks, PolicyModel model, bool learned, bool auditAndMetrics = false)
    {
        using var rig = new TickRig(learned ? model : null, auditAndMetrics);
        var samples = new double[ticks];
        long learnedTicks = 0;
        for (var i = -TickRig.WarmupTicks; i < ticks; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            rig.Tick();
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                learnedTicks += rig.Loop.Latest.Mode == WarehouseHybrid.Edge.Control.DecisionMode.Learned ? 1 : 0;
            }
        }

        // Allocation per tick measured on a separate pass so the sample array writes are not counted; the loop's own
        // long-run counter (the edge_control_allocated_bytes metric) must agree.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var counted = rig.Loop.AllocatedBytes;
        var allocatingBefore = rig.Loop.AllocatingTicks;
        for (var i = 0; i < ticks; i++)
        {
            rig.Tick();
        }

        var bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)ticks;
        var loopCounter = rig.Loop.AllocatedBytes - counted;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {bytes:F1} B/tick measured around the ticks, the loop's allocation counter added {loopCounter} B in {rig.Loop.AllocatingTicks - allocatingBefore} of {ticks} ticks (events: step completed, mode or drift changes){(auditAndMetrics ? $", {rig.AuditRecords} audit records written" : string.Empty)}"));
        return (Summarise(name, samples, bytes), learnedTicks / (double)ticks);
    }

    private static Result Summarise(string name, double[] samples, double bytes)
    {
        Array.Sort(samples);
        return new Result(name, samples[samples.Length / 2], samples[(int)(samples.Length * 0.99)], samples[^1], bytes);
    }
}
