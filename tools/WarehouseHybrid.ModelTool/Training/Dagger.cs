using System.Globalization;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.ModelTool.Simulation;

namespace WarehouseHybrid.ModelTool.Training;

/// <summary>DAgger settings: how many rounds of on-policy data, how much per round.</summary>
/// <param name="Rounds">Rounds of roll-outs and retraining (0: behaviour cloning only).</param>
/// <param name="EpisodesPerRound">Simulated drives per round.</param>
/// <param name="TicksPerEpisode">Longest drive, ticks.</param>
/// <param name="RecordEveryTicks">One visited state is labelled every this many ticks.</param>
/// <param name="EpochsPerRound">Training epochs over the aggregate after each round (continuing from the previous weights).</param>
/// <param name="Seed">Seed of the episodes and of the expert/learner mixing.</param>
public sealed record DaggerSettings(int Rounds = 3, int EpisodesPerRound = 60, int TicksPerEpisode = 1500, int RecordEveryTicks = 3, int EpochsPerRound = 10, int Seed = 4242);

/// <summary>
/// DAgger (dataset aggregation, Ross et al. 2011) with the rule policy as the expert: the current network drives the
/// closed-loop simulator (<see cref="ClosedLoopSimulator"/>, the edge's real control stack), mixed with the expert at a
/// rate beta that halves every round (0.5, 0.25, ...); every visited state is labelled with what the rule policy would
/// command there; the labelled states join the training set and the network trains on the aggregate. It targets
/// behaviour cloning's known failure (docs/models.md): small errors take the robot into states the expert never visits,
/// where the clone has no data. Deterministic for a seed.
/// </summary>
public static class Dagger
{
    /// <summary>Runs the rounds on <paramref name="net"/> (already trained on <paramref name="initial"/>); returns the aggregate set.</summary>
    public static TrainingSet Improve(Mlp net, TrainingSet initial, KinematicLimits limits, DaggerSettings settings, TrainerSettings trainer, Action<int, TrainingSet>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(trainer);
        var aggregate = initial;
        var random = new Random(settings.Seed);
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var beta = Math.Pow(0.5, round);
            var visited = new TrainingSet(settings.EpisodesPerRound * ((settings.TicksPerEpisode / settings.RecordEveryTicks) + 1));
            for (var e = 0; e < settings.EpisodesPerRound; e++)
            {
                var episode = ClosedLoopSimulator.RandomEpisode(random, settings.TicksPerEpisode);
                var driver = new LearnerDriver(new MlpModel(net), limits, beta, new Random(random.Next()), visited, settings.RecordEveryTicks);
                ClosedLoopSimulator.Run(episode, driver, limits);
            }

            aggregate = TrainingSet.Concat(aggregate, visited);
            Trainer.Train(net, aggregate, trainer with { Epochs = settings.EpochsPerRound, Seed = trainer.Seed + round });
            progress?.Invoke(round, aggregate);
        }

        return aggregate;
    }
}

/// <summary>
/// Drives with the network (or, with probability beta per tick, the expert) and, when recording, labels the state with
/// the expert's setpoint and the obstacle class: DAgger's data collection. Both go through the same acceleration limit
/// before the motors. Also measures how often the two commands agree.
/// </summary>
public sealed class LearnerDriver : IDrivingPolicy
{
    private readonly ILearnedModel _model;
    private readonly KinematicLimits _limits;
    private readonly RulePolicy _expert;
    private readonly double _beta;
    private readonly Random _random;
    private readonly TrainingSet? _record;
    private readonly int _every;
    private DecisionMode _mode = DecisionMode.Learned;
    private long _ticks;

