using System.Security.Cryptography;
using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>An uploaded model package: the three files of a package directory, as bytes.</summary>
/// <param name="Manifest">manifest.pb (the exact signed bytes).</param>
/// <param name="Onnx">model.onnx.</param>
/// <param name="Signature">manifest.sig.</param>
[GenerateSerializer, Immutable, Alias("wh.cloud.ModelPackageBytes")]
public sealed record ModelPackageBytes(
    [property: Id(0)] byte[] Manifest,
    [property: Id(1)] byte[] Onnx,
    [property: Id(2)] byte[] Signature);

/// <summary>
/// The cloud's gate for uploads: the package must be signed by a trusted key (ECDSA P-256 over SHA-256 of the manifest
/// bytes, IEEE P1363), its manifest must parse and name the algorithm, pin the ONNX file by SHA-256 and carry a version
/// usable as an id. The robots check the same signature again (and the input/output schema, which only the edge
/// knows) before installing: the cloud never becomes a way to bypass the edge's own verification.
/// </summary>
public sealed class ModelPackageVerifier : IDisposable
{
    /// <summary>The one signature algorithm of model packages (docs/models.md).</summary>
    public const string SignatureAlgorithm = "ECDSA-P256-SHA256";

    private readonly ECDsa[] _keys;

    /// <summary>Creates a verifier trusting <paramref name="keys"/> (PEM text, or the path of a PEM file).</summary>
    /// <exception cref="ArgumentException">A key is unreadable or not P-256 (names its index).</exception>
    public ModelPackageVerifier(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = [.. keys.Select(Load)];
    }

    /// <summary>Number of trusted keys.</summary>
    public int KeyCount => _keys.Length;

    /// <summary>Checks a package; returns its manifest, or null and what is wrong (naming the file and field).</summary>
    public (ModelManifest? Manifest, string? Error) Verify(ModelPackageBytes package)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (_keys.Length == 0)
        {
            return (null, "no trusted model signing keys are configured (Cloud:Rollout:TrustedKeys): every package is refused");
        }

        if (package.Manifest.Length == 0 || package.Onnx.Length == 0)
        {
            return (null, $"manifest.pb ({package.Manifest.Length} bytes) and model.onnx ({package.Onnx.Length} bytes) must both be present");
        }

        if (package.Signature.Length == 0)
        {
            return (null, "manifest.sig is missing or empty: unsigned packages are refused");
        }

        if (!_keys.Any(k => k.VerifyData(package.Manifest, package.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)))
        {
            return (null, $"manifest.sig does not verify manifest.pb against any of the {_keys.Length} trusted key(s) (wrong key or tampered manifest)");
        }

        ModelManifest manifest;
        try
        {
            manifest = ModelManifest.Parser.ParseFrom(package.Manifest);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return (null, $"manifest.pb does not parse as warehouse.v1.ModelManifest: {ex.Message}");
        }

        if (manifest.SignatureAlgorithm != SignatureAlgorithm)
        {
            return (null, $"manifest.pb field signature_algorithm is '{manifest.SignatureAlgorithm}', expected '{SignatureAlgorithm}'");
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(package.Onnx));
        if (!string.Equals(sha, manifest.OnnxSha256, StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"model.onnx has SHA-256 {sha} but manifest.pb field onnx_sha256 is '{manifest.OnnxSha256}' (tampered or wrong file)");
        }

        return FleetTopics.IsValidId(manifest.Version.Replace('.', '_'))
            ? (manifest, null)
            : (null, $"manifest.pb field version '{manifest.Version}' must be 1-64 of [A-Za-z0-9._-]");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var k in _keys)
        {
            k.Dispose();
        }
    }

    private static ECDsa Load(string keyOrPath, int index)
    {
        var pem = keyOrPath.Contains("-----BEGIN", StringComparison.Ordinal) ? keyOrPath
            : File.Exists(keyOrPath) ? File.ReadAllText(keyOrPath)
            : throw new ArgumentException($"Cloud.Rollout.TrustedKeys[{index}] is neither PEM text nor an existing file: '{keyOrPath}'");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ArgumentException($"Cloud.Rollout.TrustedKeys[{index}] is not a PEM EC public key: {ex.Message}", ex);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException($"Cloud.Rollout.TrustedKeys[{index}] is a {key.KeySize}-bit key; P-256 is required");
        }

        return key;
    }
}
