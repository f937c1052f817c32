namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// CRC-16/CCITT-FALSE (also catalogued as CRC-16/IBM-3740): width 16, poly 0x1021, init 0xFFFF,
/// no input or output reflection, xorout 0x0000; check value ("123456789") 0x29B1.
/// </summary>
public static class Crc16CcittFalse
{
    /// <summary>Initial register value.</summary>
    public const ushort Initial = 0xFFFF;

    /// <summary>Generator polynomial (x^16 + x^12 + x^5 + 1, MSB-first, top bit implicit).</summary>
    public const ushort Polynomial = 0x1021;

    /// <summary>CRC of the ASCII bytes "123456789", the catalogue check value.</summary>
    public const ushort CheckValue = 0x29B1;

    private static readonly ushort[] Table = BuildTable();

    /// <summary>CRC of <paramref name="data"/>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Update(Initial, data);

    /// <summary>Continues a CRC over more bytes (start with <see cref="Initial"/>).</summary>
    public static ushort Update(ushort crc, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (var b in data)
        {
            crc = (ushort)((crc << 8) ^ table[(byte)((crc >> 8) ^ b)]);
        }

        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ Polynomial) : (ushort)(crc << 1);
            }

            table[i] = crc;
        }

        return table;
    }
}
