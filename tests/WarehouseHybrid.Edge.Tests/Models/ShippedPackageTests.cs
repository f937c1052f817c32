using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Localization;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.Edge.Plans;
using WarehouseHybrid.Edge.Sensing;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.Tests.Common;
using Heading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>The package committed under edge/.../Models/Packages: signed, loadable, and it recognises obstacles.</summary>
public sealed class ShippedPackageTests
{
    private static readonly string Packages = Path.Combine(RepoPaths.Root, "edge", "WarehouseHybrid.Edge", "Models", "Packages");

    private static ModelPackageLoader Loader() => new([File.ReadAllText(Path.Combine(Packages, "dev-model-key.pub.pem"))]);

    [Fact]
    public void The_shipped_package_verifies_against_the_development_key_and_pins_its_onnx()
    {
        var result = Loader().Load(Path.Combine(Packages, "driving-policy-1.0.0"));
        Assert.True(result.Accepted, result.Detail);
        Assert.Equal("1.0.0", result.Package!.Version);
        Assert.Equal("9a2ebcc466740c58930a971a9eebcf778d2a2f70c26f7c6d82b787a0b2339451", result.Package.Manifest.OnnxSha256);
    }

    [Theory]
    [InlineData(0.6, true)]
    [InlineData(1.0, true)]
    [InlineData(3.5, false)]
    public void The_shipped_model_classifies_an_obstacle_straight_ahead(double metres, bool obstacle)
    {
        using var manager = new ModelManager(Loader(), new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) }, new FakeTimeProvider(), NullLogger.Instance);
        Assert.True(manager.TryInstall(Path.Combine(Packages, "driving-policy-1.0.0")).Installed);
        var model = manager.AcquireForTick()!.Model;

        var snapshot = new SensorSnapshot { FrameCount = 1 };
        for (var i = 0; i < RangeScanLayout.BeamCount; i++)
        {
            snapshot.Frame.Ranges[i] = RangeScanLayout.NoEchoMillimetres;
        }

        snapshot.Frame.Ranges[0] = (ushort)(metres * 1000);
        var input = new PolicyInput(new ContinuousPose(1.5, 1.5, 0), new StepTarget(TargetKind.Move, 1, 12, Heading.East, 2.5, 1.5, 0), snapshot, 0.3, 0, new DriveCommand(0.3, 0), 0.01);
        PolicyFeatures.Extract(input, Builders.Limits, model.Input);
        var output = model.Run();

        Assert.Equal(InferenceStatus.Ok, output.Status);
        Assert.Equal(obstacle, output.ObstacleProbability > 0.5f);
        Assert.True(output.Confidence > 0.8f, $"confidence {output.Confidence}");
    }
}
