using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Cloud.Escalation;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Contracts.Fleet;

namespace WarehouseHybrid.Cloud.Tests.Escalation;

/// <summary>
/// The shipped cloud escalation model (Escalation/Model/cloud-escalation.onnx, trained by wh-model train-cloud-model)
/// behind <see cref="OnnxEscalationResponder"/>, in ONNX Runtime: answers, refusals, the SLO, logs and counts.
/// </summary>
public sealed class EscalationResponderTests : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly FakeLogger<OnnxEscalationResponder> _log = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    public EscalationResponderTests() => _services = new ServiceCollection().AddMetrics().AddSingleton<CloudMetrics>().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    // Features as the edge computes them (PolicyFeatures): 16 beams (metres / 4, no echo = 1), measured and previous
    // speeds (fractions), step kind one-hot, remaining distance / 2, lateral offset, heading error / pi.
    internal static float[] Features(float aheadMetres)
    {
        var f = new float[25];
        for (var i = 0; i < 16; i++)
        {
            f[i] = 1f;
        }

        if (aheadMetres > 0)
        {
            f[15] = f[0] = f[1] = aheadMetres / 4f;
        }

        f[16] = 0.5f;
        f[18] = 0.5f;
        f[20] = 1f;
        f[22] = 0.4f;
        return f;
    }

    internal static EscalationRequest Request(float[] features, string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", long deadline = 0)
    {
        var r = new EscalationRequest { RobotId = "r7", RequestId = "q1", ModelVersion = "1.0.0", EdgeConfidence = 0.7f, TraceId = traceParent, DeadlineUnixMs = deadline };
        r.Features.Add(features);
        return r;
    }

    private OnnxEscalationResponder Responder(EscalationOptions? options = null, TimeProvider? time = null) =>
        new(Options.Create(options ?? new EscalationOptions()), _services.GetRequiredService<CloudMetrics>(), time ?? _time, _log);

    [Fact]
    public async Task A_clear_corridor_is_answered_clear_with_speed_by_the_shipped_model_continuing_the_trace()
    {
        using var responder = Responder();
        var answer = await responder.AnswerAsync(Request(Features(0)), CancellationToken.None);

        Assert.NotNull(answer);
        Assert.Equal(0u, answer.ObstacleClass);
        Assert.True(answer.Confidence > 0.8f, $"confidence {answer.Confidence}");
        Assert.InRange(answer.SpeedLimitMps, 0.05f, 1f);
        Assert.StartsWith("cloud-", answer.ModelVersion, StringComparison.Ordinal);
        Assert.Equal(("r7", "q1"), (answer.RobotId, answer.RequestId));
        Assert.Equal(ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c"), ActivityContext.Parse(answer.TraceId, null).TraceId);
        var logged = Assert.Single(_log.Collector.GetSnapshot(), r => r.Id.Id == 7002);
        Assert.Contains(answer.ModelVersion, logged.Message, StringComparison.Ordinal);
        Assert.Contains("0af7651916cd43dd8448eb211c80319c", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_obstacle_half_a_metre_ahead_is_answered_obstacle_with_the_speed_capped()
    {
        using var responder = Responder();
        var answer = await responder.AnswerAsync(Request(Features(0.5f)), CancellationToken.None);
        Assert.NotNull(answer);
        Assert.Equal(1u, answer.ObstacleClass);
        Assert.True(answer.SpeedLimitMps <= 0.2f, $"speed {answer.SpeedLimitMps}");
    }

    [Theory]
    [InlineData(24, false)]
    [InlineData(26, false)]
    [InlineData(25, true)]
    public async Task Requests_with_the_wrong_feature_count_or_non_finite_values_get_no_answer_and_are_counted(int count, bool poison)
    {
        using var collector = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), CloudMetrics.MeterName, "wh.escalation.answers");
        using var responder = Responder();
        var features = new float[count];
        if (poison)
        {
            features[3] = float.NaN;
        }

        Assert.Null(await responder.AnswerAsync(Request(features), CancellationToken.None));
        var measured = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal("bad-request", measured.Tags["outcome"]);
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Id.Id == 7003 && r.Message.Contains("bad-request", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_past_its_deadline_is_not_answered()
    {
        using var responder = Responder();
        var deadline = _time.GetUtcNow().ToUnixTimeMilliseconds() - 1;
        Assert.Null(await responder.AnswerAsync(Request(Features(0), deadline: deadline), CancellationToken.None));
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("(expired)", StringComparison.Ordinal));
        Assert.NotNull(await responder.AnswerAsync(Request(Features(0), deadline: deadline + 1000), CancellationToken.None));
    }

    [Fact]
    public async Task An_answer_that_misses_the_slo_is_not_sent()
    {
        using var responder = Responder(new EscalationOptions { Slo = TimeSpan.FromMilliseconds(50) }, new SlowClock(TimeSpan.FromMilliseconds(60)));
        Assert.Null(await responder.AnswerAsync(Request(Features(0)), CancellationToken.None));
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("over the SLO of 50 ms", StringComparison.Ordinal));
    }

    [Fact]
    public void Advice_holds_when_unsure_caps_speed_at_obstacles_and_discounts_disagreement()
    {
        var options = new EscalationOptions { MaxLinearMps = 1.2, ObstacleSpeedMps = 0.2, MinConfidence = 0.6 };
        var clear = EscalationAdvice.From(new EscalationInference(0.95f, 0.05f, 0.02f, 0.02f, 0.5f, 0f), options);
        Assert.Equal((0u, 0.93f, 0.6f), (clear.ObstacleClass, MathF.Round(clear.Confidence, 2), MathF.Round(clear.SpeedLimitMps, 2)));
        var obstacle = EscalationAdvice.From(new EscalationInference(0.1f, 0.9f, 0.05f, 0.05f, 0.5f, 0f), options);
        Assert.Equal((1u, 0.2f), (obstacle.ObstacleClass, MathF.Round(obstacle.SpeedLimitMps, 2)));
        var disputed = EscalationAdvice.From(new EscalationInference(0.7f, 0.3f, 0.2f, 0.2f, 0.8f, 0f), options);
        Assert.Equal(0f, disputed.SpeedLimitMps);
        Assert.Equal(0.5f, disputed.Confidence, 3);
        var backwards = EscalationAdvice.From(new EscalationInference(0.99f, 0.01f, 0f, 0f, -0.3f, 0f), options);
        Assert.Equal(0f, backwards.SpeedLimitMps);
    }

    [Fact]
    public void A_missing_or_broken_model_file_is_named()
    {
        Assert.Contains("Escalation.ModelPath '/nonexistent/cloud.onnx' does not exist", new EscalationOptions { ModelPath = "/nonexistent/cloud.onnx" }.Check(), StringComparison.Ordinal);
        Assert.Null(new EscalationOptions { Enabled = false, ModelPath = "/nonexistent/cloud.onnx" }.Check());
        var junk = Path.Combine(Path.GetTempPath(), $"wh-junk-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(junk, [1, 2, 3, 4]);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => new CloudEscalationModel(junk));
            Assert.Contains(junk, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(junk);
        }
    }

    [Fact]
    public void The_shipped_model_is_an_ensemble_larger_than_the_edge_model()
    {
        using var model = new CloudEscalationModel(new EscalationOptions().ResolvedModelPath);
        Assert.Equal(25, model.FeatureCount);
        Assert.True(model.Members >= 2);
        Assert.True(model.HasSpread);
        Assert.Matches(@"^cloud-\d+\.\d+\.\d+$", model.Version);
    }

    /// <summary>A clock whose every reading is <paramref name="step"/> later than the one before.</summary>
    private sealed class SlowClock(TimeSpan step) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _now, step.Ticks);
    }
}
