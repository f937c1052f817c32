using Google.Protobuf;
using WarehouseHybrid.Contracts.Sparkplug.Wire;

namespace WarehouseHybrid.Contracts.Sparkplug;

/// <summary>
/// Decodes and checks a Sparkplug B payload received on a topic of a given message type. Every rejection names
/// what is wrong and where (byte offset for broken protobuf, metric index and name for bad metrics), so a hostile
/// or buggy publisher is reported instead of crashing the consumer.
/// </summary>
public static class SparkplugPayloadReader
{
    /// <summary>Default size limit of a payload (bytes).</summary>
    public const int DefaultMaxPayloadBytes = 256 * 1024;

    /// <summary>Default limit of metrics in one payload.</summary>
    public const int DefaultMaxMetrics = 4096;

    /// <summary>The name of the birth/death sequence metric.</summary>
    public const string BdSeqMetric = "bdSeq";

    /// <summary>The name of the rebirth command metric.</summary>
    public const string RebirthMetric = "Node Control/Rebirth";

    /// <summary>
    /// Decodes <paramref name="bytes"/> as the payload of a <paramref name="type"/> message and checks the rules
    /// of the specification that a consumer relies on: seq present and 0-255 (all but NDEATH); bdSeq present in
    /// NBIRTH and NDEATH; every birth metric has a name and a known scalar data type with a value of that type;
    /// every data/command metric has a name or an alias; a declared data type matches the value field.
    /// </summary>
    public static bool TryRead(
        ReadOnlySpan<byte> bytes, SparkplugMessageType type, out Payload payload, out string error,
        int maxPayloadBytes = DefaultMaxPayloadBytes, int maxMetrics = DefaultMaxMetrics)
    {
        payload = new Payload();
        if (type == SparkplugMessageType.STATE)
        {
            error = "STATE carries JSON, not a protobuf payload (use SparkplugHostState.TryParse)";
            return false;
        }

        if (bytes.Length > maxPayloadBytes)
        {
            error = $"{type} payload is {bytes.Length} bytes, over the limit of {maxPayloadBytes}";
            return false;
        }

        try
        {
            payload = Payload.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            error = $"{type} payload is not a Sparkplug B protobuf: {ex.Message}";
            return false;
        }

        if (payload.Metrics.Count > maxMetrics)
        {
            error = $"{type} payload has {payload.Metrics.Count} metrics, over the limit of {maxMetrics}";
            return false;
        }

        if (type != SparkplugMessageType.NDEATH)
        {
            if (!payload.HasSeq)
            {
                error = $"{type} payload has no seq";
                return false;
            }

            if (payload.Seq > 255)
            {
                error = $"{type} payload seq {payload.Seq} is outside 0-255";
                return false;
            }
        }

        var birth = type is SparkplugMessageType.NBIRTH or SparkplugMessageType.DBIRTH;
        if (type == SparkplugMessageType.NBIRTH && payload.Seq != 0)
        {
            error = $"NBIRTH payload seq is {payload.Seq}, the specification requires 0";
            return false;
        }

        for (var i = 0; i < payload.Metrics.Count; i++)
        {
            var m = payload.Metrics[i];
            var where = $"{type} metric {i}{(m.HasName ? $" '{m.Name}'" : m.HasAlias ? $" (alias {m.Alias})" : string.Empty)}";
            if (!m.HasName && !m.HasAlias)
            {
                error = $"{where} has neither a name nor an alias";
                return false;
            }

            if (birth && (!m.HasName || m.Name.Length == 0))
            {
                error = $"{where}: birth metrics must carry their name";
                return false;
            }

            if (birth && !m.HasDatatype)
            {
                error = $"{where}: birth metrics must carry their datatype";
                return false;
            }

            if (m.HasDatatype)
            {
                var dataType = (DataType)m.Datatype;
                if (m.Datatype > (uint)DataType.DateTimeArray || dataType == DataType.Unknown)
                {
                    error = $"{where}: datatype {m.Datatype} is not a Sparkplug B data type";
                    return false;
                }

                if (SparkplugValue.IsSupported(dataType) && !SparkplugValue.TryRead(m, dataType, out _, out var why))
                {
                    error = $"{where}: {why}";
                    return false;
                }
            }
        }

        if (type is SparkplugMessageType.NBIRTH or SparkplugMessageType.NDEATH)
        {
            var bdSeq = FindByName(payload, BdSeqMetric);
            if (bdSeq is null)
            {
                error = $"{type} payload lacks the '{BdSeqMetric}' metric";
                return false;
            }

            if (bdSeq.ValueCase != Payload.Types.Metric.ValueOneofCase.LongValue || bdSeq.LongValue > 255)
            {
                error = $"{type} '{BdSeqMetric}' must be a long value in 0-255";
                return false;
            }
        }

        error = string.Empty;
        return true;
    }

    /// <summary>The first metric with that name, or null.</summary>
    public static Payload.Types.Metric? FindByName(Payload payload, string name)
    {
        ArgumentNullException.ThrowIfNull(payload);
        foreach (var m in payload.Metrics)
        {
            if (m.HasName && m.Name == name)
            {
                return m;
            }
        }

        return null;
    }
}