    /// <summary>A driver over any learned model (the C# network in training, the ONNX session in evaluation); <paramref name="record"/> null: only drive.</summary>
    public LearnerDriver(ILearnedModel model, KinematicLimits limits, double beta, Random random, TrainingSet? record, int recordEveryTicks = 1)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _limits = limits;
        _expert = new RulePolicy(limits);
        _beta = beta;
        _random = random ?? throw new ArgumentNullException(nameof(random));
        _record = record;
        _every = Math.Max(1, recordEveryTicks);
    }

    /// <inheritdoc />
    public DecisionMode Mode => _mode;

    /// <summary>Ticks where the network's setpoint was within 5 % (speed) and 10 % (yaw rate) of the expert's.</summary>
    public long Agreements { get; private set; }

    /// <summary>Ticks compared.</summary>
    public long Compared { get; private set; }

    /// <inheritdoc />
    public bool TryDecide(in PolicyInput input, out DriveCommand command)
    {
        _expert.Setpoint(input, out var target);
        var expert = RulePolicy.Limit(input, target, _limits);
        var features = _model.Input;
        PolicyFeatures.Extract(input, _limits, features);
        var output = _model.Run();
        var proposed = new DriveCommand(output.LinearFraction * _limits.MaxLinearMps, output.AngularFraction * _limits.MaxAngularRadps);
        var learned = RulePolicy.Limit(input, proposed, _limits);
        Compared++;
        if (Math.Abs(proposed.LinearMps - target.LinearMps) <= 0.05 * _limits.MaxLinearMps && Math.Abs(proposed.AngularRadps - target.AngularRadps) <= 0.1 * _limits.MaxAngularRadps)
        {
            Agreements++;
        }

        if (_record is not null && _ticks++ % _every == 0)
        {
            _record.Add(features, (float)(target.LinearMps / _limits.MaxLinearMps), (float)(target.AngularRadps / _limits.MaxAngularRadps),
                ScenarioSampler.ObstacleAhead(input, _limits) ? (byte)1 : (byte)0);
        }

        if (_random.NextDouble() < _beta)
        {
            _mode = DecisionMode.Rule;
            command = expert;
        }
        else
        {
            _mode = DecisionMode.Learned;
            command = learned;
        }

        return true;
    }
}

/// <summary>Closed-loop quality of a network over evaluation episodes.</summary>
/// <param name="Episodes">Episodes run.</param>
/// <param name="StepCompletion">Share of planned steps completed in time.</param>
/// <param name="Agreement">Share of ticks where the network's setpoint agreed with the rule policy's on the states it visited.</param>
/// <param name="MeanAbsLateral">Mean |lateral offset| from the lane while moving, metres.</param>
/// <param name="MaxAbsLateral">Largest |lateral offset|, metres.</param>
/// <param name="ShieldShare">Share of ticks the shield overrode the network.</param>
/// <param name="Collisions">Ticks inside an obstacle (must be 0: the shield brakes).</param>
public readonly record struct ClosedLoopReport(int Episodes, double StepCompletion, double Agreement, double MeanAbsLateral, double MaxAbsLateral, double ShieldShare, int Collisions)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Episodes} episodes: steps completed {StepCompletion:P1}, agreement with the rule policy {Agreement:P1}, |lateral| mean {MeanAbsLateral:F3} m max {MaxAbsLateral:F3} m, shield overrides {ShieldShare:P1}, collisions {Collisions}");
}

/// <summary>How a model does under the daemon's runtime assurance (the rule policy takes over where it is not assured).</summary>
/// <param name="Episodes">Episodes run.</param>
/// <param name="StepCompletion">Share of planned steps completed in time.</param>
/// <param name="LearnedShare">Share of ticks the learned policy's command went to the motors.</param>
/// <param name="ShieldShare">Share of ticks the shield overrode.</param>
/// <param name="Collisions">Ticks inside an obstacle.</param>
public readonly record struct AssuredReport(int Episodes, double StepCompletion, double LearnedShare, double ShieldShare, int Collisions)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Episodes} episodes under runtime assurance: steps completed {StepCompletion:P1}, learned ticks {LearnedShare:P1}, shield overrides {ShieldShare:P1}, collisions {Collisions}");
}

