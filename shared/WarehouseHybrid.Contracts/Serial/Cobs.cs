namespace WarehouseHybrid.Contracts.Serial;

/// <summary>
/// Consistent Overhead Byte Stuffing: removes every 0x00 from a block so 0x00 can delimit frames.
/// Overhead is one byte per started 254 bytes (at most <c>n + n/254 + 1</c> bytes out).
/// </summary>
public static class Cobs
{
    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/> (no delimiter is written).</summary>
    /// <returns>Bytes written.</returns>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="SerialProtocol.MaxCobsLength"/> of the source.</exception>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var needed = SerialProtocol.MaxCobsLength(source.Length);
        if (destination.Length < needed)
        {
            throw new ArgumentException(
                $"COBS of {source.Length} bytes needs up to {needed} bytes, destination has {destination.Length}",
                nameof(destination));
        }

        var codeIndex = 0;
        var write = 1;
        byte code = 1;
        for (var i = 0; i < source.Length; i++)
        {
            var b = source[i];
            if (b == 0)
            {
                destination[codeIndex] = code;
                codeIndex = write++;
                code = 1;
                continue;
            }

            destination[write++] = b;
            code++;
            if (code == 0xFF)
            {
                destination[codeIndex] = code;
                code = 1;
                if (i == source.Length - 1)
                {
                    // A full 254-byte run that ends the input needs no trailing code byte (canonical COBS).
                    return write;
                }

                codeIndex = write++;
            }
        }

        destination[codeIndex] = code;
        return write;
    }

    /// <summary>Decodes one COBS block (without its delimiter).</summary>
    /// <param name="source">The encoded bytes.</param>
    /// <param name="destination">At least <c>source.Length - 1</c> bytes.</param>
    /// <param name="written">Decoded bytes.</param>
    /// <returns>False if a code byte is 0x00 or points past the end of the block.</returns>
    /// <exception cref="ArgumentException">The destination is too small.</exception>
    public static bool TryDecode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        if (destination.Length < source.Length - 1)
        {
            throw new ArgumentException(
                $"decoding {source.Length} COBS bytes needs {source.Length - 1} bytes, destination has {destination.Length}",
                nameof(destination));
        }

        written = 0;
        var read = 0;
        while (read < source.Length)
        {
            int code = source[read++];
            var run = code - 1;
            if (code == 0 || run > source.Length - read)
            {
                written = 0;
                return false;
            }

            source.Slice(read, run).CopyTo(destination[written..]);
            read += run;
            written += run;
            if (code != 0xFF && read < source.Length)
            {
                destination[written++] = 0;
            }
        }

        return true;
    }
}
