using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Cloud.Tasks;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Cloud.Tests.Tasks;

/// <summary>The site's task pool as plain code: admission, reveal order, status from planned steps, retention, and the rebuild from its persisted parts.</summary>
public sealed class SiteTaskPoolTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    private SiteTaskPool Pool(TaskOptions? options = null) => new(options ?? new TaskOptions(), _time);

    private static TaskOrder Order(string? key = null, int priority = 0, params int[] cells) =>
        new() { Errands = cells.Select(ErrandRef.AtCell).ToArray(), Priority = priority, IdempotencyKey = key };

    private static Admission Admit(SiteTaskPool pool, TaskOrder order)
    {
        var a = pool.Admit(order, order.Errands.Select(e => e.Cell!.Value).ToArray());
        if (a.Status == SubmitStatus.Created)
        {
            pool.Persisted([a.Task!.Id]);
        }

        return a;
    }

    [Fact]
    public void A_key_seen_before_replays_the_same_request_and_conflicts_on_another_and_expires_after_its_retention()
    {
        var pool = Pool(new TaskOptions { IdempotencyRetention = TimeSpan.FromHours(1) });
        var first = Admit(pool, Order("k", 0, 1, 2));
        Assert.Equal(SubmitStatus.Created, first.Status);
        Assert.Equal(SubmitStatus.Replayed, Admit(pool, Order("k", 0, 1, 2)).Status);
        var conflict = Admit(pool, Order("k", 1, 1, 2));
        Assert.Equal(SubmitStatus.KeyConflict, conflict.Status);
        Assert.Equal(first.Task!.Id, conflict.Task!.Id);
        Assert.Equal(1, pool.OpenCount);

        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(SubmitStatus.Created, Admit(pool, Order("k", 0, 1, 2)).Status);
    }

    [Fact]
    public void Queued_tasks_go_to_the_optimizer_highest_priority_first_within_the_reveal_limit_and_unpersisted_ones_wait()
    {
        var pool = Pool(new TaskOptions { MaxRevealed = 2 });
        var low = Admit(pool, Order(null, 0, 1)).Task!.Id;
        var high = Admit(pool, Order(null, 5, 2)).Task!.Id;
        var mid = Admit(pool, Order(null, 2, 3)).Task!.Id;
        var unpersisted = pool.Admit(Order(null, 9, 4), [4]).Task!.Id;

        Assert.Equal([high, mid], pool.Reveal(0).Select(t => t.Id));
        Assert.Empty(pool.Reveal(2));
        Assert.Equal([low], pool.Reveal(1).Select(t => t.Id));
        pool.Persisted([unpersisted]);
        Assert.Equal([unpersisted], pool.Reveal(0).Select(t => t.Id));
    }

    [Fact]
    public void A_task_still_queued_after_the_maximum_age_fails_with_the_reason()
    {
        var pool = Pool(new TaskOptions { MaxQueuedAge = TimeSpan.FromMinutes(5), MaxRevealed = 1 });
        var kept = Admit(pool, Order(null, 1, 1)).Task!.Id;
        var stale = Admit(pool, Order(null, 0, 2)).Task!.Id;
        Assert.Single(pool.Reveal(0));
        _time.Advance(TimeSpan.FromMinutes(6));
        Assert.Empty(pool.Reveal(1));
        var failed = pool.Find(stale)!;
        Assert.Equal(TaskState.Failed, failed.State);
        Assert.StartsWith("expired", failed.Failure, StringComparison.Ordinal);
        Assert.Equal(TaskState.Queued, pool.Find(kept)!.State);
        Assert.Equal(1, pool.Failed);
    }

    [Fact]
    public void Planned_steps_move_a_task_through_assigned_in_progress_and_finished()
    {
        var pool = Pool();
        var id = Admit(pool, Order(null, 0, 1, 2, 3)).Task!.Id;
        pool.Reveal(0);
        string Robot(int i) => "r" + i;

        var step = new PlannerStepResult(2);
        step.Assignments[1] = new RobotAssignment(id, 0, 1);
        pool.Apply(step, Robot);
        Assert.Equal((TaskState.Assigned, "r1", 0), (pool.Find(id)!.State, pool.Find(id)!.Robot, pool.Find(id)!.ErrandIndex));

        step = new PlannerStepResult(2);
        step.ErrandsReached.Add((1, id, 0));
        step.Assignments[1] = new RobotAssignment(id, 1, 2);
        pool.Apply(step, Robot);
        Assert.Equal((TaskState.InProgress, 1), (pool.Find(id)!.State, pool.Find(id)!.ErrandIndex));
        Assert.NotNull(pool.Find(id)!.StartedAt);

        step = new PlannerStepResult(2);
        step.FinishedTaskIds.Add(id);
        Assert.Single(pool.Apply(step, Robot));
        Assert.Equal((TaskState.Finished, 3), (pool.Find(id)!.State, pool.Find(id)!.ErrandIndex));
        Assert.Equal(0, pool.OpenCount);
        Assert.Equal(1, pool.Finished);
    }

    [Fact]
    public void The_pool_is_rebuilt_from_history_checkpoint_and_intake_with_nothing_lost_or_doubled()
    {
        var pool = Pool();
        var a = Admit(pool, Order("ka", 0, 1)).Task!.Id;
        var b = Admit(pool, Order("kb", 0, 2, 3, 6)).Task!.Id;
        pool.Reveal(0);
        var step = new PlannerStepResult(1);
        step.FinishedTaskIds.Add(a);
        step.ErrandsReached.Add((0, b, 0));
        pool.Apply(step, _ => "r0");
        var checkpoint = pool.Checkpoint();
        pool.Checkpointed(checkpoint);
        var c = Admit(pool, Order("kc", 0, 4)).Task!.Id; // only in the intake
        var intake = pool.Intake.ToList();

        var rebuilt = Pool();
        rebuilt.Restore(checkpoint, history: null, intake, finished: pool.Finished, failed: 0);
        Assert.Equal(TaskState.Finished, rebuilt.Find(a)!.State);
        Assert.Equal((TaskState.InProgress, 1), (rebuilt.Find(b)!.State, rebuilt.Find(b)!.ErrandIndex));
        Assert.Equal(TaskState.Queued, rebuilt.Find(c)!.State);
        Assert.Equal(2, rebuilt.OpenCount);
        Assert.Equal(SubmitStatus.Replayed, Admit(rebuilt, Order("kc", 0, 4)).Status);
        Assert.True(rebuilt.NextId > c);

        // The partly done task goes back with its remaining errands only.
        var again = rebuilt.Reveal(0);
        Assert.Equal([3, 6], again.Single(t => t.Id == b).Errands);
        var resumed = new PlannerStepResult(1);
        resumed.ErrandsReached.Add((0, b, 0)); // index 0 of the remaining list is errand 1 of the task
        rebuilt.Apply(resumed, _ => "r0");
        Assert.Equal(2, rebuilt.Find(b)!.ErrandIndex);
    }

    [Fact]
    public void A_failed_intake_write_takes_the_admission_back_so_a_retry_creates_it_once()
    {
        var pool = Pool();
        var admission = pool.Admit(Order("k", 0, 5), [5]);
        pool.Withdraw(admission);
        Assert.Equal(0, pool.OpenCount);
        Assert.Empty(pool.Intake);
        Assert.Equal(SubmitStatus.Created, Admit(pool, Order("k", 0, 5)).Status);
        Assert.Equal(1, pool.OpenCount);
    }

    [Fact]
    public void Ended_tasks_and_keys_are_kept_within_their_limits()
    {
        var pool = Pool(new TaskOptions { MaxEndedTasks = 3, MaxIdempotencyKeys = 4 });
        var ids = Enumerable.Range(0, 6).Select(i => Admit(pool, Order("k" + i, 0, i)).Task!.Id).ToList();
        pool.Reveal(0);
        var step = new PlannerStepResult(1);
        step.FinishedTaskIds.AddRange(ids);
        pool.Apply(step, _ => "r0");
        Assert.Equal(3, pool.EndedCount);
        Assert.Null(pool.Find(ids[0]));
        Assert.NotNull(pool.Find(ids[5]));
        Assert.Equal(4, pool.History().Keys.Count);
    }
}
