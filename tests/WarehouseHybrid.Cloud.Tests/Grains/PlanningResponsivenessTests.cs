using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Grains;

/// <summary>
/// The optimizer never holds a grain's turn: while a CPU-bound plan step runs on the planning worker, the site and
/// robot grains keep answering, telemetry keeps flowing in, and the site goes on stepping at its cadence.
/// </summary>
public sealed class PlanningResponsivenessTests : IAsyncLifetime
{
    private readonly RecordingPublisher _publisher = new();
    private readonly BusyPlanner.Probe _probe = new();
    private WebApplication _app = null!;

    private IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    public async Task InitializeAsync()
    {
        var builder = TestSilos.Builder("busy", (map, starts) => new BusyPlanner(starts.Count, _probe), o =>
        {
            o.Http.Enabled = false;
            o.Cycle.ConfirmTimeout = TimeSpan.FromMilliseconds(200);
            o.Cycle.MinStepInterval = TimeSpan.FromMilliseconds(20);
        });
        builder.Services.AddSingleton<IFleetCommandPublisher>(_publisher);
        _app = builder.BuildWarehouseCloud();
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Grain_calls_answer_and_telemetry_is_taken_while_a_cpu_bound_plan_step_runs_and_steps_go_on()
    {
        const string site = "busy";
        var grain = Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 4));
        var robots = new GrainRobots(Grains, _publisher);

        // Robot r3 is never confirmed by the test loop below: its telemetry is the "flow" (periodic records).
        for (var i = 0; i < 3; i++)
        {
            await robots.ReportAsync(site, $"{site}-r{i}", 0, i == 0 ? 0 : 10 + i, Heading.East);
        }

        var answeredWhilePlanning = 0;
        var telemetryWhilePlanning = 0;
        ulong seq = 1;
        var started = TimeProvider.System.GetTimestamp();
        var stats = await grain.GetStatsAsync();
        while ((answeredWhilePlanning < 10 || telemetryWhilePlanning < 50 || stats.StepsDispatched < 5) && TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(30))
        {
            // Confirm whatever step the robots were given, so the site keeps planning.
            stats = await grain.GetStatsAsync().WaitAsync(TimeSpan.FromSeconds(5));
            foreach (var p in _publisher.PlansForStep(site, stats.Step))
            {
                await robots.ReportAsync(site, p.RobotId, stats.Step, p.Steps[0].TargetCell, (Heading)p.Steps[0].TargetHeading);
            }

            // Telemetry of the fourth robot and a status read, each checked against "the optimizer is inside PlanStep".
            await Grains.GetGrain<IRobotGrain>($"{site}-r3").ReportTelemetryAsync(new TelemetryReport { RobotId = $"{site}-r3", SiteId = site, Seq = seq++, Cell = 13 }).WaitAsync(TimeSpan.FromSeconds(5));
            if (_probe.Planning)
            {
                telemetryWhilePlanning++;
            }

            var during = _probe.Planning;
            var read = await grain.GetStatsAsync().WaitAsync(TimeSpan.FromSeconds(5));
            if (during && _probe.Planning && read.Planning)
            {
                answeredWhilePlanning++;
            }
        }

        Assert.True(answeredWhilePlanning >= 10, $"the site answered {answeredWhilePlanning} calls while the optimizer was planning");
        Assert.True(telemetryWhilePlanning >= 50, $"{telemetryWhilePlanning} telemetry records were taken while the optimizer was planning");
        var final = await grain.GetStatsAsync();
        Assert.True(final.StepsDispatched >= 5, $"{final.StepsDispatched} steps were dispatched meanwhile");
        Assert.True((await Grains.GetGrain<IRobotGrain>($"{site}-r3").GetStatusAsync())!.TelemetryCount >= 50);
    }

    /// <summary>A planner that burns CPU for 100 ms per step (as a large optimizer step would) and reports when it is inside PlanStep.</summary>
    private sealed class BusyPlanner(int robots, BusyPlanner.Probe probe) : IFleetPlanner
    {
        public int RobotCount => robots;

        public int OpenTaskCount => 0;

        public void SubmitTask(PlanningTask task)
        {
        }

        public PlannerStepResult PlanStep(ReadOnlySpan<RobotPose> poses, TimeSpan budget, CancellationToken cancellationToken = default)
        {
            probe.Planning = true;
            var started = TimeProvider.System.GetTimestamp();
            var spin = 0.0;
            while (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMilliseconds(100))
            {
                spin = Math.Sqrt(spin + 1);
            }

            probe.Planning = false;
            return new PlannerStepResult(robots) { Elapsed = TimeSpan.FromMilliseconds(spin > 0 ? 100 : 0) };
        }

        public sealed class Probe
        {
            private volatile bool _planning;

            public bool Planning
            {
                get => _planning;
                set => _planning = value;
            }
        }
    }
}
