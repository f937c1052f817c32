using System.Text;
using CsCheck;
using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Contracts.Tests.Serial;

public sealed class Crc16CcittFalseTests
{
    [Fact]
    public void Check_value_of_123456789_is_0x29B1()
    {
        Assert.Equal(0x29B1, Crc16CcittFalse.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(Crc16CcittFalse.CheckValue, Crc16CcittFalse.Compute("123456789"u8));
    }

    [Fact]
    public void Crc_of_nothing_is_the_initial_value()
    {
        Assert.Equal(0xFFFF, Crc16CcittFalse.Compute([]));
    }

    [Fact]
    public void Table_driven_crc_equals_bitwise_reference_on_any_bytes()
    {
        Gen.Byte.Array[0, 300].Sample(data => Crc16CcittFalse.Compute(data) == BitwiseReference(data));
    }

    [Fact]
    public void Update_in_two_parts_equals_compute_over_the_whole()
    {
        Gen.Byte.Array[0, 100].Select(Gen.Byte.Array[0, 100]).Sample((a, b) =>
            Crc16CcittFalse.Update(Crc16CcittFalse.Compute(a), b) == Crc16CcittFalse.Compute([.. a, .. b]));
    }

    // The specification, bit by bit: MSB first, poly 0x1021, init 0xFFFF, no reflection, xorout 0.
    private static ushort BitwiseReference(byte[] data)
    {
        var crc = 0xFFFF;
        foreach (var b in data)
        {
            crc ^= b << 8;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
            }
        }

        return (ushort)crc;
    }
}
