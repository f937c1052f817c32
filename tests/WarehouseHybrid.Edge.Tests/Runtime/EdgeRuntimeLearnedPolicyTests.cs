using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Edge.Tests.Models;
using WarehouseHybrid.Tests.Common;

using DecisionMode = WarehouseHybrid.Edge.Control.DecisionMode;
using DecisionReason = WarehouseHybrid.Edge.Control.DecisionReason;

namespace WarehouseHybrid.Edge.Tests.Runtime;

/// <summary>The runtime with a model package configured: the committed package drives, a bad one leaves the rule policy in charge.</summary>
public sealed class EdgeRuntimeLearnedPolicyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly string ShippedPackage = ShippedModel.PackagePath;
    private static readonly string DevKey = ShippedModel.PublicKeyPath;

    private static EdgeOptions Options(string packagePath) => new()
    {
        RobotId = "robot-9", SiteId = "site-a", CloudLinkEnabled = false,
        MapWidth = 10, MapHeight = 10, StartCell = 11, StartHeading = WarehouseHybrid.Domain.Grid.Heading.East,
        ModelPackagePath = packagePath,
        TrustedModelKeys = [DevKey],
        ExecutionProviders = ["CUDA", "CPU"],
        // A loaded CI machine must not turn every inference into a deadline miss; the bench measures the real latency.
        InferenceDeadline = TimeSpan.FromMilliseconds(500),
        RuntimeAssurance = new RuntimeAssuranceOptions { AcceptConfidence = 0.6, EscalateConfidence = 0.5 },
    };

    [Fact]
    public async Task The_committed_package_is_installed_at_start_reports_its_version_and_provider_and_drives_learned_ticks()
    {
        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        await using var runtime = new EdgeRuntime(Options(ShippedPackage), line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        board.Start();

        var started = runtime.GetStatus();
        Assert.True(started.ModelInstall!.Installed, started.ModelInstall.Detail);
        Assert.Equal(ShippedModel.Version, started.ModelVersion);
        Assert.Equal(ExecutionProviderKind.Cpu, started.ExecutionProvider);
        // CUDA was asked for first: no GPU here, so its failure is recorded with a reason before CPU took over.
        Assert.Contains(started.ProviderAttempts, a => a.Provider == ExecutionProviderKind.Cuda && !a.Succeeded && a.Reason.Length > 0);
        Assert.Contains(started.ProviderAttempts, a => a.Provider == ExecutionProviderKind.Cpu && a.Succeeded);

        runtime.PlanInbox.Post(Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East)));
        await Eventually.UntilAsync(() => runtime.GetStatus().Decisions!.LearnedTicks > 0, Timeout, "a tick decided by the learned policy");

        var status = runtime.GetStatus();
        Assert.True(status.Decisions!.LearnedTicks > 0);
        Assert.Equal(ShippedModel.Version, status.ModelVersion);
        await runtime.StopAsync();
        Assert.Equal(string.Empty, runtime.GetStatus().ModelVersion); // the ONNX session is released at stop
    }

    [Theory]
    [InlineData("tampered", ModelRefusal.OnnxHashMismatch)]
    [InlineData("unsigned", ModelRefusal.Unsigned)]
    public async Task A_refused_package_leaves_the_rule_policy_driving_and_the_reason_in_the_status(string damage, ModelRefusal expected)
    {
        using var package = new TempDirectory();
        foreach (var file in Directory.GetFiles(ShippedPackage))
        {
            File.Copy(file, package.File(Path.GetFileName(file)));
        }

        if (damage == "tampered")
        {
            var onnx = File.ReadAllBytes(package.File("model.onnx"));
            onnx[^1] ^= 0x5A;
            File.WriteAllBytes(package.File("model.onnx"), onnx);
        }
        else
        {
            File.Delete(package.File("manifest.sig"));
        }

        using var line = InMemorySerialPair.Create();
        using var board = new BoardDouble(line.BoardEnd, new KinematicRobot(1.5, 1.5, 0));
        await using var runtime = new EdgeRuntime(Options(package.Path), line.DaemonEnd, TimeProvider.System, NullLoggerFactory.Instance);
        await runtime.StartAsync();
        board.Start();

        var started = runtime.GetStatus();
        Assert.True(started.Running);
        Assert.False(started.ModelInstall!.Installed);
        Assert.Equal(expected, started.ModelInstall.Refusal);
        Assert.Contains(package.Path, started.ModelInstall.Detail, StringComparison.Ordinal);
        Assert.Equal(string.Empty, started.ModelVersion);
        Assert.Null(started.ExecutionProvider);

        runtime.PlanInbox.Post(Builders.Segment(1, 11, Heading.East, 1, Builders.Step(1, PlanAction.Forward, 12, Heading.East)));
        await Eventually.UntilAsync(() => runtime.GetStatus().LastCompletedStep == 1, Timeout, "the rule policy completing step 1");
        var status = runtime.GetStatus();
        Assert.Equal(0, status.Decisions!.LearnedTicks);
        Assert.True(status.Decisions.FallbackTicks[(int)DecisionReason.ModelUnavailable] > 0);
    }

    [Fact]
    public void Bad_model_options_are_rejected_naming_the_option()
    {
        var options = Options(ShippedPackage);
        options.ExecutionProviders = ["CPU", "FPGA"];
        options.TrustedModelKeys = ["/nonexistent/key.pem"];
        options.RuntimeAssurance = new RuntimeAssuranceOptions { AcceptConfidence = 1.5 };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("Edge:ExecutionProviders:1:", StringComparison.Ordinal) && e.Contains("FPGA", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:TrustedModelKeys:0:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Edge:RuntimeAssurance:AcceptConfidence:", StringComparison.Ordinal));
    }

    [Fact]
    public void Model_settings_bind_from_configuration_without_mixing_in_defaults()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Edge:RobotId"] = "r1",
            ["Edge:SiteId"] = "s1",
            ["Edge:ModelPackagePath"] = ShippedPackage,
            ["Edge:TrustedModelKeys:0"] = DevKey,
            ["Edge:ExecutionProviders:0"] = "TensorRT",
            ["Edge:ExecutionProviders:1"] = "cpu",
            ["Edge:InferenceDeadline"] = "00:00:00.003",
            ["Edge:RuntimeAssurance:AcceptConfidence"] = "0.7",
            ["Edge:RuntimeAssurance:DriftWindow"] = "50",
        }).Build();

        var options = config.GetSection(EdgeOptions.SectionName).Get<EdgeOptions>()!;

        Assert.Empty(options.Validate());
        Assert.Equal(ShippedPackage, options.ModelPackagePath);
        Assert.Equal([DevKey], options.TrustedModelKeys);
        Assert.Equal([ExecutionProviderKind.TensorRT, ExecutionProviderKind.Cpu], options.ParsedExecutionProviders());
        Assert.Equal(TimeSpan.FromMilliseconds(3), options.InferenceDeadline);
        Assert.Equal(0.7, options.RuntimeAssurance.AcceptConfidence);
        Assert.Equal(50, options.RuntimeAssurance.DriftWindow);
    }

    [Fact]
    public void Without_model_settings_the_options_are_valid_and_default_to_the_cpu_provider()
    {
        var options = new EdgeOptions { RobotId = "r1", SiteId = "s1" };
        Assert.Empty(options.Validate());
        Assert.Null(options.ModelPackagePath);
        Assert.Equal([ExecutionProviderKind.Cpu], options.ParsedExecutionProviders());
    }
}
