using System.Text;
using CsCheck;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Link;

namespace WarehouseHybrid.Edge.Tests.Link;

/// <summary>The escalation client's matching and deadlines, on a fake clock (no broker: the sender side is driven directly).</summary>
public sealed class MqttEscalationClientTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));
    private bool _up = true;
    private int _wakes;

    private MqttEscalationClient Client() => new("r1", 4, _time, () => _up, () => _wakes++);

    private EscalationRequest Request(string id, int deadlineInMs = 100) =>
        new() { RobotId = "r1", RequestId = id, DeadlineUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds() + deadlineInMs };

    [Fact]
    public void Requests_are_refused_without_a_link_past_their_deadline_for_another_robot_twice_or_beyond_the_queue()
    {
        var client = Client();
        _up = false;
        Assert.False(client.TrySend(Request("a")));
        _up = true;
        Assert.False(client.TrySend(Request("b", deadlineInMs: 0)));
        var other = Request("c");
        other.RobotId = "r2";
        Assert.False(client.TrySend(other));
        Assert.True(client.TrySend(Request("d")));
        Assert.False(client.TrySend(Request("d")));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(client.TrySend(Request($"q{i}")));
        }

        Assert.False(client.TrySend(Request("overflow")));
        Assert.Equal(5, client.Counters.Refused); // a, b, c, d again, overflow
        Assert.Equal(4, _wakes);
    }

    [Fact]
    public void An_answer_within_the_deadline_is_handed_out_once_and_a_late_one_never()
    {
        var client = Client();
        Assert.True(client.TrySend(Request("on-time")));
        Assert.True(client.TrySend(Request("late")));
        Assert.True(client.TryDequeue(out var first, out _));
        client.Published();
        Assert.Equal("on-time", first.RequestId);

        client.OnResponse(Encoding.UTF8.GetBytes("on-time"), new EscalationResponse { RobotId = "r1", SpeedLimitMps = 0.3f }.ToByteArray());
        Assert.True(client.TryTakeResponse("on-time", out var answer));
        Assert.Equal(0.3f, answer.SpeedLimitMps);
        Assert.False(client.TryTakeResponse("on-time", out _));

        _time.Advance(TimeSpan.FromMilliseconds(150));
        client.OnResponse(Encoding.UTF8.GetBytes("late"), new EscalationResponse { RobotId = "r1" }.ToByteArray());
        Assert.False(client.TryTakeResponse("late", out _));
        Assert.Equal(1, client.Counters.Late);
        Assert.False(client.TryDequeue(out _, out _)); // its request expired in the queue too: never published
        Assert.Equal(1, client.Counters.Expired);
    }

    [Fact]
    public void Hostile_responses_never_throw_and_never_produce_an_answer() =>
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Byte.Array[0, 20]).Sample((payload, correlation) =>
        {
            var client = Client();
            Assert.True(client.TrySend(Request("q")));
            client.OnResponse(correlation, payload);
            var got = client.TryTakeResponse("q", out var answer);
            // Only bytes that decode to a response for r1 correlated to "q" could ever be an answer.
            Assert.True(!got || (Encoding.UTF8.GetString(correlation) == "q" || correlation.Length == 0) && answer!.RobotId is "" or "r1");
        }, iter: 2000);
}
