using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.ModelTool.Packaging;

namespace WarehouseHybrid.Edge.Tests.Models;

public sealed class ModelPackageLoaderTests
{
    private static TrainedModelFixture Fixture => TrainedModelFixture.Instance;

    private static ModelPackageLoader Loader() => new([Fixture.PublicKeyPem]);

    [Fact]
    public void A_signed_untouched_package_is_accepted_with_its_manifest()
    {
        using var dir = Fixture.WritePackage();
        var result = Loader().Load(dir.Path);
        Assert.True(result.Accepted, result.Detail);
        Assert.Equal("0.9.0-test", result.Package!.Version);
        Assert.Equal(PolicyFeatures.Count, result.Package.Manifest.FeatureStatistics.Count);
        Assert.StartsWith("sha256:", result.Package.Manifest.TrainingDataDigest, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsigned_package_is_refused()
    {
        using var dir = Fixture.WritePackage();
        File.Delete(dir.File(ModelPackageLayout.SignatureFile));
        var result = Loader().Load(dir.Path);
        Assert.Equal(ModelRefusal.Unsigned, result.Refusal);
        Assert.Contains(ModelPackageLayout.SignatureFile, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_package_signed_by_an_untrusted_key_is_refused()
    {
        using var other = ModelPackageWriter.NewKey();
        using var dir = Fixture.WritePackage();
        var result = new ModelPackageLoader([other.ExportSubjectPublicKeyInfoPem()]).Load(dir.Path);
        Assert.Equal(ModelRefusal.SignatureInvalid, result.Refusal);
        Assert.Contains("does not verify", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tampered_onnx_file_is_refused_by_its_hash()
    {
        using var dir = Fixture.WritePackage();
        var onnx = File.ReadAllBytes(dir.File(ModelPackageLayout.OnnxFile));
        onnx[^5] ^= 0x40; // a weight bit
        File.WriteAllBytes(dir.File(ModelPackageLayout.OnnxFile), onnx);
        var result = Loader().Load(dir.Path);
        Assert.Equal(ModelRefusal.OnnxHashMismatch, result.Refusal);
        Assert.Contains("onnx_sha256", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tampered_manifest_is_refused_by_its_signature()
    {
        using var dir = Fixture.WritePackage();
        var manifest = File.ReadAllBytes(dir.File(ModelPackageLayout.ManifestFile));
        manifest[manifest.Length / 2] ^= 0x01;
        File.WriteAllBytes(dir.File(ModelPackageLayout.ManifestFile), manifest);
        Assert.Equal(ModelRefusal.SignatureInvalid, Loader().Load(dir.Path).Refusal);
    }

    [Fact]
    public void A_signed_package_with_another_input_shape_is_refused_naming_the_field()
    {
        var manifest = Fixture.Model.Manifest.Clone();
        manifest.InputShape.Clear();
        manifest.InputShape.AddRange([1, 24]);
        using var dir = new TempDirectory();
        ModelPackageWriter.Write(dir.Path, Fixture.Model.Onnx, manifest, Fixture.Key);
        var result = Loader().Load(dir.Path);
        Assert.Equal(ModelRefusal.SchemaMismatch, result.Refusal);
        Assert.Contains("input_shape is [1, 24]", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_package_with_renamed_features_is_refused_naming_the_feature()
    {
        var manifest = Fixture.Model.Manifest.Clone();
        manifest.FeatureStatistics[3].Name = "range_x";
        using var dir = new TempDirectory();
        ModelPackageWriter.Write(dir.Path, Fixture.Model.Onnx, manifest, Fixture.Key);
        var result = Loader().Load(dir.Path);
        Assert.Equal(ModelRefusal.SchemaMismatch, result.Refusal);
        Assert.Contains("feature_statistics[3].name is 'range_x'", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_trusted_keys_every_package_is_refused()
    {
        using var dir = Fixture.WritePackage();
        Assert.Equal(ModelRefusal.NoTrustedKeys, new ModelPackageLoader([]).Load(dir.Path).Refusal);
    }

    [Fact]
    public void A_missing_directory_is_refused_naming_it()
    {
        var result = Loader().Load("/nonexistent/model-package");
        Assert.Equal(ModelRefusal.Missing, result.Refusal);
        Assert.Contains("/nonexistent/model-package", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_key_that_is_not_pem_fails_naming_its_index()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ModelPackageLoader([Fixture.PublicKeyPem, "not a key"]));
        Assert.Contains("key #1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_package_whose_onnx_does_not_load_is_refused_by_the_self_test_and_the_last_good_model_stays()
    {
        var garbage = "not an onnx graph"u8.ToArray();
        var manifest = ModelPackageWriter.Manifest("m", "bad", garbage, "sha256:00", Fixture.Model.Manifest.FeatureStatistics, DateTimeOffset.UnixEpoch);
        using var good = Fixture.WritePackage();
        using var bad = new TempDirectory();
        ModelPackageWriter.Write(bad.Path, garbage, manifest, Fixture.Key);
        using var manager = new ModelManager(Loader(), new InferenceOptions { ExecutionProviders = [ExecutionProviderKind.Cpu] }, new FakeTimeProvider(), NullLogger.Instance);

        Assert.True(manager.TryInstall(good.Path).Installed);
        var first = manager.AcquireForTick();
        var refused = manager.TryInstall(bad.Path);

        Assert.False(refused.Installed);
        Assert.Equal(ModelRefusal.SelfTestFailed, refused.Refusal);
        Assert.Same(first, manager.AcquireForTick());
        Assert.Equal("0.9.0-test", manager.AcquireForTick()!.Manifest.Version);
    }

    [Fact]
    public void A_new_model_goes_live_only_at_the_next_tick_and_removal_returns_to_no_model()
    {
        using var dir = Fixture.WritePackage();
        using var manager = new ModelManager(Loader(), new InferenceOptions(), new FakeTimeProvider(), NullLogger.Instance);
        Assert.Null(manager.AcquireForTick());

        Assert.True(manager.TryInstall(dir.Path).Installed);
        Assert.NotNull(manager.Current);
        var live = manager.AcquireForTick();
        Assert.NotNull(live);
        Assert.Equal(ExecutionProviderKind.Cpu, live.Provider);

        manager.Remove();
        Assert.Null(manager.AcquireForTick());
    }

    [Fact]
    public void The_manifest_round_trips_through_its_bytes()
    {
        var bytes = Fixture.Model.Manifest.ToByteArray();
        Assert.Equal(Fixture.Model.Manifest, ModelManifest.Parser.ParseFrom(bytes));
    }
}
