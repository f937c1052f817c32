using System.Security.Cryptography;
using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;

namespace WarehouseHybrid.ModelTool.Packaging;

/// <summary>
/// Writes a model package directory (<see cref="ModelPackageLayout"/>): the ONNX file, the manifest with its
/// SHA-256, schema, training data digest and feature statistics, and the ECDSA P-256 signature over the
/// manifest's exact bytes.
/// </summary>
public static class ModelPackageWriter
{
    /// <summary>Builds the manifest for <paramref name="onnx"/>.</summary>
    public static ModelManifest Manifest(string name, string version, byte[] onnx, string trainingDataDigest, IEnumerable<FeatureStatistics> statistics, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var manifest = new ModelManifest
        {
            ModelName = name,
            Version = version,
            OnnxSha256 = Convert.ToHexStringLower(SHA256.HashData(onnx)),
            TrainingDataDigest = trainingDataDigest,
            CreatedUnixMs = created.ToUnixTimeMilliseconds(),
            SignatureAlgorithm = ModelPackageLayout.SignatureAlgorithm,
        };
        manifest.InputNames.Add(PolicyFeatures.InputName);
        manifest.InputShape.AddRange(PolicyFeatures.InputShape);
        manifest.OutputNames.AddRange(PolicyFeatures.OutputNames);
        manifest.FeatureStatistics.AddRange(statistics);
        return manifest;
    }

    /// <summary>Signs <paramref name="manifestBytes"/> with a P-256 private key (IEEE P1363, 64 bytes).</summary>
    public static byte[] Sign(byte[] manifestBytes, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.SignData(manifestBytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Writes the three files into <paramref name="directory"/> (created if needed).</summary>
    public static void Write(string directory, byte[] onnx, ModelManifest manifest, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(directory);
        var manifestBytes = manifest.ToByteArray();
        File.WriteAllBytes(Path.Combine(directory, ModelPackageLayout.OnnxFile), onnx);
        File.WriteAllBytes(Path.Combine(directory, ModelPackageLayout.ManifestFile), manifestBytes);
        File.WriteAllBytes(Path.Combine(directory, ModelPackageLayout.SignatureFile), Sign(manifestBytes, key));
    }

    /// <summary>A new P-256 key pair.</summary>
    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);
}
