using BenchmarkDotNet.Attributes;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.Benchmarks.Edge;

/// <summary>
/// The control tick under BenchmarkDotNet with the memory diagnoser: 100 ticks per operation (one second at 100 Hz),
/// and BenchmarkDotNet divides by it: Mean and Allocated are per tick (Allocated must read 0 B). Configurations: the rule policy alone, the runtime-assurance
/// module with the learned ONNX model, and the latter with the audit log and the Prometheus metrics on (the daemon's
/// full configuration; one audited decision per operation).
/// </summary>
[MemoryDiagnoser]
public class ControlTickBenchmarks
{
    private const int TicksPerOperation = 100;
    private TickRig _rig = null!;

    /// <summary>Which configuration.</summary>
    [Params("rule", "learned", "learned+audit+metrics")]
    public string Configuration { get; set; } = "rule";

    /// <summary>Trains the model when needed and warms the loop up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var model = Configuration == "rule" ? null : PolicyModelBuilder.Build(new PolicyModelSpec(Samples: 10_000, HoldoutSamples: 500, Trainer: new TrainerSettings(Epochs: 5)), DateTimeOffset.UnixEpoch);
        _rig = new TickRig(model, auditAndMetrics: Configuration.EndsWith("metrics", StringComparison.Ordinal));
        // Past the step's completion and the first PSI judgement (3000 + 750 ticks): both allocate once (events).
        for (var i = 0; i < TickRig.WarmupTicks; i++)
        {
            _rig.Tick();
        }
    }

    /// <summary>Releases the loop, the model and the audit directory.</summary>
    [GlobalCleanup]
    public void Cleanup() => _rig.Dispose();

    /// <summary>100 control ticks.</summary>
    [Benchmark(OperationsPerInvoke = TicksPerOperation)]
    public void Tick()
    {
        for (var i = 0; i < TicksPerOperation; i++)
        {
            _rig.Tick();
        }
    }
}
