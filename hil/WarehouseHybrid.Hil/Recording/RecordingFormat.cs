using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using WarehouseHybrid.Edge.Runtime;

namespace WarehouseHybrid.Hil.Recording;

/// <summary>Record types of a rig recording (docs/hil-recording.md).</summary>
public enum RecordType : byte
{
    /// <summary>Serial bytes the daemon received from its board.</summary>
    SerialToDaemon = 1,
    /// <summary>Serial bytes the daemon wrote to its board (its motor commands).</summary>
    SerialToBoard = 2,
    /// <summary>The daemon ran one control tick (lock-step recordings).</summary>
    ControlTick = 3,
    /// <summary>An MQTT message: u16 topic length, topic (UTF-8), payload.</summary>
    Mqtt = 4,
}

/// <summary>One robot in a recording's header.</summary>
/// <param name="Index">Robot index (the record's robot field).</param>
/// <param name="Id">Robot id.</param>
/// <param name="Edge">The edge options the robot ran with.</param>
public sealed record RecordedRobot(int Index, string Id, EdgeOptions Edge);

/// <summary>A recording's header.</summary>
public sealed record RecordingHeader
{
    /// <summary>What made it (rig version and mode).</summary>
    public string Source { get; init; } = "WarehouseHybrid.Hil";

    /// <summary>Scenario name.</summary>
    public string Scenario { get; init; } = string.Empty;

    /// <summary>"lockstep" (virtual time, replayable bit for bit) or "daemons" (wall time).</summary>
    public string Clock { get; init; } = "lockstep";

    /// <summary>The robots.</summary>
    public IReadOnlyList<RecordedRobot> Robots { get; init; } = [];
}

/// <summary>One record.</summary>
/// <param name="Type">What it is.</param>
/// <param name="Robot">Robot index (0xFFFF: not robot-specific).</param>
/// <param name="Time">Time since the recording began (virtual for lock-step).</param>
/// <param name="Payload">The bytes.</param>
public readonly record struct RecordEntry(RecordType Type, ushort Robot, TimeSpan Time, ReadOnlyMemory<byte> Payload);

/// <summary>
/// The rig's recording format: "WHHILREC", u16 version (1), u32 header length, the header as UTF-8 JSON, then
/// records until the end of the file: u8 type, u16 robot, i64 time in 100 ns ticks, u32 payload length, payload;
/// all integers little-endian.
/// </summary>
public static class RecordingFormat
{
    /// <summary>The magic bytes.</summary>
    public static ReadOnlySpan<byte> Magic => "WHHILREC"u8;

    /// <summary>The format version.</summary>
    public const ushort Version = 1;

    /// <summary>Bytes before each payload.</summary>
    public const int RecordHeaderLength = 1 + 2 + 8 + 4;

    /// <summary>Largest payload accepted when reading (a corrupt length is refused rather than allocated).</summary>
    public const int MaxPayload = 16 * 1024 * 1024;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Writes the file header.</summary>
    public static void WriteHeader(Stream stream, RecordingHeader header)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        Span<byte> prefix = stackalloc byte[8 + 2 + 4];
        Magic.CopyTo(prefix);
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[10..], json.Length);
        stream.Write(prefix);
        stream.Write(json);
    }

    /// <summary>Writes one record.</summary>
    public static void WriteRecord(Stream stream, RecordType type, int robot, TimeSpan time, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[RecordHeaderLength];
        head[0] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(head[1..], (ushort)robot);
        BinaryPrimitives.WriteInt64LittleEndian(head[3..], time.Ticks);
        BinaryPrimitives.WriteInt32LittleEndian(head[11..], payload.Length);
        stream.Write(head);
        stream.Write(payload);
    }

    /// <summary>An MQTT record's payload.</summary>
    public static byte[] MqttPayload(string topic, ReadOnlySpan<byte> message)
    {
        var t = Encoding.UTF8.GetBytes(topic);
        var bytes = new byte[2 + t.Length + message.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)t.Length);
        t.CopyTo(bytes, 2);
        message.CopyTo(bytes.AsSpan(2 + t.Length));
        return bytes;
    }

    /// <summary>Splits an MQTT record's payload.</summary>
    public static (string Topic, ReadOnlyMemory<byte> Message) SplitMqtt(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length < 2)
        {
            throw new InvalidDataException("an MQTT record is shorter than its topic length");
        }

        var n = BinaryPrimitives.ReadUInt16LittleEndian(payload.Span);
        if (2 + n > payload.Length)
        {
            throw new InvalidDataException($"an MQTT record's topic length {n} runs past its payload ({payload.Length} bytes)");
        }

        return (Encoding.UTF8.GetString(payload.Span.Slice(2, n)), payload[(2 + n)..]);
    }

    /// <summary>Reads a recording: its header and every record. Errors name the byte offset.</summary>
    public static (RecordingHeader Header, List<RecordEntry> Records) Read(string file)
    {
        var bytes = File.ReadAllBytes(file);
        if (bytes.Length < 14 || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{file}: not a rig recording (no WHHILREC magic at byte 0)");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        if (version != Version)
        {
            throw new InvalidDataException($"{file}: recording version {version}; this rig reads version {Version}");
        }

        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(10));
        if (headerLength < 2 || 14 + headerLength > bytes.Length)
        {
            throw new InvalidDataException($"{file}: header length {headerLength} at byte 10 runs past the end of the file ({bytes.Length} bytes)");
        }

        RecordingHeader header;
        try
        {
            header = JsonSerializer.Deserialize<RecordingHeader>(bytes.AsSpan(14, headerLength), Json) ?? throw new InvalidDataException($"{file}: empty header");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{file}: the header at byte 14 is not valid JSON: {ex.Message}", ex);
        }

        var records = new List<RecordEntry>();
        var offset = 14 + headerLength;
        while (offset < bytes.Length)
        {
            if (offset + RecordHeaderLength > bytes.Length)
            {
                throw new InvalidDataException($"{file}: truncated record header at byte {offset}");
            }

            var type = (RecordType)bytes[offset];
            if (!Enum.IsDefined(type))
            {
                throw new InvalidDataException($"{file}: unknown record type {(byte)type} at byte {offset}");
            }

            var robot = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 1));
            var ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset + 3));
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 11));
            if (length < 0 || length > MaxPayload || offset + RecordHeaderLength + length > bytes.Length)
            {
                throw new InvalidDataException($"{file}: record at byte {offset} claims {length} payload bytes; {bytes.Length - offset - RecordHeaderLength} remain");
            }

            records.Add(new RecordEntry(type, robot, TimeSpan.FromTicks(ticks), bytes.AsMemory(offset + RecordHeaderLength, length)));
            offset += RecordHeaderLength + length;
        }

        return (header, records);
    }
}
