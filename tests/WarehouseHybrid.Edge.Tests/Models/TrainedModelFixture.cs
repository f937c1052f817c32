using System.Security.Cryptography;
using WarehouseHybrid.ModelTool.Packaging;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>
/// One small model trained at test time (rule-policy data, a few thousand rows) and a development signing key,
/// shared by every learned-policy test; packages are written into fresh temp directories per test.
/// </summary>
internal sealed class TrainedModelFixture
{
    private static readonly Lazy<TrainedModelFixture> Shared = new(() => new TrainedModelFixture());

    private TrainedModelFixture()
    {
        Key = ModelPackageWriter.NewKey();
        PublicKeyPem = Key.ExportSubjectPublicKeyInfoPem();
        Model = PolicyModelBuilder.Build(
            new PolicyModelSpec(Version: "0.9.0-test", Samples: 8000, HoldoutSamples: 1000, Hidden: 24, Trainer: new TrainerSettings(Epochs: 10)),
            new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
    }

    public static TrainedModelFixture Instance => Shared.Value;

    public ECDsa Key { get; }

    public string PublicKeyPem { get; }

    public PolicyModel Model { get; }

    /// <summary>Writes the signed package into a new temp directory.</summary>
    public TempDirectory WritePackage()
    {
        var dir = new TempDirectory();
        ModelPackageWriter.Write(dir.Path, Model.Onnx, Model.Manifest, Key);
        return dir;
    }
}

/// <summary>A temp directory removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "wh-model-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
    }
}
