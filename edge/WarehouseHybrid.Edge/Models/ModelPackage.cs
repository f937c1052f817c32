using System.Security.Cryptography;
using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Inference;

namespace WarehouseHybrid.Edge.Models;

/// <summary>
/// File layout of a model package directory: the ONNX graph, the serialized <see cref="ModelManifest"/> (its
/// signature fields left empty) and the ECDSA P-256 / SHA-256 signature over the manifest file's exact bytes
/// (IEEE P1363 form, 64 bytes). The manifest pins the ONNX file by SHA-256, so the signature covers both.
/// </summary>
public static class ModelPackageLayout
{
    /// <summary>The ONNX graph.</summary>
    public const string OnnxFile = "model.onnx";

    /// <summary>The serialized manifest.</summary>
    public const string ManifestFile = "manifest.pb";

    /// <summary>The signature over <see cref="ManifestFile"/>.</summary>
    public const string SignatureFile = "manifest.sig";

    /// <summary>The only signature algorithm accepted, as written into the manifest.</summary>
    public const string SignatureAlgorithm = "ECDSA-P256-SHA256";
}

/// <summary>Why a package was refused.</summary>
public enum ModelRefusal
{
    /// <summary>Not refused.</summary>
    None = 0,
    /// <summary>The directory or one of its files is missing or unreadable.</summary>
    Missing,
    /// <summary>No signature file, or an empty one.</summary>
    Unsigned,
    /// <summary>No trusted public key is configured, so nothing can be verified.</summary>
    NoTrustedKeys,
    /// <summary>The signature does not verify against any trusted key (wrong key or tampered manifest).</summary>
    SignatureInvalid,
    /// <summary>The manifest does not parse or names another signature algorithm.</summary>
    ManifestMalformed,
    /// <summary>The ONNX file's SHA-256 differs from the manifest's.</summary>
    OnnxHashMismatch,
    /// <summary>Input/output names, shapes or feature statistics differ from what this daemon feeds and reads.</summary>
    SchemaMismatch,
    /// <summary>ONNX Runtime could not load the graph, or the self-test inference failed.</summary>
    SelfTestFailed,
}

/// <summary>A verified package: manifest, ONNX bytes, and the statistics the drift monitor compares against.</summary>
/// <param name="Directory">Where it was loaded from.</param>
/// <param name="Manifest">The signed manifest.</param>
/// <param name="Onnx">The ONNX bytes (hash verified).</param>
public sealed record ModelPackage(string Directory, ModelManifest Manifest, byte[] Onnx)
{
    /// <summary>Model version from the manifest.</summary>
    public string Version => Manifest.Version;
}

/// <summary>Outcome of <see cref="ModelPackageLoader.Load"/>: a package, or a refusal with a reason naming what and where.</summary>
/// <param name="Package">The package when accepted.</param>
/// <param name="Refusal">Why not.</param>
/// <param name="Detail">Human-readable reason naming the file and field.</param>
public sealed record ModelLoadResult(ModelPackage? Package, ModelRefusal Refusal, string Detail)
{
    /// <summary>Whether the package was accepted.</summary>
    public bool Accepted => Package is not null;

    internal static ModelLoadResult Refuse(ModelRefusal refusal, string detail) => new(null, refusal, detail);
}

/// <summary>
/// Verifies and loads model packages: signature first (against the configured trusted P-256 public keys), then
/// the manifest, the ONNX hash, and the schema this daemon expects (<see cref="PolicyFeatures"/>). Refuses with
/// a <see cref="ModelRefusal"/> and a message naming the file and field; never throws for bad packages.
/// </summary>
public sealed class ModelPackageLoader
{
    private readonly ECDsa[] _trusted;

    /// <summary>Creates a loader trusting the given PEM public keys ("-----BEGIN PUBLIC KEY-----").</summary>
    /// <exception cref="ArgumentException">A key is not a P-256 public key in PEM form (names its index).</exception>
    public ModelPackageLoader(IEnumerable<string> trustedPublicKeysPem)
    {
        ArgumentNullException.ThrowIfNull(trustedPublicKeysPem);
        var keys = new List<ECDsa>();
        var index = 0;
        foreach (var pem in trustedPublicKeysPem)
        {
            keys.Add(ImportKey(pem, index));
            index++;
        }

        _trusted = [.. keys];
    }

