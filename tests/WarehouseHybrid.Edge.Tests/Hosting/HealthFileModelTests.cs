using System.Text.Json;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Tests.Hosting;

/// <summary>The health file reports the learned model the daemon runs, or why it runs without one.</summary>
public sealed class HealthFileModelTests
{
    [Fact]
    public void The_health_file_names_the_model_version_provider_refusal_and_learned_ticks()
    {
        var sample = new DaemonHealthSample(true, 10, 0, 1, 2, "Learned", "learned-policy", BoardLinkState.Connected, false, default, false, false, null)
        {
            ModelVersion = "1.0.0", ExecutionProvider = "Cpu", ModelRefusal = "", LearnedTicks = 7,
        };

        using var doc = JsonDocument.Parse(HealthFile.ToJson(sample, new HealthVerdict(true, false, "ok"), DateTimeOffset.UnixEpoch, "running"));

        var model = doc.RootElement.GetProperty("model");
        Assert.Equal("1.0.0", model.GetProperty("version").GetString());
        Assert.Equal("Cpu", model.GetProperty("executionProvider").GetString());
        Assert.Equal(string.Empty, model.GetProperty("refusal").GetString());
        Assert.Equal(7, model.GetProperty("learnedTicks").GetInt64());
    }
}
