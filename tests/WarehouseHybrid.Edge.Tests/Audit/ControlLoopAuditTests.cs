using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Models;
using WarehouseHybrid.Edge.Tests.Runtime;
using WarehouseHybrid.Tests.Common;
using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;

namespace WarehouseHybrid.Edge.Tests.Audit;

/// <summary>What the control loop and the runtime put into the audit log.</summary>
public sealed class ControlLoopAuditTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Every_mode_change_and_every_nth_decision_is_audited_with_trace_model_input_digest_and_output()
    {
        var audit = new CapturingAudit();
        using var rig = new LoopRig(extras: new ControlLoopExtras { Audit = audit, DecisionAuditEveryTicks = 10 });
        rig.SimTick();
        rig.Loop.Post(Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East)));
        rig.SimTicks(29);
        rig.Time.Advance(TimeSpan.FromMilliseconds(300)); // stale sensors: a fallback to a shield stop
        rig.Loop.Tick();
        rig.SimTick();

        var changes = audit.Entries.Where(e => e.Kind == AuditKinds.ModeChange).ToList();
        Assert.Equal(3, changes.Count); // Unknown->Rule, ->ShieldStop (sensor-stale), ->Rule
        var stale = changes[1];
        Assert.Equal("sensor-stale", stale.Reason);
        Assert.True(stale.HasInput && stale.HasDecision);
        Assert.Equal((DecisionMode.ShieldStop, DecisionReason.SensorStale), (stale.Decision.Mode, stale.Decision.Reason));
        Assert.Equal(0f, stale.Decision.LinearMps);
        Assert.Equal("trace-1", stale.TraceId);
        Assert.True(float.IsNaN(stale.Decision.Confidence)); // no model ran

        var samples = audit.Entries.Where(e => e.Kind == AuditKinds.Decision).ToList();
        Assert.Equal(3, samples.Count); // ticks 10, 20 and 30 (tick 31 changed mode, tick 32 is not a multiple)
        Assert.All(samples, s => Assert.True(s.HasInput && s.HasDecision && s.Decision.Mode == DecisionMode.Rule));
        Assert.NotEqual(Bytes(samples[0].Input), Bytes(samples[1].Input)); // the robot moved: another input, another digest
    }

    [Fact]
    public void A_rejected_plan_and_the_shutdown_brake_are_audited()
    {
        var audit = new CapturingAudit();
        using var rig = new LoopRig(extras: new ControlLoopExtras { Audit = audit });
        rig.Loop.Post(Builders.Segment(1, 55, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 56, Heading.East)));
        rig.SimTick();
        rig.Loop.Stop(TimeSpan.FromSeconds(1));

        var rejected = Assert.Single(audit.Entries, e => e.Kind == "plan-rejected");
        Assert.Equal("trace-1", rejected.TraceId);
        Assert.False(string.IsNullOrEmpty(rejected.Detail));
        var shutdown = audit.Entries[^1];
        Assert.Equal((AuditKinds.ModeChange, "shutdown"), (shutdown.Kind, shutdown.Reason));
        Assert.True(shutdown.Decision.Brake);
    }

    [Fact]
    public async Task The_runtime_audits_model_install_swaps_mode_changes_and_sampled_decisions_into_a_chain_that_verifies()
    {
        using var dir = new TempDirectory();
        var options = new EdgeOptions
        {
            RobotId = "robot-a", SiteId = "site-a", CloudLinkEnabled = false, MapWidth = 10, MapHeight = 10,
            StartCell = 11, StartHeading = WarehouseHybrid.Domain.Grid.Heading.East,
            ModelPackagePath = ShippedModel.PackagePath, TrustedModelKeys = [ShippedModel.PublicKeyPath],
            InferenceDeadline = TimeSpan.FromMilliseconds(500),
            Audit = new AuditOptions { Directory = dir.Path, DecisionSampleInterval = TimeSpan.FromMilliseconds(200) },
        };
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        await using (var runtime = new EdgeRuntime(options, line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance))
        {
            Assert.NotNull(runtime.AuditFeed);
            await runtime.StartAsync();
            board.Start();
            runtime.PlanInbox.Post(Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East)));
            await Eventually.UntilAsync(() => runtime.GetStatus().Audit!.Value.Written > 10, Timeout, "audit records");
            await runtime.StopAsync();
        }

        var result = AuditVerifier.Verify(dir.Path);
        Assert.True(result.Ok, result.Problem?.ToString());
        var records = AuditRecordCodec.Files(dir.Path).SelectMany(f => File.ReadAllLines(f.Path))
            .Select(l => { AuditRecordCodec.TryParse(System.Text.Encoding.UTF8.GetBytes(l), out var r, out _); return r!; }).ToList();
        var kinds = records.Select(r => r.Kind).ToHashSet();
        Assert.Superset(new HashSet<string> { AuditKinds.Opened, "model-staged", "model-swap", AuditKinds.ModeChange, AuditKinds.Decision, AuditKinds.Closed }, kinds);
        var learned = records.First(r => r.Decision?.Mode == DecisionMode.Learned);
        Assert.Equal(ShippedModel.Version, learned.ModelVersion);
        Assert.InRange(learned.Decision!.Value.Confidence, 0.5f, 1f);
        Assert.Equal(AuditKinds.Closed, records[^1].Kind);
        Assert.Equal("shutdown", records[^2].Reason);
    }

    private static byte[] Bytes(Sha256Digest digest) => ((ReadOnlySpan<byte>)digest).ToArray();

    private sealed class CapturingAudit : IAuditSink
    {
        public List<AuditEntry> Entries { get; } = [];

        public bool TryAppend(in AuditEntry entry)
        {
            Entries.Add(entry);
            return true;
        }
    }
}
