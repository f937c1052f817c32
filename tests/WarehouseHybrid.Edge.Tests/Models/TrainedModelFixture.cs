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

    /// <summary>
    /// Writes a signed package of the trained network with <paramref name="edit"/> applied to a copy of its weights,
    /// under <paramref name="version"/> (the same manifest statistics): models that are wrong in a controlled way.
    /// </summary>
    public void WriteVariant(string directory, string version, Action<Mlp> edit)
    {
        var source = Model.Network;
        var net = new Mlp(source.Inputs, source.Hidden1, source.Hidden2, new Random(0));
        foreach (var (from, to) in source.Parameters.Zip(net.Parameters))
        {
            from.CopyTo(to, 0);
        }

        edit(net);
        var onnx = WarehouseHybrid.ModelTool.Onnx.OnnxMlpWriter.Write(net, version);
        var manifest = ModelPackageWriter.Manifest("warehouse-driving-policy", version, onnx, Model.Manifest.TrainingDataDigest, Model.Manifest.FeatureStatistics, new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        ModelPackageWriter.Write(directory, onnx, manifest, Key);
    }

    /// <summary>The package in <paramref name="directory"/> as the cloud rollout sends it on <c>cmd/model</c> (a fresh root trace).</summary>
    public static WarehouseHybrid.Contracts.Fleet.ModelDeployment Deployment(string directory, string robotId, string rolloutId)
    {
        var manifest = File.ReadAllBytes(System.IO.Path.Combine(directory, "manifest.pb"));
        return new WarehouseHybrid.Contracts.Fleet.ModelDeployment
        {
            RobotId = robotId,
            RolloutId = rolloutId,
            Version = WarehouseHybrid.Contracts.Fleet.ModelManifest.Parser.ParseFrom(manifest).Version,
            Manifest = Google.Protobuf.ByteString.CopyFrom(manifest),
            Onnx = Google.Protobuf.ByteString.CopyFrom(File.ReadAllBytes(System.IO.Path.Combine(directory, "model.onnx"))),
            Signature = Google.Protobuf.ByteString.CopyFrom(File.ReadAllBytes(System.IO.Path.Combine(directory, "manifest.sig"))),
            TraceId = WarehouseHybrid.Contracts.Tracing.TraceParent.NewRoot(),
        };
    }

    /// <summary>
    /// An edit after which the action output overflows to infinity whenever the step is a rotation (feature
    /// is_rotate = 1) and is the trained one otherwise: a model that passes a self-test on move inputs and fails live.
    /// </summary>
    public static void InfinityOnRotate(Mlp net)
    {
        const int isRotate = 21; // PolicyFeatures: 16 ranges, 4 velocities, is_move, is_rotate
        const int j0 = 0, j1 = 0;
        Array.Clear(net.W1, j0 * net.Inputs, net.Inputs);
        net.W1[(j0 * net.Inputs) + isRotate] = 1e20f;
        net.B1[j0] = -0.9e20f;
        for (var i = 0; i < net.Hidden2; i++)
        {
            net.W2[(i * net.Hidden1) + j0] = 0;
        }

        Array.Clear(net.W2, j1 * net.Hidden1, net.Hidden1);
        net.W2[(j1 * net.Hidden1) + j0] = 1e20f;
        net.B2[j1] = 0;
        net.WAction[j1] = 1;
        net.WAction[net.Hidden2 + j1] = 0;
        net.WClass[j1] = 0;
        net.WClass[net.Hidden2 + j1] = 0;
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
