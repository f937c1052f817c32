using CsCheck;
using Google.Protobuf;
using WarehouseHybrid.Edge.Models;
using WarehouseHybrid.ModelTool.Packaging;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>Property: any change to any byte of a signed package is refused, and refusal never throws.</summary>
public sealed class PackageTamperPropertyTests
{
    private static TrainedModelFixture Fixture => TrainedModelFixture.Instance;

    [Fact]
    public void Every_single_byte_change_to_any_package_file_is_refused_with_a_reason()
    {
        var loader = new ModelPackageLoader([Fixture.PublicKeyPem]);
        var manifest = Fixture.Model.Manifest.ToByteArray();
        var onnx = Fixture.Model.Onnx;
        var signature = ModelPackageWriter.Sign(manifest, Fixture.Key);
        Assert.True(loader.Verify("pkg", manifest, onnx, signature).Accepted);

        Gen.Select(Gen.Int[0, 2], Gen.Double[0, 1], Gen.Byte[1, 255]).Sample((file, where, flip) =>
        {
            var m = (byte[])manifest.Clone();
            var o = (byte[])onnx.Clone();
            var s = (byte[])signature.Clone();
            var target = file switch { 0 => m, 1 => o, _ => s };
            target[(int)(where * (target.Length - 1))] ^= flip;
            var result = loader.Verify("pkg", m, o, s);
            Assert.False(result.Accepted);
            Assert.NotEqual(ModelRefusal.None, result.Refusal);
            Assert.StartsWith("pkg: ", result.Detail, StringComparison.Ordinal);
            Assert.Equal(file == 1 ? ModelRefusal.OnnxHashMismatch : ModelRefusal.SignatureInvalid, result.Refusal);
        }, iter: 300);
    }

    [Fact]
    public void Truncated_or_random_signatures_are_refused_without_throwing()
    {
        var loader = new ModelPackageLoader([Fixture.PublicKeyPem]);
        var manifest = Fixture.Model.Manifest.ToByteArray();
        Gen.Byte.Array[0, 100].Sample(signature =>
        {
            var result = loader.Verify("pkg", manifest, Fixture.Model.Onnx, signature);
            Assert.False(result.Accepted);
            Assert.Equal(signature.Length == 0 ? ModelRefusal.Unsigned : ModelRefusal.SignatureInvalid, result.Refusal);
        }, iter: 300);
    }
}
