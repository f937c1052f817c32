using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Link;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>The telemetry fields the decision module fills.</summary>
public sealed class TelemetryMapperTests
{
    [Fact]
    public void Fallback_reason_is_empty_while_the_learned_policy_drives_and_the_model_version_is_reported()
    {
        var sample = new ControlSample { Mode = DecisionMode.Learned, Reason = DecisionReason.LearnedPolicy, ModelVersion = "1.0.0", PlanId = "", TraceId = "", TaskId = "" };
        var t = TelemetryMapper.ToTelemetry(sample, "r1", "s1", 1, DateTimeOffset.UnixEpoch);
        Assert.Equal(string.Empty, t.FallbackReason);
        Assert.Equal("1.0.0", t.ModelVersion);
    }

    [Fact]
    public void Fallback_reason_names_why_the_rule_policy_acted()
    {
        var sample = new ControlSample { Mode = DecisionMode.Rule, Reason = DecisionReason.ModelUnavailable, PlanId = "", TraceId = "", TaskId = "" };
        var t = TelemetryMapper.ToTelemetry(sample, "r1", "s1", 1, DateTimeOffset.UnixEpoch);
        Assert.Equal(DecisionReason.ModelUnavailable.ToText(), t.FallbackReason);
        Assert.Equal(string.Empty, t.ModelVersion); // a sample without a model version maps to empty, never null
    }
}
