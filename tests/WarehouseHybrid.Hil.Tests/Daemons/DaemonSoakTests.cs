using WarehouseHybrid.Hil.Daemons;
using WarehouseHybrid.Hil.Scenarios;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Daemons;

/// <summary>
/// Real edge daemon processes over socat pseudo-terminals with a real Mosquitto (started by the rig as child
/// processes) and the silo: the smoke scenario and the first 60 s of the soak, faults injected, zero invariant
/// violations, zero telemetry loss at the broker.
/// Runs alone (its own collection, no parallel test classes): ten daemon processes on two cores must not compete
/// with the in-process fleets of other test classes, or the check measures the test runner rather than the daemons.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonSoakTests
{
    // The machine running the suite is shared: timing bounds here only catch a hang (soak and scenario commands
    // judge the product's targets with tolerance 1).
    private const double Tolerance = 5;

    private static string Scenario(string name) => Path.Combine(RepoPaths.Root, "hil", "scenarios", name);

    [Fact]
    public async Task Three_daemons_survive_serial_noise_an_unplug_latency_a_broker_restart_and_late_inference()
    {
        Assert.True(PtyPair.Available && MosquittoBroker.Available, "socat and mosquitto are needed (./test.sh installs them)");
        // Without the rig's hold after the broker restart: robots may publish before the observer is back, and the
        // persistent broker and the observer's session alone must keep every record (the hold is insurance only).
        var report = await DaemonScenarioRunner.RunAsync(ScenarioReader.Load(Scenario("daemons-smoke.json")),
            new ScenarioRunOptions { Short = true, Plots = false, TimingTolerance = Tolerance, HoldRobotsOnBrokerRestart = false }, CancellationToken.None);
        Assert.True(report.Passed, string.Join("; ", report.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")));
        Assert.True(report.Telemetry!.Messages > 3 * 5 * 10, $"telemetry at the broker: {report.Telemetry}");
        Assert.Contains(report.Faults, f => f.Kind == "network.brokerOutage" && f.EndedAtSeconds is not null);
    }

    [Fact]
    public async Task Ten_daemons_for_60_s_of_the_soak_keep_every_invariant_and_lose_no_telemetry()
    {
        Assert.True(PtyPair.Available && MosquittoBroker.Available, "socat and mosquitto are needed (./test.sh installs them)");
        var report = await DaemonScenarioRunner.RunAsync(ScenarioReader.Load(Scenario("soak-daemons.json")), new ScenarioRunOptions { Short = true, Plots = false, TimingTolerance = Tolerance }, CancellationToken.None);
        Assert.True(report.Passed, string.Join("; ", report.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")));
        Assert.Equal(0, report.Violations);
        Assert.Equal(0, report.Telemetry!.MissingSeq);
        Assert.Contains(report.Faults, f => f.Kind == "cloud.siloKill" && f.EndedAtSeconds is not null);
    }
}

/// <summary>The collection of tests that start real daemon processes: not run in parallel with anything else.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DaemonCollection
{
    public const string Name = "daemon processes";
}
