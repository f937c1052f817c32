using WarehouseHybrid.Hil.Scenarios;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>Runs a scenario with real edge daemon processes over pseudo-terminals .</summary>
public static class DaemonScenarioRunner
{
    /// <summary>Runs the scenario and returns its report.</summary>
    public static Task<ScenarioReport> RunAsync(Scenario scenario, ScenarioRunOptions options, CancellationToken cancellationToken) =>
        throw new NotSupportedException("daemon mode is being built");
}