    /// <summary>Number of trusted keys.</summary>
    public int TrustedKeyCount => _trusted.Length;

    /// <summary>Loads and verifies the package in <paramref name="directory"/>.</summary>
    public ModelLoadResult Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            return ModelLoadResult.Refuse(ModelRefusal.Missing, $"model package directory '{directory}' does not exist");
        }

        var manifestPath = Path.Combine(directory, ModelPackageLayout.ManifestFile);
        var onnxPath = Path.Combine(directory, ModelPackageLayout.OnnxFile);
        var signaturePath = Path.Combine(directory, ModelPackageLayout.SignatureFile);
        if (!File.Exists(manifestPath))
        {
            return ModelLoadResult.Refuse(ModelRefusal.Missing, $"'{manifestPath}' is missing");
        }

        if (!File.Exists(onnxPath))
        {
            return ModelLoadResult.Refuse(ModelRefusal.Missing, $"'{onnxPath}' is missing");
        }

        if (!File.Exists(signaturePath) || new FileInfo(signaturePath).Length == 0)
        {
            return ModelLoadResult.Refuse(ModelRefusal.Unsigned, $"'{signaturePath}' is missing or empty: unsigned packages are refused");
        }

        byte[] manifestBytes, onnx, signature;
        try
        {
            manifestBytes = File.ReadAllBytes(manifestPath);
            onnx = File.ReadAllBytes(onnxPath);
            signature = File.ReadAllBytes(signaturePath);
        }
        catch (IOException ex)
        {
            return ModelLoadResult.Refuse(ModelRefusal.Missing, $"reading package '{directory}': {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            return ModelLoadResult.Refuse(ModelRefusal.Missing, $"reading package '{directory}': {ex.Message}");
        }

        return Verify(directory, manifestBytes, onnx, signature);
    }

    /// <summary>Verifies a package given as bytes (<paramref name="source"/> names it in messages).</summary>
    public ModelLoadResult Verify(string source, byte[] manifestBytes, byte[] onnx, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(manifestBytes);
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Length == 0)
        {
            return ModelLoadResult.Refuse(ModelRefusal.Unsigned, $"{source}: {ModelPackageLayout.SignatureFile} is empty: unsigned packages are refused");
        }

        if (_trusted.Length == 0)
        {
            return ModelLoadResult.Refuse(ModelRefusal.NoTrustedKeys, $"{source}: no trusted model signing keys are configured");
        }

        var verified = false;
        foreach (var key in _trusted)
        {
            if (key.VerifyData(manifestBytes, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                verified = true;
                break;
            }
        }

        if (!verified)
        {
            return ModelLoadResult.Refuse(
                ModelRefusal.SignatureInvalid,
                $"{source}: the signature in {ModelPackageLayout.SignatureFile} does not verify {ModelPackageLayout.ManifestFile} against any of {_trusted.Length} trusted key(s) (wrong key or tampered manifest)");
        }

        ModelManifest manifest;
        try
        {
            manifest = ModelManifest.Parser.ParseFrom(manifestBytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return ModelLoadResult.Refuse(ModelRefusal.ManifestMalformed, $"{source}: {ModelPackageLayout.ManifestFile} does not parse: {ex.Message}");
        }

        if (manifest.SignatureAlgorithm != ModelPackageLayout.SignatureAlgorithm)
        {
            return ModelLoadResult.Refuse(
                ModelRefusal.ManifestMalformed,
                $"{source}: {ModelPackageLayout.ManifestFile} field signature_algorithm is '{manifest.SignatureAlgorithm}', expected '{ModelPackageLayout.SignatureAlgorithm}'");
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(onnx));
        if (!string.Equals(sha, manifest.OnnxSha256, StringComparison.OrdinalIgnoreCase))
        {
            return ModelLoadResult.Refuse(
                ModelRefusal.OnnxHashMismatch,
                $"{source}: {ModelPackageLayout.OnnxFile} has SHA-256 {sha} but the manifest's onnx_sha256 is '{manifest.OnnxSha256}' (tampered or wrong file)");
        }

        var schema = ModelSchema.Check(manifest);
        if (schema is not null)
        {
            return ModelLoadResult.Refuse(ModelRefusal.SchemaMismatch, $"{source}: {ModelPackageLayout.ManifestFile} {schema}");
        }

        return new ModelLoadResult(new ModelPackage(source, manifest, onnx), ModelRefusal.None, "verified");
    }

    private static ECDsa ImportKey(string pem, int index)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            throw new ArgumentException($"trusted model key #{index} is empty", nameof(pem));
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (ArgumentException ex)
        {
            key.Dispose();
            throw new ArgumentException($"trusted model key #{index} is not a PEM public key: {ex.Message}", nameof(pem), ex);
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new ArgumentException($"trusted model key #{index} is not a valid EC public key: {ex.Message}", nameof(pem), ex);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException($"trusted model key #{index} is a {key.KeySize}-bit EC key; P-256 is required", nameof(pem));
        }

        return key;
    }
}

