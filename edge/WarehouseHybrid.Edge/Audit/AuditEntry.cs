using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;

namespace WarehouseHybrid.Edge.Audit;

/// <summary>A SHA-256 digest held inline (no array), so an audit entry can be built on the control thread without allocating.</summary>
[InlineArray(Length)]
public struct Sha256Digest
{
    /// <summary>Digest length in bytes.</summary>
    public const int Length = 32;

    private byte _element0;

    /// <summary>SHA-256 of the policy features of <paramref name="input"/> (25 little-endian float32, <see cref="PolicyFeatures"/>): the audit's input digest. Allocation-free.</summary>
    public static Sha256Digest OfFeatures(in PolicyInput input, in KinematicLimits limits)
    {
        Span<float> features = stackalloc float[PolicyFeatures.Count];
        PolicyFeatures.Extract(input, limits, features);
        return Of(features);
    }

    /// <summary>SHA-256 of a feature vector as little-endian float32 (what <see cref="OfFeatures"/> hashes). Allocation-free.</summary>
    public static Sha256Digest Of(ReadOnlySpan<float> features)
    {
        var digest = default(Sha256Digest);
        SHA256.HashData(MemoryMarshal.AsBytes(features), digest);
        return digest;
    }
}

/// <summary>What a decision produced, for the audit record's <c>output</c>.</summary>
/// <param name="Mode">Which part of the chain acted.</param>
/// <param name="Reason">Why.</param>
/// <param name="LinearMps">Commanded forward speed.</param>
/// <param name="AngularRadps">Commanded yaw rate.</param>
/// <param name="Brake">Whether the brake flag was sent.</param>
/// <param name="Confidence">The learned model's confidence this tick (NaN when no model ran).</param>
public readonly record struct AuditDecision(DecisionMode Mode, DecisionReason Reason, float LinearMps, float AngularRadps, bool Brake, float Confidence);

/// <summary>
/// One thing to audit, handed to <see cref="IAuditSink.TryAppend"/>. A value type whose strings are references the
/// caller already holds (constant kinds, the model version, the plan's trace id), so the control thread appends
/// without allocating; the audit writer turns it into a hash-chained record on its own thread.
/// </summary>
public struct AuditEntry
{
    /// <summary>What happened (<see cref="AuditKinds"/> or a robot event kind such as "model-swap").</summary>
    public string Kind;

    /// <summary>When, Unix milliseconds (from the <see cref="TimeProvider"/>).</summary>
    public long UnixMs;

    /// <summary>W3C traceparent of the plan or escalation involved (null or empty when none).</summary>
    public string? TraceId;

    /// <summary>Version of the learned model involved (empty when none).</summary>
    public string? ModelVersion;

    /// <summary>Short machine-readable reason (a decision reason, a refusal kind).</summary>
    public string? Reason;

    /// <summary>Human-readable detail.</summary>
    public string? Detail;

    /// <summary>Whether <see cref="Input"/> is set.</summary>
    public bool HasInput;

    /// <summary>SHA-256 of the decision's input features (<see cref="Sha256Digest.OfFeatures"/>).</summary>
    public Sha256Digest Input;

    /// <summary>Whether <see cref="Decision"/> is set.</summary>
    public bool HasDecision;

    /// <summary>The decision's output.</summary>
    public AuditDecision Decision;
}

/// <summary>The record kinds the audit log itself and the control loop write (robot event kinds are used as they are).</summary>
public static class AuditKinds
{
    /// <summary>The writer started; the record links to the last record of the previous run.</summary>
    public const string Opened = "audit-opened";

    /// <summary>Clean shutdown of the writer.</summary>
    public const string Closed = "audit-closed";

    /// <summary>Entries were dropped because the queue was full (count in the detail).</summary>
    public const string Dropped = "audit-dropped";

    /// <summary>Entries were lost because a write failed (count and error in the detail).</summary>
    public const string Lost = "audit-lost";

    /// <summary>An old file was deleted to keep the disk bound; names its last record so the chain stays anchored.</summary>
    public const string Pruned = "audit-pruned";

    /// <summary>A sampled control decision.</summary>
    public const string Decision = "decision";

    /// <summary>The decision mode or its reason changed (fallbacks, shield overrides, recoveries).</summary>
    public const string ModeChange = "mode-change";
}

/// <summary>Where auditable facts go. Never blocks and never waits on disk; false when the entry was dropped (counted).</summary>
public interface IAuditSink
{
    /// <summary>Queues an entry for the writer; false when the queue is full (the drop is counted and itself audited).</summary>
    bool TryAppend(in AuditEntry entry);
}

/// <summary>An audit sink that keeps nothing (audit disabled).</summary>
public sealed class NullAuditSink : IAuditSink
{
    /// <summary>The shared instance.</summary>
    public static NullAuditSink Instance { get; } = new();

    /// <inheritdoc />
    public bool TryAppend(in AuditEntry entry) => true;
}

/// <summary>
/// An event sink that also audits every event it passes on (model swaps, drift, escalations): the decision module
/// and the model lifecycle report through it, so one call both informs the cloud and leaves an audit record.
/// </summary>
/// <param name="inner">The sink events go to (the cloud link, or nothing).</param>
/// <param name="audit">The audit log.</param>
/// <param name="modelVersion">The model version to stamp on each record (read when the event arrives).</param>
public sealed class AuditingEventSink(IRobotEventSink inner, IAuditSink audit, Func<string>? modelVersion = null) : IRobotEventSink
{
    /// <inheritdoc />
    public void Offer(RobotEventRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        inner.Offer(record);
        var entry = new AuditEntry
        {
            Kind = record.Kind,
            UnixMs = record.Timestamp.ToUnixTimeMilliseconds(),
            TraceId = record.TraceId,
            ModelVersion = modelVersion?.Invoke() ?? string.Empty,
            Detail = record.Detail,
        };
        audit.TryAppend(entry);
    }
}
