using System.Net.Http.Headers;
using System.Security.Cryptography;
using Google.Protobuf;
using WarehouseHybrid.Cloud.Rollout;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

/// <summary>Signed model packages made for a test run (a key of its own; bytes that stand in for an ONNX graph).</summary>
internal static class TestPackages
{
    public static ModelPackageBytes Signed(ECDsa key, string version, byte[]? onnx = null, string algorithm = ModelPackageVerifier.SignatureAlgorithm)
    {
        onnx ??= RandomNumberGenerator.GetBytes(9_000);
        var manifest = new ModelManifest
        {
            ModelName = "warehouse-driving-policy",
            Version = version,
            OnnxSha256 = Convert.ToHexStringLower(SHA256.HashData(onnx)),
            TrainingDataDigest = "sha256:test",
            SignatureAlgorithm = algorithm,
        };
        var bytes = manifest.ToByteArray();
        return new ModelPackageBytes(bytes, onnx, key.SignData(bytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    public static MultipartFormDataContent Form(ModelPackageBytes package)
    {
        var form = new MultipartFormDataContent();
        void Add(byte[] data, string field, string file)
        {
            var content = new ByteArrayContent(data);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, field, file);
        }

        Add(package.Manifest, "manifest", "manifest.pb");
        Add(package.Onnx, "onnx", "model.onnx");
        Add(package.Signature, "signature", "manifest.sig");
        return form;
    }
}
