using System.Security.Cryptography;

namespace WarehouseHybrid.Contracts.Tracing;

/// <summary>
/// W3C Trace Context <c>traceparent</c> values (<c>00-{32 hex trace id}-{16 hex span id}-{2 hex flags}</c>) as they
/// travel in protobuf <c>trace_id</c> fields and in the MQTT 5 user property <see cref="PropertyName"/>, so one
/// trace runs from telemetry through the optimizer to the plan and the motor command.
/// </summary>
public static class TraceParent
{
    /// <summary>The MQTT 5 user property (and the W3C header) that carries the value.</summary>
    public const string PropertyName = "traceparent";

    /// <summary>Length of a version-00 traceparent.</summary>
    public const int Length = 55;

    /// <summary>A new root: random trace id and span id, sampled.</summary>
    public static string NewRoot()
    {
        Span<byte> ids = stackalloc byte[24];
        RandomNumberGenerator.Fill(ids);
        return $"00-{Convert.ToHexStringLower(ids[..16])}-{Convert.ToHexStringLower(ids[16..])}-01";
    }

    /// <summary>A child of <paramref name="parent"/>: the same trace id and flags, a new span id; a new root when the parent is invalid.</summary>
    public static string ChildOf(string? parent)
    {
        if (!IsValid(parent))
        {
            return NewRoot();
        }

        Span<byte> span = stackalloc byte[8];
        RandomNumberGenerator.Fill(span);
        return string.Concat(parent.AsSpan(0, 36), Convert.ToHexStringLower(span), parent.AsSpan(52));
    }

    /// <summary>The 32-hex trace id of a valid traceparent, or null.</summary>
    public static string? TraceIdOf(string? value) => IsValid(value) ? value[3..35] : null;

    /// <summary>
    /// Whether <paramref name="value"/> is a well-formed version-00 traceparent with non-zero ids (lower-case hex,
    /// as the specification requires); anything else is ignored rather than propagated.
    /// </summary>
    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? value)
    {
        if (value is null || value.Length != Length || value[2] != '-' || value[35] != '-' || value[52] != '-' || !value.StartsWith("00", StringComparison.Ordinal))
        {
            return false;
        }

        return IsHex(value.AsSpan(3, 32)) && IsHex(value.AsSpan(36, 16)) && IsHex(value.AsSpan(53, 2))
            && value.AsSpan(3, 32).IndexOfAnyExcept('0') >= 0 && value.AsSpan(36, 16).IndexOfAnyExcept('0') >= 0;
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}
