using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;
using WhModel = WarehouseHybrid.ModelTool.Program;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>The wh-model command line: keygen keeps the private key private, train-model with --created is byte-reproducible.</summary>
public sealed class ModelToolCommandTests
{
    private static (string Private, string Public) KeyGen(TempDirectory dir)
    {
        var keys = (dir.File("k.pem"), dir.File("k.pub.pem"));
        Assert.Equal(0, WhModel.Main(["keygen", "--private", keys.Item1, "--public", keys.Item2]));
        return keys;
    }

    [Fact]
    public void Keygen_writes_an_owner_only_private_key_and_never_overwrites_one()
    {
        using var dir = new TempDirectory();
        var (privateKey, publicKey) = KeyGen(dir);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privateKey));
        }

        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(privateKey), StringComparison.Ordinal);
        Assert.Contains("BEGIN PUBLIC KEY", File.ReadAllText(publicKey), StringComparison.Ordinal);
        var first = File.ReadAllText(privateKey);
        Assert.Equal(2, WhModel.Main(["keygen", "--private", privateKey, "--public", Path.Combine(dir.Path, "other.pub.pem")]));
        Assert.Equal(first, File.ReadAllText(privateKey));
    }

    [Fact]
    public void Train_model_with_a_fixed_creation_time_writes_the_same_onnx_and_manifest_twice_and_signs_both()
    {
        using var dir = new TempDirectory();
        var (privateKey, publicKey) = KeyGen(dir);
        string Train(string name)
        {
            var output = Path.Combine(dir.Path, name);
            Assert.Equal(0, WhModel.Main(["train-model", "--out", output, "--key", privateKey, "--version", "0.9.1", "--samples", "600", "--epochs", "2", "--created", "2026-12-01T00:00:00Z"]));
            return output;
        }

        var a = Train("a");
        var b = Train("b");

        foreach (var file in new[] { ModelPackageLayout.OnnxFile, ModelPackageLayout.ManifestFile })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(b, file)));
        }

        var loader = new ModelPackageLoader([File.ReadAllText(publicKey)]);
        foreach (var package in new[] { a, b })
        {
            var loaded = loader.Load(package);
            Assert.True(loaded.Accepted, loaded.Detail);
            Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), loaded.Package!.Manifest.CreatedUnixMs);
        }

        using var manager = new ModelManager(loader, new InferenceOptions { Deadline = TimeSpan.FromSeconds(1) }, new FakeTimeProvider(), NullLogger.Instance);
        Assert.True(manager.TryInstall(a).Installed);
    }

    [Fact]
    public void A_creation_time_that_is_not_a_date_is_refused_before_anything_is_written()
    {
        using var dir = new TempDirectory();
        var (privateKey, _) = KeyGen(dir);
        var output = Path.Combine(dir.Path, "p");

        Assert.Equal(2, WhModel.Main(["train-model", "--out", output, "--key", privateKey, "--samples", "600", "--epochs", "1", "--created", "yesterday"]));
        Assert.False(Directory.Exists(output));
    }
}
