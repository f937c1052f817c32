using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Tests.Doubles;
using WarehouseHybrid.ModelTool.Simulation;
using WarehouseHybrid.ModelTool.Training;
using Xunit.Abstractions;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>The model tool's closed-loop simulator (the edge's control stack against a kinematic robot) and DAgger on it.</summary>
public sealed class ClosedLoopSimulatorTests(ITestOutputHelper output)
{
    [Fact]
    public void The_rule_policy_completes_random_episodes_without_touching_an_obstacle()
    {
        var random = new Random(11);
        var limits = PolicyModelBuilder.DefaultLimits();
        int planned = 0, completed = 0, collisions = 0;
        for (var e = 0; e < 20; e++)
        {
            var episode = ClosedLoopSimulator.RandomEpisode(random, 1500);
            var result = ClosedLoopSimulator.Run(episode, new RulePolicy(limits), limits);
            output.WriteLine($"episode {e}: {result}");
            planned += result.StepsPlanned;
            completed += result.StepsCompleted;
            collisions += result.Collisions;
        }

        Assert.Equal(0, collisions);
        Assert.True(completed >= planned * 0.7, $"{completed} of {planned} steps (blocked aisles stop some episodes)");
    }

    [Fact]
    public void Dagger_rounds_make_the_learned_policy_complete_more_steps_on_its_own_than_behaviour_cloning_alone()
    {
        var limits = PolicyModelBuilder.DefaultLimits();
        var bc = PolicyModelBuilder.Build(Spec(dagger: null), Created);
        var dagger = PolicyModelBuilder.Build(Spec(new DaggerSettings(Rounds: 2, EpisodesPerRound: 12, EpochsPerRound: 6)), Created);

        var rule = ClosedLoopEvaluation.RuleStepCompletion(limits, 30, seed: 77);
        var cloned = ClosedLoopEvaluation.Evaluate(new MlpModel(bc.Network), limits, 30, seed: 77);
        var aggregated = ClosedLoopEvaluation.Evaluate(new MlpModel(dagger.Network), limits, 30, seed: 77);
        output.WriteLine($"rule {rule:P1}; behaviour cloning: {cloned}; DAgger: {aggregated}");

        Assert.True(aggregated.StepCompletion > cloned.StepCompletion + 0.1, $"DAgger {aggregated.StepCompletion:P1} vs cloning {cloned.StepCompletion:P1}");
        Assert.Equal(0, aggregated.Collisions);
        Assert.True(dagger.Manifest.FeatureStatistics.All(s => s.HistogramFractions.Count > 0), "the manifest carries the aggregate's histograms");
        Assert.NotEqual(bc.Manifest.TrainingDataDigest, dagger.Manifest.TrainingDataDigest);
    }

    [Fact]
    public void The_same_spec_builds_the_same_onnx_bytes_and_data_digest_with_dagger()
    {
        var spec = new PolicyModelSpec(Version: "r", Samples: 1500, HoldoutSamples: 100, Hidden: 8, Trainer: new TrainerSettings(Epochs: 2),
            Dagger: new DaggerSettings(Rounds: 1, EpisodesPerRound: 3, TicksPerEpisode: 300, EpochsPerRound: 1));
        var first = PolicyModelBuilder.Build(spec, Created);
        var second = PolicyModelBuilder.Build(spec, Created);
        Assert.Equal(first.Onnx, second.Onnx);
        Assert.Equal(first.Manifest.TrainingDataDigest, second.Manifest.TrainingDataDigest);
    }

    private static readonly DateTimeOffset Created = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private static PolicyModelSpec Spec(DaggerSettings? dagger) =>
        new(Version: "t", Samples: 8000, HoldoutSamples: 500, Hidden: 24, Trainer: new TrainerSettings(Epochs: 10), Dagger: dagger);
}
