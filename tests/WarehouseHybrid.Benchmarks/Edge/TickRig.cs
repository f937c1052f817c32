using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Metrics;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.ModelTool.Packaging;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.Benchmarks.Edge;

/// <summary>
/// One control loop at 100 Hz on a synthetic robot driving a granted step, ticked synchronously: the rule policy alone,
/// or the runtime-assurance module with an ONNX model; optionally with the audit log sampling a decision a second and
/// the metrics exported by OpenTelemetry's Prometheus listener (the daemon's full configuration).
/// </summary>
internal sealed class TickRig : IDisposable
{
    private readonly SensorSnapshotStore _sensors = new();
    private readonly ModelManager _models;
    private readonly AuditLog? _audit;
    private readonly EdgeMetrics? _metrics;
    private readonly PrometheusEndpoint? _endpoint;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "wh-bench-tick-" + Guid.NewGuid().ToString("N")[..12]);
    private SensorFrame _frame;

    /// <summary>Ticks before measuring: past the step's completion and the first PSI judgement, which allocate once (events).</summary>
    public const int WarmupTicks = 5000;

    public TickRig(PolicyModel? model, bool auditAndMetrics)
    {
        var limits = PolicyModelBuilder.DefaultLimits();
        var map = new GridMap(10, 10, new CellKind[100], "bench");
        var settings = new ControlLoopSettings(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1), map, GridGeometry.Default, limits, new RobotPose(11, WarehouseHybrid.Domain.Grid.Heading.East));
        var plan = new PlanExecutor(map, GridGeometry.Default, new CompletionTolerances(0.05, 0.05, 0.03, 0.08));
        using var key = ModelPackageWriter.NewKey();
        _models = new ModelManager(new ModelPackageLoader([key.ExportSubjectPublicKeyInfoPem()]), new InferenceOptions { Deadline = TimeSpan.FromMilliseconds(1) },
            new ModelRolloutOptions { ProbationTicks = 0 }, TimeProvider.System, NullLogger.Instance);
        IDrivingPolicy policy = new RulePolicy(limits);
        if (model is not null)
        {
            var package = Path.Combine(_dir, "model");
            ModelPackageWriter.Write(package, model.Onnx, model.Manifest, key);
            var installed = _models.TryInstall(package);
            if (!installed.Installed)
            {
                throw new InvalidOperationException(installed.Detail);
            }

            Assurance = new RuntimeAssurancePolicy(new RuntimeAssuranceOptions { AcceptConfidence = 0.6, EscalateConfidence = 0.5, DriftZThreshold = 50 }, limits, _models,
                NullEscalationClient.Instance, Sink.Instance, TimeProvider.System, NullLogger.Instance, "bench");
            policy = Assurance;
        }

        var extras = new ControlLoopExtras();
        if (auditAndMetrics)
        {
            _endpoint = new PrometheusEndpoint(new MetricsOptions { Enabled = true, Port = FreePort() });
            _metrics = new EdgeMetrics();
            _audit = new AuditLog(Path.Combine(_dir, "audit"), new AuditOptions(), "bench", TimeProvider.System, NullLogger.Instance);
            _audit.Start();
            extras = new ControlLoopExtras { Audit = _audit, Metrics = _metrics, DecisionAuditEveryTicks = 100 };
            if (Assurance is not null)
            {
                Assurance.Metrics = _metrics;
            }
        }

        Loop = new ControlLoop(settings, _sensors, plan, policy, new SafetyShield(limits, 200), Sink.Instance, Sink.Instance, Sink.Instance, TimeProvider.System, NullLogger.Instance, extras);
        var segment = new PlanSegment { RobotId = "bench", PlanId = "p", Revision = 1, FirstStep = 1, StartCell = 11, StartHeading = WarehouseHybrid.Contracts.Fleet.Heading.East, TraceId = "t" };
        segment.Steps.Add(new PlanStep { Step = 1, Action = PlanAction.Forward, TargetCell = 12, TargetHeading = WarehouseHybrid.Contracts.Fleet.Heading.East, Granted = true });
        Loop.Post(segment);
        _frame = new SensorFrame { LeftWheelMps = 0.4f, RightWheelMps = 0.4f, BoardTimeMs = 30_000 };
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            _frame.Ranges[i] = (ushort)(2500 + (i * 50));
        }
    }

    public ControlLoop Loop { get; }

    public RuntimeAssurancePolicy? Assurance { get; }

    public long AuditRecords => _audit is null ? 0 : (_audit.Flush(TimeSpan.FromSeconds(5)) ? _audit.Counters.Written : -1);

    /// <summary>One tick on a fresh sensor frame (the frame is published as the serial reader would).</summary>
    public void Tick()
    {
        _frame.BoardTimeMs += 10;
        _sensors.Publish(_frame, Stopwatch.GetTimestamp());
        Loop.Tick();
    }

    public void Dispose()
    {
        Loop.Dispose();
        _models.Dispose();
        _audit?.Dispose();
        _metrics?.Dispose();
        _endpoint?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Sink : IMotorCommandSink, ITelemetrySink, IRobotEventSink
    {
        public static Sink Instance { get; } = new();

        public void Submit(in MotorCommand command)
        {
        }

        public void Offer(in ControlSample sample, bool urgent)
        {
        }

        public void Offer(RobotEventRecord record)
        {
        }
    }
}
