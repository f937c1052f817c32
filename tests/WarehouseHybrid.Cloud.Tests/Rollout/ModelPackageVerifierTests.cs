using System.Security.Cryptography;
using CsCheck;
using WarehouseHybrid.Cloud.Rollout;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

public sealed class ModelPackageVerifierTests : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ModelPackageVerifier _verifier;

    public ModelPackageVerifierTests() => _verifier = new ModelPackageVerifier([_key.ExportSubjectPublicKeyInfoPem()]);

    public void Dispose()
    {
        _verifier.Dispose();
        _key.Dispose();
        _other.Dispose();
    }

    [Fact]
    public void A_package_signed_by_a_trusted_key_is_accepted_with_its_manifest()
    {
        var (manifest, error) = _verifier.Verify(TestPackages.Signed(_key, "1.2.0"));
        Assert.Null(error);
        Assert.Equal("1.2.0", manifest!.Version);
    }

    [Fact]
    public void Refusals_name_the_file_and_field_at_fault()
    {
        var good = TestPackages.Signed(_key, "1.2.0");
        Assert.Contains("unsigned", _verifier.Verify(good with { Signature = [] }).Error, StringComparison.Ordinal);
        Assert.Contains("does not verify manifest.pb", _verifier.Verify(TestPackages.Signed(_other, "1.2.0")).Error, StringComparison.Ordinal);
        var tamperedOnnx = (byte[])good.Onnx.Clone();
        tamperedOnnx[100] ^= 1;
        Assert.Contains("model.onnx has SHA-256", _verifier.Verify(good with { Onnx = tamperedOnnx }).Error, StringComparison.Ordinal);
        Assert.Contains("signature_algorithm", _verifier.Verify(TestPackages.Signed(_key, "1.2.0", algorithm: "RSA")).Error, StringComparison.Ordinal);
        Assert.Contains("field version", _verifier.Verify(TestPackages.Signed(_key, "1 2/0")).Error, StringComparison.Ordinal);
        Assert.Contains("both be present", _verifier.Verify(good with { Onnx = [] }).Error, StringComparison.Ordinal);
        using var none = new ModelPackageVerifier([]);
        Assert.Contains("no trusted model signing keys", none.Verify(good).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_single_byte_change_to_the_manifest_or_signature_is_refused_without_throwing()
    {
        var good = TestPackages.Signed(_key, "1.2.0", onnx: new byte[64]);
        Gen.Int[0, good.Manifest.Length + good.Signature.Length - 1].Select(Gen.Byte[1, 255]).Sample((at, flip) =>
        {
            var manifest = (byte[])good.Manifest.Clone();
            var signature = (byte[])good.Signature.Clone();
            if (at < manifest.Length)
            {
                manifest[at] ^= flip;
            }
            else
            {
                signature[at - manifest.Length] ^= flip;
            }

            var (accepted, error) = _verifier.Verify(new ModelPackageBytes(manifest, good.Onnx, signature));
            return accepted is null && error is not null;
        }, iter: 300);
    }

    [Fact]
    public void A_trusted_key_that_is_not_a_P256_public_key_stops_the_start_naming_its_index()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ModelPackageVerifier([_key.ExportSubjectPublicKeyInfoPem(), "/nonexistent/key.pem"]));
        Assert.Contains("TrustedKeys[1]", ex.Message, StringComparison.Ordinal);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        ex = Assert.Throws<ArgumentException>(() => new ModelPackageVerifier([p384.ExportSubjectPublicKeyInfoPem()]));
        Assert.Contains("P-256 is required", ex.Message, StringComparison.Ordinal);
    }
}
