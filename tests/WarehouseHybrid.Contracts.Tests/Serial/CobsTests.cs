using CsCheck;
using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Contracts.Tests.Serial;

public sealed class CobsTests
{
    public static TheoryData<string, string> CanonicalVectors() => new()
    {
        { "00", "0101" },
        { "0000", "010101" },
        { "00110000", "0102110101" },
        { "11220033", "0311220233" },
        { "11223344", "0511223344" },
        { "11000000", "0211010101" },
        { Seq(0x01, 254), "FF" + Seq(0x01, 254) },
        { "00" + Seq(0x01, 254), "01FF" + Seq(0x01, 254) },
        { Seq(0x01, 255), "FF" + Seq(0x01, 254) + "02FF" },
        { Seq(0x02, 254) + "00", "FF" + Seq(0x02, 254) + "0101" },
        { Seq(0x03, 253) + "0001", "FE" + Seq(0x03, 253) + "0201" },
    };

    [Theory]
    [MemberData(nameof(CanonicalVectors))]
    public void Encodes_the_canonical_cobs_vectors(string rawHex, string encodedHex)
    {
        var raw = Convert.FromHexString(rawHex);
        var buffer = new byte[SerialProtocol.MaxCobsLength(raw.Length)];
        var n = Cobs.Encode(raw, buffer);
        Assert.Equal(encodedHex, Convert.ToHexString(buffer, 0, n));

        var back = new byte[n];
        Assert.True(Cobs.TryDecode(buffer.AsSpan(0, n), back, out var m));
        Assert.Equal(rawHex, Convert.ToHexString(back, 0, m));
    }

    [Fact]
    public void Encoded_block_never_contains_zero_and_decodes_back()
    {
        Gen.Byte.Array[0, 700].Sample(raw =>
        {
            var buffer = new byte[SerialProtocol.MaxCobsLength(raw.Length)];
            var n = Cobs.Encode(raw, buffer);
            Assert.DoesNotContain((byte)0, buffer.AsSpan(0, n).ToArray());
            var back = new byte[n];
            Assert.True(Cobs.TryDecode(buffer.AsSpan(0, n), back, out var m));
            Assert.Equal(raw, back[..m]);
        });
    }

    [Fact]
    public void Decoding_rejects_a_code_byte_that_points_past_the_end()
    {
        Assert.False(Cobs.TryDecode([0x05, 0x11, 0x22], new byte[4], out _));
    }

    [Fact]
    public void Decoding_rejects_a_zero_inside_the_block()
    {
        Assert.False(Cobs.TryDecode([0x02, 0x11, 0x00, 0x01], new byte[4], out _));
    }

    [Fact]
    public void Encoding_into_a_too_small_destination_names_the_sizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Cobs.Encode(new byte[10], new byte[10]));
        Assert.Contains("11", ex.Message, StringComparison.Ordinal);
    }

    private static string Seq(int first, int count) =>
        Convert.ToHexString(Enumerable.Range(first, count).Select(i => (byte)i).ToArray());
}