/// <summary>Runs a network over seeded evaluation episodes: alone (no fallback; the shield stays) and under runtime assurance.</summary>
public static class ClosedLoopEvaluation
{
    /// <summary>
    /// Evaluates <paramref name="model"/> (with its manifest's statistics for drift) inside the daemon's decision module with
    /// default thresholds: what a robot would do with it.
    /// </summary>
    public static AssuredReport EvaluateAssured(ILearnedModel model, Contracts.Fleet.ModelManifest manifest, KinematicLimits limits, int episodes, int seed, int ticksPerEpisode = 1500)
    {
        ArgumentNullException.ThrowIfNull(model);
        var random = new Random(seed);
        long planned = 0, completed = 0, ticks = 0, learned = 0, shield = 0;
        var collisions = 0;
        for (var e = 0; e < episodes; e++)
        {
            var episode = ClosedLoopSimulator.RandomEpisode(random, ticksPerEpisode);
            using var manager = new Edge.Models.ModelManager(new Edge.Models.ModelPackageLoader([]), new InferenceOptions(), new Edge.Models.ModelRolloutOptions { ProbationTicks = 0 },
                TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            manager.Stage(new Edge.Models.ActiveModel(new Borrowed(model), manifest, ExecutionProviderKind.Cpu, []));
            var r = ClosedLoopSimulator.Run(
                episode,
                clock => new Edge.Decision.RuntimeAssurancePolicy(new Edge.Decision.RuntimeAssuranceOptions(), limits, manager, Edge.Decision.NullEscalationClient.Instance,
                    NullSinks.Instance, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, "eval"),
                limits);
            planned += r.StepsPlanned;
            completed += r.StepsCompleted;
            ticks += r.Ticks;
            learned += r.LearnedTicks;
            shield += r.ShieldTicks;
            collisions += r.Collisions;
        }

        return new AssuredReport(episodes, completed / (double)planned, learned / (double)Math.Max(1, ticks), shield / (double)Math.Max(1, ticks), collisions);
    }

    /// <summary>The rule policy alone on the same episodes: the baseline (blocked aisles stop some steps for everyone).</summary>
    public static double RuleStepCompletion(KinematicLimits limits, int episodes, int seed, int ticksPerEpisode = 1500)
    {
        var random = new Random(seed);
        long planned = 0, completed = 0;
        for (var e = 0; e < episodes; e++)
        {
            var r = ClosedLoopSimulator.Run(ClosedLoopSimulator.RandomEpisode(random, ticksPerEpisode), new RulePolicy(limits), limits);
            planned += r.StepsPlanned;
            completed += r.StepsCompleted;
        }

        return completed / (double)planned;
    }

    /// <summary>Evaluates <paramref name="model"/> alone on <paramref name="episodes"/> episodes drawn from <paramref name="seed"/>.</summary>
    public static ClosedLoopReport Evaluate(ILearnedModel model, KinematicLimits limits, int episodes, int seed, int ticksPerEpisode = 1500)
    {
        ArgumentNullException.ThrowIfNull(model);
        var random = new Random(seed);
        long planned = 0, completed = 0, ticks = 0, shield = 0, agree = 0, compared = 0;
        double lateralWeighted = 0, lateralMax = 0;
        var collisions = 0;
        for (var e = 0; e < episodes; e++)
        {
            var episode = ClosedLoopSimulator.RandomEpisode(random, ticksPerEpisode);
            var driver = new LearnerDriver(model, limits, 0, new Random(e), null);
            var r = ClosedLoopSimulator.Run(episode, driver, limits);
            planned += r.StepsPlanned;
            completed += r.StepsCompleted;
            ticks += r.Ticks;
            shield += r.ShieldTicks;
            lateralWeighted += r.MeanAbsLateral * r.Ticks;
            lateralMax = Math.Max(lateralMax, r.MaxAbsLateral);
            collisions += r.Collisions;
            agree += driver.Agreements;
            compared += driver.Compared;
        }

        return new ClosedLoopReport(episodes, completed / (double)planned, agree / (double)Math.Max(1, compared), lateralWeighted / Math.Max(1, ticks), lateralMax, shield / (double)Math.Max(1, ticks), collisions);
    }
}

/// <summary>A model lent to a short-lived manager: disposing the manager must not dispose it.</summary>
internal sealed class Borrowed(ILearnedModel inner) : ILearnedModel
{
    public string Version => inner.Version;

    public Span<float> Input => inner.Input;

    public LearnedOutput Run() => inner.Run();
}

/// <summary>The C# network as a learned model (the same numbers as its ONNX export, to 2e-6), for roll-outs in training.</summary>
/// <param name="net">The network.</param>
public sealed class MlpModel(Mlp net) : ILearnedModel
{
    private readonly float[] _input = new float[PolicyFeatures.Count];
    private readonly float[] _action = new float[2];
    private readonly float[] _probs = new float[2];

    /// <inheritdoc />
    public string Version => "training";

    /// <inheritdoc />
    public Span<float> Input => _input;

    /// <inheritdoc />
    public LearnedOutput Run()
    {
        net.Forward(_input, _action, _probs);
        var status = float.IsFinite(_action[0]) && float.IsFinite(_action[1]) && float.IsFinite(_probs[1]) ? InferenceStatus.Ok : InferenceStatus.NonFinite;
        return new LearnedOutput(status, _action[0], _action[1], _probs[1], Math.Max(_probs[0], _probs[1]), TimeSpan.Zero);
    }
}
