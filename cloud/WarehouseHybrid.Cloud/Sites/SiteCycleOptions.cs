namespace WarehouseHybrid.Cloud.Sites;

/// <summary>Timing of the site's step cycle (docs/plan-contract.md).</summary>
public sealed class SiteCycleOptions
{
    /// <summary>How long the site waits for every robot to confirm a step before it plans without the late ones.</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Planning-time budget given to the optimizer per step.</summary>
    public TimeSpan PlanBudget { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Shortest time between the starts of two steps (0: as fast as robots confirm).</summary>
    public TimeSpan MinStepInterval { get; set; } = TimeSpan.Zero;

    /// <summary>Names the first bad setting, or returns null.</summary>
    public string? Check()
    {
        if (ConfirmTimeout <= TimeSpan.Zero || ConfirmTimeout > TimeSpan.FromMinutes(10))
        {
            return $"Cycle.ConfirmTimeout must be in (0, 10 min], got {ConfirmTimeout}";
        }

        if (PlanBudget <= TimeSpan.Zero || PlanBudget > TimeSpan.FromMinutes(1))
        {
            return $"Cycle.PlanBudget must be in (0, 1 min], got {PlanBudget}";
        }

        if (MinStepInterval < TimeSpan.Zero || MinStepInterval > TimeSpan.FromMinutes(1))
        {
            return $"Cycle.MinStepInterval must be in [0, 1 min], got {MinStepInterval}";
        }

        return null;
    }

    /// <summary>How often the site grain's timer checks the timeout and the step interval.</summary>
    internal TimeSpan TickPeriod
    {
        get
        {
            var tick = ConfirmTimeout / 4;
            if (MinStepInterval > TimeSpan.Zero)
            {
                tick = TimeSpan.FromTicks(Math.Min(tick.Ticks, (MinStepInterval / 2).Ticks));
            }

            return TimeSpan.FromTicks(Math.Clamp(tick.Ticks, TimeSpan.FromMilliseconds(5).Ticks, TimeSpan.FromMilliseconds(250).Ticks));
        }
    }
}
