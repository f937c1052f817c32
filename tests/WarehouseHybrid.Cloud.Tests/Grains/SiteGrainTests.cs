using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Contracts.Fleet;
using DomainHeading = WarehouseHybrid.Domain.Grid.Heading;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Grains;

/// <summary>The site grain's step cycle in an in-process silo with a recording publisher and the corridor planner.</summary>
public sealed class SiteGrainTests(SiloFixture silo) : IClassFixture<SiloFixture>
{
    [Fact]
    public async Task When_every_robot_confirms_the_next_step_is_dispatched_to_every_robot()
    {
        const string site = "all-confirm";
        var definition = TestMaps.Corridor(site, 3);
        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(definition);

        // Two of three confirmed step 0: nothing planned before the third (timeout is 300 ms, we look at once).
        await silo.ReportAsync(site, "all-confirm-r0", 0, 0, DomainHeading.East, 1);
        await silo.ReportAsync(site, "all-confirm-r1", 0, 11, DomainHeading.East, 1);
        Assert.Empty(silo.Publisher.PlansForStep(site, 1));
        await silo.ReportAsync(site, "all-confirm-r2", 0, 12, DomainHeading.East, 1);

        var step1 = await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, 1)), p => p.Count == 3, "step 1 for 3 robots");
        var r1 = Assert.Single(step1, p => p.RobotId == "all-confirm-r1");
        Assert.Equal(11, r1.StartCell);
        var only = Assert.Single(r1.Steps);
        Assert.True(only.Granted);
        Assert.Equal(1u, only.Step);
        Assert.Equal(PlanAction.Wait, only.Action);
        Assert.Equal(1ul, r1.Revision);
        Assert.StartsWith("00-", r1.TraceId, StringComparison.Ordinal);

        // Everyone confirms step 1 -> step 2.
        foreach (var p in step1)
        {
            await silo.ReportAsync(site, p.RobotId, 1, p.Steps[0].TargetCell, (DomainHeading)p.Steps[0].TargetHeading, 2);
        }

        var step2 = await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, 2)), p => p.Count == 3, "step 2 for 3 robots");
        Assert.All(step2, p => Assert.Equal(2ul, p.Revision));
        var stats = await grain.GetStatsAsync();
        Assert.Equal(2u, stats.Step);
        Assert.Equal(2, stats.StepsDispatched);
        Assert.Equal(0, stats.ConfirmTimeouts);
    }

    [Fact]
    public async Task A_robot_that_never_confirms_is_held_after_the_confirm_timeout_and_the_others_go_on()
    {
        const string site = "timeout";
        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 2));
        await silo.ReportAsync(site, "timeout-r0", 0, 0, DomainHeading.East, 1);
        await silo.ReportAsync(site, "timeout-r1", 0, 11, DomainHeading.East, 1);
        await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, 1)), p => p.Count == 2, "step 1");

        // Only r0 confirms step 1; r1 stays silent.
        await silo.ReportAsync(site, "timeout-r0", 1, 0, DomainHeading.East, 2);
        var stats = await grain.GetStatsAsync();
        Assert.Equal(1u, stats.Step);
        Assert.Equal(1, stats.RobotsAwaited);

        var step2 = await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, 2)), p => p.Count >= 1, "step 2 after the timeout");
        Assert.Equal("timeout-r0", Assert.Single(step2).RobotId);
        stats = await grain.GetStatsAsync();
        Assert.Equal(1, stats.ConfirmTimeouts);
        Assert.Equal(1, stats.RobotStepsHeld);

        // The held robot no longer blocks: r0's next confirmation is planned at once, again without r1.
        await silo.ReportAsync(site, "timeout-r0", 2, 0, DomainHeading.East, 3);
        var step3 = await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, 3)), p => p.Count >= 1, "step 3");
        Assert.Equal("timeout-r0", Assert.Single(step3).RobotId);
        Assert.Equal(1, (await grain.GetStatsAsync()).ConfirmTimeouts);
    }

    [Fact]
    public async Task Tasks_are_assigned_driven_to_and_counted_as_finished()
    {
        const string site = "tasks";
        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 2));
        var submitted = await grain.SubmitTasksAsync([new SiteTask(7, [3]), new SiteTask(8, [5, 6])]);
        Assert.Equal(2, submitted.Accepted);

        // Play the robots: confirm whatever step each robot was given, at its target.
        var robots = new[] { ("tasks-r0", 0), ("tasks-r1", 11) };
        foreach (var (id, cell) in robots)
        {
            await silo.ReportAsync(site, id, 0, cell, DomainHeading.East, 1);
        }

        ulong seq = 2;
        for (uint step = 1; step <= 12; step++)
        {
            var plans = await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, step)), p => p.Count == 2, $"step {step}");
            foreach (var p in plans)
            {
                await silo.ReportAsync(site, p.RobotId, step, p.Steps[0].TargetCell, (DomainHeading)p.Steps[0].TargetHeading, seq);
            }

            seq++;
        }

        var stats = await Eventually.WaitForAsync(grain.GetStatsAsync, s => s.TasksFinished == 2, "both tasks finished");
        Assert.Equal(1, stats.ErrandsReached);
        Assert.True(stats.ThroughputPerStep > 0);
        Assert.True(stats.PlanTimeMaxMs >= stats.PlanTimeP50Ms);
        var assignments = silo.Publisher.Tasks(site);
        Assert.Contains(assignments, a => a.RobotId == "tasks-r0" && a.TaskId == "7" && a.Errands.SequenceEqual([3]));
        Assert.Contains(assignments, a => a.TaskId == "8" && a.Errands.SequenceEqual([5, 6]));
    }

    [Fact]
    public async Task The_site_answers_calls_while_the_optimizer_is_still_planning()
    {
        const string site = "gated-site";
        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 1));
        await silo.ReportAsync(site, "gated-site-r0", 0, 0, DomainHeading.East, 1);
        var planner = silo.PlannerOf(site);
        await Eventually.WaitForAsync(() => planner.PlanCalls == 1, "planning started");

        // The planner is blocked; the grain must still answer.
        var stats = await grain.GetStatsAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(stats.Planning);
        var submitted = await grain.SubmitTasksAsync([new SiteTask(1, [4])]).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, submitted.Accepted);
        Assert.Empty(silo.Publisher.PlansForStep(site, 1));

        planner.Release();
        await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, 1)), p => p.Count == 1, "step 1 after release");
        Assert.False((await grain.GetStatsAsync()).Planning);
    }

    [Fact]
    public async Task Bad_tasks_are_refused_with_a_reason_naming_them_and_good_ones_kept()
    {
        const string site = "bad-tasks";
        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 1));
        var result = await grain.SubmitTasksAsync([new SiteTask(1, [2]), new SiteTask(1, [3]), new SiteTask(2, [999]), new SiteTask(3, [])]);
        Assert.Equal(1, result.Accepted);
        Assert.Equal(3, result.Rejections.Count);
        Assert.Contains("task 1 (id 1): id already submitted", result.Rejections);
        Assert.Contains(result.Rejections, r => r.StartsWith("task 2 (id 2): errands[0]: cell 999 is off the 10x2 map", StringComparison.Ordinal));
        Assert.Contains("task 3 (id 3): no errands", result.Rejections);
        Assert.Equal(1, (await grain.GetStatsAsync()).TasksSubmitted);
    }

    [Fact]
    public async Task Initializing_again_with_the_same_definition_is_harmless_and_a_different_one_is_refused()
    {
        const string site = "reinit";
        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 2));
        await grain.InitializeAsync(TestMaps.Corridor(site, 2));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.InitializeAsync(TestMaps.Corridor(site, 3)));
        Assert.Contains("reinit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_robot_reporting_before_its_site_exists_is_confirmed_once_the_site_starts()
    {
        const string site = "late-site";
        await silo.ReportAsync(site, "late-site-r0", 0, 0, DomainHeading.East, 1);
        var status = await silo.Grains.GetGrain<IRobotGrain>("late-site-r0").GetStatusAsync();
        Assert.Equal(StepConfirmResult.SiteNotReady, status!.LastConfirmResult);

        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 1));
        await silo.ReportAsync(site, "late-site-r0", 0, 0, DomainHeading.East, 2);
        await Eventually.WaitForAsync(() => Task.FromResult(silo.Publisher.PlansForStep(site, 1)), p => p.Count == 1, "step 1");
    }
}
