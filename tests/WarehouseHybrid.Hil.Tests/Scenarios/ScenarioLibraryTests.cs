using WarehouseHybrid.Hil.Scenarios;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Scenarios;

/// <summary>Every in-process scenario of hil/scenarios, in its short form: its expectations hold (the CI run of the library).</summary>
public sealed class ScenarioLibraryTests
{
    public static TheoryData<string> InProcessScenarios()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "hil", "scenarios"), "*.json").Order(StringComparer.Ordinal))
        {
            if (ScenarioReader.Load(file).Mode == ScenarioMode.InProcess)
            {
                data.Add(Path.GetFileName(file));
            }
        }

        return data;
    }

    [Fact]
    public void The_library_covers_every_fault_kind()
    {
        var kinds = Directory.GetFiles(Path.Combine(RepoPaths.Root, "hil", "scenarios"), "*.json")
            .SelectMany(f => ScenarioReader.Load(f).Faults.Select(x => x.Kind)).ToHashSet(StringComparer.Ordinal);
        var missing = ScenarioReader.FaultKinds.Keys.Where(k => !kinds.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "no library scenario injects: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(InProcessScenarios))]
    public async Task Library_scenario_passes_in_its_short_form(string file)
    {
        var scenario = ScenarioReader.Load(Path.Combine(RepoPaths.Root, "hil", "scenarios", file));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // catches a hang, not slowness
        var report = await InProcessScenarioRunner.RunAsync(scenario, new ScenarioRunOptions { Short = true, Plots = false }, cts.Token);
        Assert.True(report.Passed, $"{file}: " + string.Join("; ", report.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")));
        Assert.True(report.WorldSteps > 0);
    }
}
