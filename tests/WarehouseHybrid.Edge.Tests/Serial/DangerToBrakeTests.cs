using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.Edge.Serial;
using WarehouseHybrid.Edge.Tests.Doubles;
using Xunit.Abstractions;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Serial;

/// <summary>
/// The whole edge runtime (100 Hz control loop) on one end of a real socat pty pair and a board simulated on the
/// other end: how many ticks from a dangerous range reading written on the line to a brake command read back, and
/// a silent board stopping the robot.
/// </summary>
public sealed class DangerToBrakeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int RateHz = 100;

    /// <summary>30 in CI; set WH_DANGER_TRIALS (e.g. 300) for a measurement with a meaningful p99.</summary>
    private static readonly int Trials = int.TryParse(Environment.GetEnvironmentVariable("WH_DANGER_TRIALS"), out var n) && n > 0 ? n : 30;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly SocatPtyPair _pty = SocatPtyPair.Start();
    private readonly CancellationTokenSource _stop = new();
    private EdgeRuntime _runtime = null!;
    private TtyStream _board = null!;
    private Task _sender = Task.CompletedTask;
    private Thread _reader = null!;
    private volatile bool _danger;
    private volatile bool _silent;
    private long _dangerWrittenAt;
    private long _brakeReadAt;
    private long _framesSent;
    private long _commandsRead;
    private volatile bool _lastBraked;
    private volatile float _lastLinear;

    public async Task InitializeAsync()
    {
        var options = new EdgeOptions
        {
            RobotId = "robot-1", SiteId = "site-1", CloudLinkEnabled = false, ControlRateHz = RateHz, MapWidth = 10, MapHeight = 10,
            SensorStaleAfter = TimeSpan.FromMilliseconds(100), ReconnectDelay = TimeSpan.FromMilliseconds(20), MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
        };
        _runtime = new EdgeRuntime(options, new TtyTransport(new TtyOptions(_pty.DaemonPath), TimeProvider.System), TimeProvider.System, NullLoggerFactory.Instance);

        // WH_DANGER_MODE=off|tick|full (default full) compares the designs in one run (docs/benchmarks.md).
        if (Environment.GetEnvironmentVariable("WH_DANGER_MODE") is { Length: > 0 } mode)
        {
            var limits = new KinematicLimits(options.MaxLinearMps, options.MaxAngularRadps, options.LinearAccel, options.AngularAccel, options.BrakeDecel,
                options.SafetyMarginMetres, options.RobotHalfWidthMetres, options.ObstacleSlowdownMetres, options.RestLinearMps);
            _runtime.SetBrakeTriggerForMeasurement(mode, new SafetyShield(limits, (ushort)options.BoardCommandTimeoutMs));
        }

        await _runtime.StartAsync();
        _board = TtyStream.Open(new TtyOptions(_pty.BoardPath), TimeProvider.System);
        _reader = new Thread(ReadCommands) { IsBackground = true, Name = "test-board-read" };
        _reader.Start();
        _sender = Task.Run(SendFramesAsync);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sender.WaitAsync(Timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _runtime.DisposeAsync();
        _board.Dispose();
        _reader.Join(Timeout);
        _pty.Dispose();
        _stop.Dispose();
    }

    [Fact]
    [Trait("Category", "Measure")]
    public async Task A_dangerous_range_reading_on_the_pty_gets_a_brake_command_back_every_time_and_the_latency_is_reported()
    {
        await Eventually.UntilAsync(() => Interlocked.Read(ref _commandsRead) > 20, Timeout, "the loop to drive the line");
        var ticks = new double[Trials];
        for (var i = 0; i < Trials; i++)
        {
            // Safe frames for a while, so the loop has stopped braking from the last trial.
            var sent = Interlocked.Read(ref _framesSent);
            await Eventually.UntilAsync(() => Interlocked.Read(ref _framesSent) > sent + 10 && !_lastBraked, Timeout, "safe driving");
            Interlocked.Exchange(ref _brakeReadAt, 0);
            Interlocked.Exchange(ref _dangerWrittenAt, 0);
            _danger = true;
            await Eventually.UntilAsync(() => Interlocked.Read(ref _brakeReadAt) != 0, Timeout, $"a brake command in trial {i}");
            _danger = false;
            var elapsed = Stopwatch.GetElapsedTime(Interlocked.Read(ref _dangerWrittenAt), Interlocked.Read(ref _brakeReadAt));
            ticks[i] = elapsed.TotalMilliseconds * RateHz / 1000.0;
        }

        Array.Sort(ticks);
        var p50 = ticks[Trials / 2];
        var p99 = ticks[(int)Math.Ceiling(Trials * 0.99) - 1];
        output.WriteLine("sorted ticks: " + string.Join(" ", ticks.Select(t => t.ToString("F2", System.Globalization.CultureInfo.InvariantCulture))));
        output.WriteLine($"danger-to-brake over the pty at {RateHz} Hz, mode {Environment.GetEnvironmentVariable("WH_DANGER_MODE") ?? "full"}, {Trials} trials: p50 {p50:F2} ticks, p99 {p99:F2} ticks, max {ticks[^1]:F2} ticks ({ticks[^1] * 1000 / RateHz:F1} ms); immediate ticks {_runtime.GetStatus().ImmediateTicks}");
        Assert.True(_runtime.GetStatus().Loop.ModeChanges >= 2 * Trials, "every trial is a change to ShieldStop and back");

        // Target from the issue: p99 < 2 ticks (met on a quiet machine, see docs/adr/0005-serial-io.md); that is a
        // measurement, not a CI assertion. The shared 2-core CI box can stall a thread for most of a second, so the
        // test only fails when a brake takes seconds (a lost or queued command), never on scheduling noise.
        Assert.True(ticks[^1] < 300, $"danger-to-brake max {ticks[^1]:F2} ticks");
    }

    [Fact]
    public async Task A_silent_board_is_stale_within_the_timeout_and_the_loop_commands_a_stop()
    {
        await Eventually.UntilAsync(() => Interlocked.Read(ref _commandsRead) > 20, Timeout, "the loop to drive the line");
        Assert.False(_runtime.GetStatus().SensorsStale);

        _silent = true;
        var since = Stopwatch.StartNew();
        await Eventually.UntilAsync(() => _runtime.GetStatus().Reason == DecisionReason.SensorStale, Timeout, "the loop to see stale sensors");
        output.WriteLine($"stale stop after {since.Elapsed.TotalMilliseconds:F0} ms of silence (timeout 100 ms)");
        Assert.True(since.Elapsed < TimeSpan.FromSeconds(10), $"stale stop only after {since.Elapsed}");
        var read = Interlocked.Read(ref _commandsRead);
        await Eventually.UntilAsync(() => Interlocked.Read(ref _commandsRead) > read + 2, Timeout, "commands after the stop");
        Assert.Equal(0f, _lastLinear);
        await Eventually.UntilAsync(() => _runtime.BoardSilent, Timeout, "the board link to report the silence");

        _silent = false;
        await Eventually.UntilAsync(() => !_runtime.GetStatus().SensorsStale && !_runtime.BoardSilent, Timeout, "fresh frames to clear it");
    }

    private async Task SendFramesAsync()
    {
        var robot = new KinematicRobot(0, 0.5, 0);
        robot.Command(new MotorCommand { LinearMps = 0.8f });
        for (var i = 0; i < 100; i++)
        {
            robot.Step(0.01); // up to 0.8 m/s
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1000.0 / RateHz), TimeProvider.System);
        var buffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
        ushort seq = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (_silent)
                {
                    continue;
                }

                // The obstacle stays until the brake is seen; the latency counts from its first frame.
                var danger = _danger;
                robot.WallEastX = robot.X + (danger ? 0.3 : 9.0);
                var frame = robot.Frame();
                frame.BoardTimeMs = (uint)(seq * 10);
                var n = SerialFrameEncoder.Encode(frame, seq++, buffer);
                _board.Write(buffer, 0, n);
                if (danger)
                {
                    Interlocked.CompareExchange(ref _dangerWrittenAt, Stopwatch.GetTimestamp(), 0);
                }

                Interlocked.Increment(ref _framesSent);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void ReadCommands()
    {
        var decoder = new SerialFrameDecoder();
        var buffer = new byte[512];
        try
        {
            while (true)
            {
                var n = _board.Read(buffer, 0, buffer.Length);
                if (n == 0)
                {
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
                while (decoder.TryDecode(ref input, out var frame))
                {
                    if (frame.Type != BoardMessageType.MotorCommand)
                    {
                        continue;
                    }

                    _lastBraked = (frame.Motor.Flags & MotorFlags.Brake) != 0;
                    _lastLinear = frame.Motor.LinearMps;
                    Interlocked.Increment(ref _commandsRead);
                    if ((frame.Motor.Flags & MotorFlags.Brake) != 0 && Interlocked.Read(ref _dangerWrittenAt) != 0)
                    {
                        Interlocked.CompareExchange(ref _brakeReadAt, now, 0);
                    }
                }
            }
        }
        catch (IOException)
        {
        }
    }
}
