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

        // Copy whole zero-free runs at a time; each run becomes (code byte, up to 254 data bytes).
        var write = 0;
        var rest = source;
        while (true)
        {
            var zero = rest.IndexOf((byte)0);
            var run = zero < 0 ? rest.Length : zero;
            while (run >= 254)
            {
                destination[write++] = 0xFF;
                rest[..254].CopyTo(destination[write..]);
                write += 254;
                rest = rest[254..];
                run -= 254;
                if (run == 0 && zero < 0)
                {
                    // A full run that ends the input needs no trailing code byte (canonical COBS).
                    return write;
                }
            }

            destination[write++] = (byte)(run + 1);
            rest[..run].CopyTo(destination[write..]);
            write += run;
            if (zero < 0)
            {
                return write;
            }

            rest = rest[(run + 1)..];
        }
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
