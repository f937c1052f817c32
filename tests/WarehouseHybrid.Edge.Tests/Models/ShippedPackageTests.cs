using System.Security.Cryptography;
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
using Heading = WarehouseHybrid.Domain.Grid.Heading;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>
/// The package committed under edge/.../Models/Packages: signed by the committed development key, its ONNX file pinned by
/// hash to the manifest, loadable, and it recognises obstacles.
/// </summary>
public sealed class ShippedPackageTests
{
    // What `wh-model train-model --out driving-policy-1.1.0 --key <dev key> --version 1.1.0 --dagger-rounds 4
    // --created 2026-12-01T00:00:00Z` wrote on the machine that made the package (docs/models.md: libm's last bits can
    // change these on another platform; retraining means re-pinning them here and in the package README).
    private const string OnnxSha256 = "c3fd64f62bc87f73c5a21556930ede970f632e4ad56095fff61d54eb76ffd55e";
    private const string TrainingDataDigest = "sha256:c447c755f5db35ab570d986fd37e1a311397a034203de9c01d3d964aa614aa14";
    private static readonly DateTimeOffset Created = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static ModelPackageLoader Loader() => new([File.ReadAllText(ShippedModel.PublicKeyPath)]);

    [Fact]
    public void The_shipped_package_verifies_against_the_development_key_and_its_manifest_pins_the_onnx_file()
    {
        var result = Loader().Load(ShippedModel.PackagePath);
        Assert.True(result.Accepted, result.Detail);
        var manifest = result.Package!.Manifest;
        Assert.Equal(ShippedModel.Version, result.Package.Version);
        Assert.Equal(OnnxSha256, manifest.OnnxSha256);
        Assert.Equal(OnnxSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(ShippedModel.PackagePath, ModelPackageLayout.OnnxFile)))));
        Assert.Equal(TrainingDataDigest, manifest.TrainingDataDigest);
        Assert.Equal(Created.ToUnixTimeMilliseconds(), manifest.CreatedUnixMs);
        Assert.Equal(ModelPackageLayout.SignatureAlgorithm, manifest.SignatureAlgorithm);
    }

    [Fact]
    public void The_signature_is_ECDSA_P256_over_the_exact_manifest_bytes_with_the_committed_public_key()
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(ShippedModel.PublicKeyPath));
        Assert.Equal(256, key.KeySize);
        var manifest = File.ReadAllBytes(Path.Combine(ShippedModel.PackagePath, ModelPackageLayout.ManifestFile));
        var signature = File.ReadAllBytes(Path.Combine(ShippedModel.PackagePath, ModelPackageLayout.SignatureFile));

        Assert.True(key.VerifyData(manifest, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        manifest[manifest.Length / 2] ^= 0x01;
        Assert.False(key.VerifyData(manifest, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void Only_the_current_package_is_shipped_and_no_private_key_is_committed()
    {
        Assert.Equal([Path.GetFileName(ShippedModel.PackagePath)], Directory.GetDirectories(ShippedModel.Packages).Select(Path.GetFileName));
        foreach (var pem in Directory.GetFiles(ShippedModel.Packages, "*.pem", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(pem), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0.6, true)]
    [InlineData(1.0, true)]
    [InlineData(3.5, false)]
    public void The_shipped_model_classifies_an_obstacle_straight_ahead(double metres, bool obstacle)
    {
        using var manager = new ModelManager(Loader(), new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) }, new FakeTimeProvider(), NullLogger.Instance);
        Assert.True(manager.TryInstall(ShippedModel.PackagePath).Installed);
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
