using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Edge.Hosting;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Edge.Tests.Hosting;

public sealed class DaemonSupervisorTests : IDisposable
{
    private readonly NotifySocket _socket = new();
    private readonly SystemdNotifier _notifier;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeSource _source = new();
    private readonly string _healthFile = Path.Combine(Path.GetTempPath(), "wh-health-" + Guid.NewGuid().ToString("N")[..12] + ".json");

    public DaemonSupervisorTests()
    {
        _notifier = new SystemdNotifier(_socket.SocketPath);
    }

    public void Dispose()
    {
        _notifier.Dispose();
        _socket.Dispose();
        File.Delete(_healthFile);
    }

    private DaemonSupervisor Supervisor(TimeSpan? watchdog) =>
        new(_source, _notifier, watchdog, TimeSpan.FromSeconds(1), _healthFile, _time, NullLogger.Instance);

    [Fact]
    public void Ready_is_sent_at_start_with_a_status_line()
    {
        using var supervisor = Supervisor(TimeSpan.FromSeconds(4));
        supervisor.Start();
        var messages = _socket.Drain();
        var ready = Assert.Single(messages, m => m.Contains("READY=1", StringComparison.Ordinal));
        Assert.Contains("STATUS=loop ok", ready, StringComparison.Ordinal);
    }

    [Fact]
    public void Watchdog_pings_come_at_half_the_watchdog_interval_while_the_loop_ticks()
    {
        using var supervisor = Supervisor(TimeSpan.FromSeconds(4));
        Assert.Equal(TimeSpan.FromSeconds(1), supervisor.Interval); // min(4 s / 2, 1 s check interval)
        using var slow = new DaemonSupervisor(_source, _notifier, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), null, _time, NullLogger.Instance);
        Assert.Equal(TimeSpan.FromMilliseconds(500), slow.Interval);

        supervisor.Start();
        _socket.Drain();
        for (var i = 0; i < 5; i++)
        {
            _source.Ticks += 50;
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(5, _socket.Drain().Count(m => m == "WATCHDOG=1"));
        Assert.Equal(5, supervisor.WatchdogPings);
    }

    [Fact]
    public void No_watchdog_ping_while_the_loop_is_stalled_and_pings_resume_when_it_ticks_again()
    {
        using var supervisor = Supervisor(TimeSpan.FromSeconds(2));
        supervisor.Start();
        _source.Ticks += 50;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("WATCHDOG=1", _socket.Drain());

        // The loop hangs: ticks stop growing.
        _time.Advance(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        var stalled = _socket.Drain();
        Assert.DoesNotContain("WATCHDOG=1", stalled);
        Assert.Contains(stalled, m => m.StartsWith("STATUS=loop STALLED", StringComparison.Ordinal));
        Assert.Equal(2, supervisor.PingsWithheld);

        _source.Ticks += 10;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("WATCHDOG=1", _socket.Drain());
    }

    [Fact]
    public void A_loop_that_is_not_running_gets_no_ping_even_when_ticks_changed()
    {
        using var supervisor = Supervisor(TimeSpan.FromSeconds(2));
        supervisor.Start();
        _source.Running = false;
        _source.Ticks += 50;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain("WATCHDOG=1", _socket.Drain());
    }

    [Fact]
    public void Without_a_systemd_watchdog_no_ping_is_sent_but_health_is_still_written()
    {
        using var supervisor = Supervisor(watchdog: null);
        supervisor.Start();
        _source.Ticks += 50;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain("WATCHDOG=1", _socket.Drain());
        Assert.True(File.Exists(_healthFile));
    }

    [Fact]
    public void A_lost_board_degrades_the_health_file_but_does_not_stop_the_watchdog()
    {
        using var supervisor = Supervisor(TimeSpan.FromSeconds(2));
        supervisor.Start();
        _source.Board = BoardLinkState.Disconnected;
        _source.Ticks += 50;
        _time.Advance(TimeSpan.FromSeconds(1));
        var messages = _socket.Drain();
        Assert.Contains("WATCHDOG=1", messages);
        Assert.Contains(messages, m => m.Contains("serial disconnected", StringComparison.Ordinal));

        using var doc = JsonDocument.Parse(File.ReadAllBytes(_healthFile));
        Assert.False(doc.RootElement.GetProperty("healthy").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("loopProgressing").GetBoolean());
        Assert.Equal("Disconnected", doc.RootElement.GetProperty("serial").GetProperty("state").GetString());
        Assert.Equal(50, doc.RootElement.GetProperty("loop").GetProperty("ticks").GetInt64());
    }

    [Fact]
    public void Stopping_sends_stopping_and_stops_the_pings()
    {
        var supervisor = Supervisor(TimeSpan.FromSeconds(2));
        supervisor.Start();
        supervisor.Stopping();
        Assert.Contains("STOPPING=1", _socket.Drain());
        _source.Ticks += 50;
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Empty(_socket.Drain());
        supervisor.Dispose();
    }

    [Fact]
    public void Health_command_exits_0_for_a_fresh_healthy_file_and_1_for_a_stale_one()
    {
        using var supervisor = Supervisor(TimeSpan.FromSeconds(2));
        supervisor.Start();
        _source.Ticks += 50;
        _time.Advance(TimeSpan.FromSeconds(1));
        var output = new StringWriter();
        Assert.Equal(0, HealthCommand.Run([_healthFile], output, _time));
        Assert.StartsWith("healthy", output.ToString(), StringComparison.Ordinal);

        supervisor.Dispose();
        _time.Advance(HealthCommand.MaxAge + TimeSpan.FromSeconds(1));
        Assert.Equal(1, HealthCommand.Run([_healthFile], new StringWriter(), _time));
        Assert.Equal(2, HealthCommand.Run([_healthFile + ".missing"], new StringWriter(), _time));
    }

    [Fact]
    public void Notifier_reads_the_watchdog_interval_from_the_environment_and_ignores_another_pid()
    {
        var env = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = "5000000", ["WATCHDOG_PID"] = "42" };
        Assert.Equal(TimeSpan.FromSeconds(5), SystemdNotifier.WatchdogInterval(k => env.GetValueOrDefault(k), 42));
        Assert.Null(SystemdNotifier.WatchdogInterval(k => env.GetValueOrDefault(k), 43));
        Assert.Null(SystemdNotifier.WatchdogInterval(_ => null));
        Assert.Null(SystemdNotifier.FromEnvironment(_ => null));
        using var fromEnv = SystemdNotifier.FromEnvironment(k => k == "NOTIFY_SOCKET" ? _socket.SocketPath : null);
        Assert.NotNull(fromEnv);
        Assert.True(fromEnv.Watchdog());
        Assert.Equal(["WATCHDOG=1"], _socket.Drain());
    }

    [Fact]
    public void Notify_to_a_missing_socket_fails_quietly()
    {
        using var notifier = new SystemdNotifier(_socket.SocketPath + ".gone");
        Assert.False(notifier.Ready("x"));
        Assert.Equal(1, notifier.Failed);
    }

    private sealed class FakeSource : IDaemonHealthSource
    {
        public long Ticks { get; set; }

        public bool Running { get; set; } = true;

        public BoardLinkState Board { get; set; } = BoardLinkState.Connected;

        public DaemonHealthSample? Sample() =>
            new(Running, Ticks, 0, 10, 20, "Rule", "rule-policy", Board, false, default, false, false, null);
    }
}