/// <summary>The schema this daemon feeds and reads, checked against a manifest.</summary>
public static class ModelSchema
{
    /// <summary>Null when the manifest matches; otherwise which field differs and how.</summary>
    public static string? Check(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.InputNames.Count != 1 || manifest.InputNames[0] != PolicyFeatures.InputName)
        {
            return $"input_names is [{string.Join(", ", manifest.InputNames)}], expected [{PolicyFeatures.InputName}]";
        }

        if (!manifest.InputShape.SequenceEqual(PolicyFeatures.InputShape))
        {
            return $"input_shape is [{string.Join(", ", manifest.InputShape)}], expected [{string.Join(", ", PolicyFeatures.InputShape)}]";
        }

        if (!manifest.OutputNames.SequenceEqual(PolicyFeatures.OutputNames))
        {
            return $"output_names is [{string.Join(", ", manifest.OutputNames)}], expected [{string.Join(", ", PolicyFeatures.OutputNames)}]";
        }

        if (manifest.FeatureStatistics.Count != PolicyFeatures.Count)
        {
            return $"feature_statistics has {manifest.FeatureStatistics.Count} entries, expected {PolicyFeatures.Count}";
        }

        for (var i = 0; i < PolicyFeatures.Count; i++)
        {
            var s = manifest.FeatureStatistics[i];
            if (s.Name != PolicyFeatures.Names[i])
            {
                return $"feature_statistics[{i}].name is '{s.Name}', expected '{PolicyFeatures.Names[i]}'";
            }

            if (!double.IsFinite(s.Mean) || !double.IsFinite(s.StdDev) || s.StdDev < 0)
            {
                return $"feature_statistics[{i}] ('{s.Name}') has mean {s.Mean} and std_dev {s.StdDev}; finite values and std_dev >= 0 are required";
            }

            if (CheckHistogram(s) is { } histogram)
            {
                return $"feature_statistics[{i}] ('{s.Name}') {histogram}";
            }
        }

        return null;
    }

    private static string? CheckHistogram(FeatureStatistics s)
    {
        if (s.HistogramUpperEdges.Count == 0 && s.HistogramFractions.Count == 0)
        {
            return null; // packages made before histograms existed: z-scores only
        }

        if (s.HistogramFractions.Count != s.HistogramUpperEdges.Count + 1 || s.HistogramFractions.Count > 255)
        {
            return $"has {s.HistogramUpperEdges.Count} histogram_upper_edges and {s.HistogramFractions.Count} histogram_fractions; one more fraction than edges (at most 255 bins) is required";
        }

        for (var b = 0; b < s.HistogramUpperEdges.Count; b++)
        {
            if (!double.IsFinite(s.HistogramUpperEdges[b]) || (b > 0 && s.HistogramUpperEdges[b] <= s.HistogramUpperEdges[b - 1]))
            {
                return $"histogram_upper_edges[{b}] is {s.HistogramUpperEdges[b]}; finite, strictly increasing edges are required";
            }
        }

        var sum = 0.0;
        foreach (var f in s.HistogramFractions)
        {
            if (!(f >= 0 && f <= 1))
            {
                return $"has histogram fraction {f}; fractions must be in [0, 1]";
            }

            sum += f;
        }

        return Math.Abs(sum - 1) > 1e-6 ? $"histogram_fractions sum to {sum}, not 1" : null;
    }
}
