using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WarehouseHybrid.Cloud.Escalation;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.ModelTool.Cloud;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.Benchmarks.Cloud;

/// <summary>
/// <c>escalation [--calls N] [--parallel P]</c>: the cloud escalation answer (request checks, the shipped ensemble in ONNX
/// Runtime, advice, metrics, log) per call, p50/p99/max against the SLO, sequential and with P concurrent callers; first
/// checks that the ensemble graph equals the mean of its members computed in C# (on a small ensemble trained here).
/// </summary>
public static class EscalationBench
{
    /// <summary>Runs the bench and prints a table.</summary>
    public static void Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var calls = Option(args, "--calls", 20_000);
        var parallel = Option(args, "--parallel", 2);
        CheckEnsembleGraph();

        using var services = new ServiceCollection().AddMetrics().AddSingleton<CloudMetrics>().BuildServiceProvider();
        var options = new EscalationOptions();
        using var responder = new OnnxEscalationResponder(Options.Create(options), services.GetRequiredService<CloudMetrics>(), TimeProvider.System, NullLogger<OnnxEscalationResponder>.Instance);
        var random = new Random(5);
        var requests = Enumerable.Range(0, 256).Select(i =>
        {
            var r = new EscalationRequest { RobotId = $"r{i}", RequestId = $"q{i}", TraceId = $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01", EdgeConfidence = 0.7f };
            r.Features.Add(Enumerable.Range(0, 25).Select(_ => (float)random.NextDouble()));
            return r;
        }).ToArray();

        Console.WriteLine($"model {responder.ModelVersion} from {options.ResolvedModelPath}, SLO {options.Slo.TotalMilliseconds} ms; {calls} calls");
        var sequential = Measure(calls, 1, i => responder.AnswerAsync(requests[i & 255], CancellationToken.None).AsTask().Result);
        var concurrent = Measure(calls, parallel, i => responder.AnswerAsync(requests[i & 255], CancellationToken.None).AsTask().Result);
        Console.WriteLine();
        Console.WriteLine("| callers | p50 us | p99 us | max us | answered | within SLO |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var (n, r) in new[] { (1, sequential), (parallel, concurrent) })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {n} | {r.P50:F1} | {r.P99:F1} | {r.Max:F0} | {r.Answered:P1} | {r.WithinSlo(options.Slo):P2} |"));
        }
    }

    private sealed record Result(double P50, double P99, double Max, double Answered, double[] Sorted)
    {
        public double WithinSlo(TimeSpan slo) => Sorted.Count(s => s <= slo.TotalMicroseconds) / (double)Sorted.Length;
    }

    private static Result Measure(int calls, int callers, Func<int, EscalationResponse?> call)
    {
        for (var i = 0; i < 1000; i++)
        {
            call(i);
        }

        var samples = new double[calls];
        var answered = 0;
        Parallel.For(0, calls, new ParallelOptions { MaxDegreeOfParallelism = callers }, i =>
        {
            var t0 = Stopwatch.GetTimestamp();
            var answer = call(i);
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            if (answer is not null)
            {
                Interlocked.Increment(ref answered);
            }
        });
        Array.Sort(samples);
        return new Result(samples[calls / 2], samples[(int)(calls * 0.99)], samples[^1], answered / (double)calls, samples);
    }

    // The shipped graph is trusted only if the writer's Concat/ReduceMean/std equal the members' mean computed in C#.
    private static void CheckEnsembleGraph()
    {
        var limits = PolicyModelBuilder.DefaultLimits();
        var data = ScenarioSampler.Generate(2_000, 3, limits);
        var members = Enumerable.Range(0, 3).Select(k =>
        {
            var net = new Mlp(25, 16, 16, new Random(k));
            Trainer.Train(net, data, new TrainerSettings(Epochs: 2, Seed: k));
            return net;
        }).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"wh-ensemble-check-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, EnsembleOnnxWriter.Write(members, "0.0.1", new Dictionary<string, string> { ["members"] = "3" }));
        try
        {
            using var model = new CloudEscalationModel(path);
            double worst = 0;
            Span<float> action = stackalloc float[2];
            Span<float> probs = stackalloc float[2];
            for (var n = 0; n < 200; n++)
            {
                var row = data.Row(n);
                var got = model.Infer(row);
                double sum = 0, sumSq = 0, linear = 0;
                foreach (var m in members)
                {
                    m.Forward(row, action, probs);
                    sum += probs[1];
                    sumSq += probs[1] * probs[1];
                    linear += action[0];
                }

                var mean = sum / members.Length;
                var std = Math.Sqrt(Math.Max(0, (sumSq / members.Length) - (mean * mean)));
                worst = Math.Max(worst, Math.Max(Math.Abs(got.Obstacle - mean), Math.Max(Math.Abs(got.ObstacleStd - std), Math.Abs(got.Linear - (linear / members.Length)))));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ensemble graph vs C# member mean: max abs difference {worst:E2} over 200 rows"));
            if (worst > 1e-3)
            {
                throw new InvalidOperationException($"the ensemble ONNX graph disagrees with its members by {worst}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
