using System.Security.Cryptography;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Edge.Control;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Runtime;
using WarehouseHybrid.ModelTool.Onnx;
using WarehouseHybrid.ModelTool.Packaging;

namespace WarehouseHybrid.ModelTool.Training;

/// <summary>What to build.</summary>
/// <param name="Version">Model version written into the manifest.</param>
/// <param name="Samples">Training rows generated.</param>
/// <param name="HoldoutSamples">Rows generated with another seed to measure the fit.</param>
/// <param name="Seed">Data seed.</param>
/// <param name="Hidden">Width of both hidden layers.</param>
/// <param name="Trainer">Trainer settings.</param>
/// <param name="Dagger">DAgger rounds after behaviour cloning (null: behaviour cloning only, as the shipped 1.0.0).</param>
public sealed record PolicyModelSpec(string Version = "1.0.0", int Samples = 40_000, int HoldoutSamples = 5_000, int Seed = 20261124, int Hidden = 32, TrainerSettings? Trainer = null, DaggerSettings? Dagger = null);

/// <summary>The trained network, its ONNX bytes, manifest and fit.</summary>
/// <param name="Network">The trained weights (the C# reference forward pass).</param>
/// <param name="Onnx">The ONNX model.</param>
/// <param name="Manifest">The unsigned manifest (signature_algorithm set, signature in the package's .sig file).</param>
/// <param name="Training">Fit on the training rows.</param>
/// <param name="Holdout">Fit on the held-out rows.</param>
public sealed record PolicyModel(Mlp Network, byte[] Onnx, ModelManifest Manifest, FitReport Training, FitReport Holdout);

/// <summary>Generates data from the rule policy, trains the MLP and exports it: the whole `train-model` pipeline.</summary>
public static class PolicyModelBuilder
{
    /// <summary>The limits of a robot with the edge daemon's default options (the ones the rule policy is imitated under).</summary>
    public static KinematicLimits DefaultLimits()
    {
        var o = new EdgeOptions();
        return new KinematicLimits(o.MaxLinearMps, o.MaxAngularRadps, o.LinearAccel, o.AngularAccel, o.BrakeDecel, o.SafetyMarginMetres, o.RobotHalfWidthMetres, o.ObstacleSlowdownMetres, o.RestLinearMps);
    }

    /// <summary>Builds a model; deterministic for a given spec (the creation time only enters the manifest).</summary>
    public static PolicyModel Build(PolicyModelSpec spec, DateTimeOffset created, Action<int, FitReport>? progress = null, Action<int, TrainingSet>? daggerProgress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var limits = DefaultLimits();
        var data = ScenarioSampler.Generate(spec.Samples, spec.Seed, limits);
        var holdout = ScenarioSampler.Generate(spec.HoldoutSamples, spec.Seed + 1, limits);
        var trainer = spec.Trainer ?? new TrainerSettings();
        var net = new Mlp(PolicyFeatures.Count, spec.Hidden, spec.Hidden, new Random(trainer.Seed));
        Trainer.Train(net, data, trainer, progress);
        if (spec.Dagger is { Rounds: > 0 } dagger)
        {
            // The statistics and the data digest cover the aggregate: the states the model itself visits are in distribution.
            data = Dagger.Improve(net, data, limits, dagger, trainer, daggerProgress);
        }

        var onnx = OnnxMlpWriter.Write(net, spec.Version);
        var manifest = ModelPackageWriter.Manifest("warehouse-driving-policy", spec.Version, onnx, data.Digest(), data.Statistics(), created);
        return new PolicyModel(net, onnx, manifest, Trainer.Evaluate(net, data), Trainer.Evaluate(net, holdout));
    }

    /// <summary>Builds and writes a signed package into <paramref name="directory"/>.</summary>
    public static PolicyModel BuildPackage(PolicyModelSpec spec, string directory, ECDsa signingKey, DateTimeOffset created, Action<int, FitReport>? progress = null, Action<int, TrainingSet>? daggerProgress = null)
    {
        var model = Build(spec, created, progress, daggerProgress);
        ModelPackageWriter.Write(directory, model.Onnx, model.Manifest, signingKey);
        return model;
    }
}
