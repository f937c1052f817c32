using Google.Protobuf;
using WarehouseHybrid.Contracts.Sparkplug.Wire;
using Metric = WarehouseHybrid.Contracts.Sparkplug.Wire.Payload.Types.Metric;

namespace WarehouseHybrid.Contracts.Sparkplug;

/// <summary>
/// One typed metric value of the scalar Sparkplug B data types, without boxing. Integers live in
/// <see cref="Integer"/> (signed values as two's complement), floating point in <see cref="Real"/>, text in
/// <see cref="Text"/>. Equality is by value (NaN equals NaN), which is what report-by-exception needs.
/// </summary>
/// <param name="Type">The Sparkplug data type.</param>
/// <param name="Integer">Integer and boolean (0/1) values.</param>
/// <param name="Real">Float and Double values.</param>
/// <param name="Text">String, Text and UUID values.</param>
/// <param name="IsNull">The metric has no value (<c>is_null</c>).</param>
public readonly record struct SparkplugValue(DataType Type, ulong Integer, double Real, string? Text, bool IsNull)
{
    /// <summary>An Int32 value.</summary>
    public static SparkplugValue Int32(int v) => new(DataType.Int32, unchecked((ulong)(long)v), 0, null, false);

    /// <summary>A UInt32 value.</summary>
    public static SparkplugValue UInt32(uint v) => new(DataType.Uint32, v, 0, null, false);

    /// <summary>An Int64 value.</summary>
    public static SparkplugValue Int64(long v) => new(DataType.Int64, unchecked((ulong)v), 0, null, false);

    /// <summary>A UInt64 value.</summary>
    public static SparkplugValue UInt64(ulong v) => new(DataType.Uint64, v, 0, null, false);

    /// <summary>A DateTime value (milliseconds since the Unix epoch, UTC).</summary>
    public static SparkplugValue DateTime(long unixMs) => new(DataType.DateTime, unchecked((ulong)unixMs), 0, null, false);

    /// <summary>A Float value.</summary>
    public static SparkplugValue Float(float v) => new(DataType.Float, 0, v, null, false);

    /// <summary>A Double value.</summary>
    public static SparkplugValue Double(double v) => new(DataType.Double, 0, v, null, false);

    /// <summary>A Boolean value.</summary>
    public static SparkplugValue Boolean(bool v) => new(DataType.Boolean, v ? 1UL : 0UL, 0, null, false);

    /// <summary>A String value.</summary>
    public static SparkplugValue String(string v) => new(DataType.String, 0, 0, v ?? throw new ArgumentNullException(nameof(v)), false);

    /// <summary>A null value of a type.</summary>
    public static SparkplugValue Null(DataType type) => new(type, 0, 0, null, true);

    /// <summary>The value as a signed integer (Int8-Int64, DateTime).</summary>
    public long AsInt64 => unchecked((long)Integer);

    /// <summary>The value as a boolean.</summary>
    public bool AsBoolean => Integer != 0;

    /// <summary>Whether a data type is one of the scalar types this struct carries.</summary>
    public static bool IsSupported(DataType type) => type is >= DataType.Int8 and <= DataType.Uuid and not DataType.Unknown;

    /// <summary>Writes this value (and its data type when <paramref name="withType"/>) into a metric.</summary>
    public void WriteTo(Metric metric, bool withType)
    {
        ArgumentNullException.ThrowIfNull(metric);
        if (withType)
        {
            metric.Datatype = (uint)Type;
        }

        if (IsNull)
        {
            metric.IsNull = true;
            return;
        }

        switch (Type)
        {
            case DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Uint8 or DataType.Uint16 or DataType.Uint32:
                metric.IntValue = unchecked((uint)Integer);
                break;
            case DataType.Int64 or DataType.Uint64 or DataType.DateTime:
                metric.LongValue = Integer;
                break;
            case DataType.Float:
                metric.FloatValue = (float)Real;
                break;
            case DataType.Double:
                metric.DoubleValue = Real;
                break;
            case DataType.Boolean:
                metric.BooleanValue = Integer != 0;
                break;
            case DataType.String or DataType.Text or DataType.Uuid:
                metric.StringValue = Text ?? string.Empty;
                break;
            default:
                throw new InvalidOperationException($"data type {Type} is not a scalar type this codec writes");
        }
    }

    /// <summary>
    /// Reads a metric's value as <paramref name="type"/> (from the metric's own datatype or from the birth that
    /// defined its alias). False, with the reason, when the value field does not fit the type.
    /// UInt32 is accepted in <c>int_value</c> (the specification) and in <c>long_value</c> (what Tahu writes).
    /// </summary>
    public static bool TryRead(Metric metric, DataType type, out SparkplugValue value, out string error)
    {
        ArgumentNullException.ThrowIfNull(metric);
        value = default;
        if (!IsSupported(type))
        {
            error = $"data type {(uint)type} ({type}) is not a scalar Sparkplug type";
            return false;
        }

        if (metric.HasIsNull && metric.IsNull)
        {
            value = Null(type);
            error = string.Empty;
            return true;
        }

        var kind = metric.ValueCase;
        bool ok;
        switch (type)
        {
            case DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Uint8 or DataType.Uint16:
                ok = kind == Metric.ValueOneofCase.IntValue;
                if (ok)
                {
                    var raw = metric.IntValue;
                    long v = type switch
                    {
                        DataType.Int8 => (sbyte)(byte)raw,
                        DataType.Int16 => (short)(ushort)raw,
                        DataType.Int32 => unchecked((int)raw),
                        DataType.Uint8 => (byte)raw,
                        _ => (ushort)raw,
                    };
                    value = new SparkplugValue(type, unchecked((ulong)v), 0, null, false);
                }

                break;
            case DataType.Uint32:
                ok = kind is Metric.ValueOneofCase.IntValue or Metric.ValueOneofCase.LongValue;
                if (ok)
                {
                    value = new SparkplugValue(type, kind == Metric.ValueOneofCase.IntValue ? metric.IntValue : (uint)metric.LongValue, 0, null, false);
                }

                break;
            case DataType.Int64 or DataType.Uint64 or DataType.DateTime:
                ok = kind == Metric.ValueOneofCase.LongValue;
                value = new SparkplugValue(type, metric.LongValue, 0, null, false);
                break;
            case DataType.Float:
                ok = kind == Metric.ValueOneofCase.FloatValue;
                value = new SparkplugValue(type, 0, metric.FloatValue, null, false);
                break;
            case DataType.Double:
                ok = kind == Metric.ValueOneofCase.DoubleValue;
                value = new SparkplugValue(type, 0, metric.DoubleValue, null, false);
                break;
            case DataType.Boolean:
                ok = kind == Metric.ValueOneofCase.BooleanValue;
                value = new SparkplugValue(type, metric.BooleanValue ? 1UL : 0UL, 0, null, false);
                break;
            default: // String, Text, UUID
                ok = kind == Metric.ValueOneofCase.StringValue;
                value = new SparkplugValue(type, 0, 0, metric.StringValue, false);
                break;
        }

        if (!ok)
        {
            value = default;
            error = $"data type {type} but the value field is {(kind == Metric.ValueOneofCase.None ? "missing (and is_null is not set)" : kind.ToString())}";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>A readable form for logs and test failures.</summary>
    public override string ToString() => IsNull ? $"{Type}:null" : Type switch
    {
        DataType.Float or DataType.Double => $"{Type}:{Real:R}",
        DataType.Boolean => $"{Type}:{AsBoolean}",
        DataType.String or DataType.Text or DataType.Uuid => $"{Type}:\"{Text}\"",
        DataType.Uint8 or DataType.Uint16 or DataType.Uint32 or DataType.Uint64 => $"{Type}:{Integer}",
        _ => $"{Type}:{AsInt64}",
    };
}

/// <summary>One metric of a birth certificate: its name, its alias (unique within the edge node) and its type.</summary>
/// <param name="Name">The metric name, '/'-separated folders allowed (e.g. <c>Pose/X</c>).</param>
/// <param name="Alias">The alias used in data messages instead of the name.</param>
/// <param name="Type">The Sparkplug data type.</param>
public sealed record SparkplugMetricDefinition(string Name, ulong Alias, DataType Type);

/// <summary>Encoding helpers for <see cref="Payload"/>.</summary>
public static class SparkplugPayloadEncoding
{
    /// <summary>The payload's protobuf bytes.</summary>
    public static byte[] Encode(Payload payload) => payload.ToByteArray();
}
