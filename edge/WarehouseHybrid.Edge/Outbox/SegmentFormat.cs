using System.Buffers.Binary;
using System.Text;

namespace WarehouseHybrid.Edge.Outbox;

/// <summary>
/// The on-disk format (pure functions). A segment starts with the 8-byte magic <c>WHOBX001</c>, then records:
/// <c>u32 body length | u32 CRC-32C of the body | body</c>, little-endian, where the body is
/// <c>u8 class | u64 seq | i64 timestamp ms | u8 device id length | device id (UTF-8) | payload</c>.
/// </summary>
public static class SegmentFormat
{
    /// <summary>The segment magic.</summary>
    public static ReadOnlySpan<byte> Magic => "WHOBX001"u8;

    /// <summary>Length + CRC.</summary>
    public const int RecordHeaderBytes = 8;

    /// <summary>Body bytes before the device id.</summary>
    public const int BodyFixedBytes = 1 + 8 + 8 + 1;

    /// <summary>Encoded size of a record.</summary>
    public static int RecordSize(int deviceIdBytes, int payloadBytes) => RecordHeaderBytes + BodyFixedBytes + deviceIdBytes + payloadBytes;

    /// <summary>Encodes one record into <paramref name="destination"/> (exactly <see cref="RecordSize"/> bytes).</summary>
    public static void Write(Span<byte> destination, OutboxRecordClass cls, long seq, long timestampMs, ReadOnlySpan<byte> deviceId, ReadOnlySpan<byte> payload)
    {
        var body = destination[RecordHeaderBytes..];
        body[0] = (byte)cls;
        BinaryPrimitives.WriteInt64LittleEndian(body[1..], seq);
        BinaryPrimitives.WriteInt64LittleEndian(body[9..], timestampMs);
        body[17] = (byte)deviceId.Length;
        deviceId.CopyTo(body[BodyFixedBytes..]);
        payload.CopyTo(body[(BodyFixedBytes + deviceId.Length)..]);
        var bodyLength = BodyFixedBytes + deviceId.Length + payload.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Crc32C.Compute(body[..bodyLength]));
    }

    /// <summary>A record located in a segment.</summary>
    /// <param name="Offset">Where its header starts.</param>
    /// <param name="Length">Its total size, header included.</param>
    /// <param name="Seq">Its sequence number.</param>
    /// <param name="Class">Its class.</param>
    public readonly record struct Located(long Offset, int Length, long Seq, OutboxRecordClass Class);

    /// <summary>The result of scanning a segment.</summary>
    /// <param name="Records">The good records, in order.</param>
    /// <param name="GoodLength">Bytes up to the end of the last good record (the whole file when clean).</param>
    /// <param name="Problem">Why scanning stopped before the end, or null when clean.</param>
    /// <param name="TornTail">True when the bad part looks like an interrupted append (it runs to the end of the file), false for corruption followed by more data.</param>
    public sealed record ScanResult(List<Located> Records, long GoodLength, string? Problem, bool TornTail);

    /// <summary>
    /// Scans a segment's bytes. Stops at the first record whose length is impossible, that runs past the end, whose
    /// CRC does not match, or whose body is malformed, or whose seq does not increase. The bad part counts as a torn tail when
    /// the declared record runs past the end of the file, ends exactly at it, or only zero bytes follow; anything else is corruption.
    /// </summary>
    public static ScanResult Scan(ReadOnlySpan<byte> file, int maxRecordBytes)
    {
        var records = new List<Located>();
        if (file.Length < Magic.Length)
        {
            return new ScanResult(records, 0, $"file of {file.Length} bytes is shorter than the segment header", TornTail: true);
        }

        if (!file[..Magic.Length].SequenceEqual(Magic))
        {
            return new ScanResult(records, 0, "the segment header (magic WHOBX001) is missing", TornTail: false);
        }

        long offset = Magic.Length;
        var lastSeq = long.MinValue;
        var maxBody = BodyFixedBytes + 255 + maxRecordBytes;
        while (offset < file.Length)
        {
            var rest = file[(int)offset..];
            string? problem = null;
            var declaredEnd = long.MaxValue;
            if (rest.Length < RecordHeaderBytes)
            {
                problem = $"{rest.Length} bytes at offset {offset} are too short for a record header";
            }
            else
            {
                var bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(rest);
                var crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
                declaredEnd = offset + RecordHeaderBytes + (long)bodyLength;
                if (bodyLength < BodyFixedBytes || bodyLength > maxBody)
                {
                    problem = $"record at offset {offset} declares a body of {bodyLength} bytes (allowed {BodyFixedBytes}..{maxBody})";
                    declaredEnd = long.MaxValue;
                }
                else if (declaredEnd > file.Length)
                {
                    problem = $"record at offset {offset} runs {declaredEnd - file.Length} bytes past the end of the file";
                }
                else
                {
                    var body = rest.Slice(RecordHeaderBytes, (int)bodyLength);
                    var seq = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
                    if (Crc32C.Compute(body) != crc)
                    {
                        problem = $"record at offset {offset}: CRC-32C mismatch";
                    }
                    else if (body[0] > (byte)OutboxRecordClass.Audit || BodyFixedBytes + body[17] > bodyLength)
                    {
                        problem = $"record at offset {offset}: class {body[0]} or device id length {body[17]} is invalid";
                    }
                    else if (seq <= lastSeq || seq < 0)
                    {
                        problem = $"record at offset {offset}: seq {seq} does not follow {lastSeq}";
                    }
                    else
                    {
                        records.Add(new Located(offset, RecordHeaderBytes + (int)bodyLength, seq, (OutboxRecordClass)body[0]));
                        lastSeq = seq;
                        offset = declaredEnd;
                        continue;
                    }
                }
            }

            var torn = declaredEnd >= file.Length || rest.IndexOfAnyExcept((byte)0) < 0;
            return new ScanResult(records, offset, problem, torn);
        }

        return new ScanResult(records, offset, null, TornTail: false);
    }

    /// <summary>Decodes a record located by <see cref="Scan"/>.</summary>
    public static OutboxRecord Read(ReadOnlySpan<byte> file, Located at)
    {
        var body = file.Slice((int)at.Offset + RecordHeaderBytes, at.Length - RecordHeaderBytes);
        var deviceLength = body[17];
        return new OutboxRecord(
            BinaryPrimitives.ReadInt64LittleEndian(body[1..]),
            (OutboxRecordClass)body[0],
            Encoding.UTF8.GetString(body.Slice(BodyFixedBytes, deviceLength)),
            BinaryPrimitives.ReadInt64LittleEndian(body[9..]),
            body[(BodyFixedBytes + deviceLength)..].ToArray());
    }
}
