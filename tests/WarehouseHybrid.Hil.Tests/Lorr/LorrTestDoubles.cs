using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Hil.Lorr;

namespace WarehouseHybrid.Hil.Tests.Lorr;

/// <summary>An entrant that drives every robot forward every step (soon off the map or into a wall or another robot).</summary>
internal sealed class AllForwardEntrant : ILorrEntrant
{
    public void Reveal(int taskId, int[] errands)
    {
    }

    public LorrDecision Compute(LorrObservation observation, TimeSpan budget, CancellationToken cancellationToken)
    {
        var actions = new RobotAction[observation.Poses.Length];
        Array.Fill(actions, RobotAction.Forward);
        return new LorrDecision(actions, null);
    }
}

/// <summary>An entrant that "thinks" for <see cref="Factor"/> budgets on a fake clock, then waits everyone.</summary>
internal sealed class SlowEntrant(FakeTimeProvider time, double factor) : ILorrEntrant
{
    public double Factor => factor;

    public int Calls { get; private set; }

    public void Reveal(int taskId, int[] errands)
    {
    }

    public LorrDecision Compute(LorrObservation observation, TimeSpan budget, CancellationToken cancellationToken)
    {
        Calls++;
        time.Advance(budget * factor);
        var actions = new RobotAction[observation.Poses.Length];
        Array.Fill(actions, RobotAction.Wait);
        return new LorrDecision(actions, null);
    }
}
