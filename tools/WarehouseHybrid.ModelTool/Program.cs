using System.Globalization;
using System.Security.Cryptography;
using WarehouseHybrid.ModelTool.Packaging;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.ModelTool;

/// <summary>
/// wh-model: <c>keygen --private KEY.pem --public KEY.pub.pem</c> writes a P-256 signing key pair;
/// <c>train-model --out DIR --key KEY.pem [--version V] [--samples N] [--epochs E] [--seed S] [--dagger-rounds R] [--created T]</c>
/// generates data from the rule policy (and, with DAgger rounds, from closed-loop drives of the model itself labelled by
/// the rule policy), trains, exports ONNX and writes the signed package;
/// <c>evaluate --package DIR --trusted-key KEY.pub.pem [--episodes N] [--seed S]</c> drives the package's ONNX model
/// alone in the closed-loop simulator and prints how it did.
/// </summary>
public static class Program
{
    /// <summary>Entry point; returns 0 on success, 2 on bad arguments.</summary>
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        try
        {
            return args.Length == 0 ? Usage("no command given") : args[0] switch
            {
                "keygen" => KeyGen(Options(args)),
                "train-model" => TrainModel(Options(args)),
                "evaluate" => Evaluate(Options(args)),
                "train-cloud-model" => Cloud.CloudModelCommand.Run(Options(args)),
                _ => Usage($"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException ex)
        {
            return Usage(ex.Message);
        }
    }

    private static int KeyGen(Dictionary<string, string> o)
    {
        using var key = ModelPackageWriter.NewKey();
        var privatePath = Required(o, "private");
        var publicPath = Required(o, "public");

        // The private key is created owner-only (never world-readable, not even for a moment) and never overwritten.
        var secret = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            secret.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var writer = new StreamWriter(privatePath, System.Text.Encoding.ASCII, secret);
            writer.Write(key.ExportPkcs8PrivateKeyPem());
        }
        catch (IOException ex) when (File.Exists(privatePath))
        {
            throw new ArgumentException($"--private: '{privatePath}' exists already; keygen does not overwrite a key", ex);
        }

        File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem());
        Console.WriteLine($"wrote P-256 key pair: {o["private"]} (keep secret), {o["public"]} (configure as a trusted model key)");
        return 0;
    }

    private static int TrainModel(Dictionary<string, string> o)
    {
        var output = Required(o, "out");
        var keyPath = Required(o, "key");
        if (!File.Exists(keyPath))
        {
            throw new ArgumentException($"--key: signing key file '{keyPath}' does not exist (create one with keygen)");
        }

        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(keyPath));
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"--key: '{keyPath}' is not a PEM EC private key: {ex.Message}", ex);
        }

        var trainer = new TrainerSettings(Epochs: Int(o, "epochs", 30), Seed: Int(o, "seed", 7));
        var rounds = o.ContainsKey("dagger-rounds") ? Int(o, "dagger-rounds", 3) : 0;
        var dagger = rounds == 0 ? null : new DaggerSettings(Rounds: rounds, EpisodesPerRound: Int(o, "dagger-episodes", 60), Seed: Int(o, "dagger-seed", 4242));
        var spec = new PolicyModelSpec(
            Version: o.GetValueOrDefault("version", "1.0.0"), Samples: Int(o, "samples", 40_000), Seed: Int(o, "data-seed", 20261124), Trainer: trainer, Dagger: dagger);
        var model = PolicyModelBuilder.BuildPackage(
            spec, output, key, Created(o),
            (epoch, fit) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1,3}: action MAE {fit.ActionMae:F4}, class accuracy {fit.ClassAccuracy:P2}, mean confidence {fit.MeanConfidence:F3}")),
            (round, data) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DAgger round {round}: {data.Count} rows after aggregation")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"holdout: action MAE {model.Holdout.ActionMae:F4}, class accuracy {model.Holdout.ClassAccuracy:P2}; package {model.Manifest.Version} written to {output} (onnx sha256 {model.Manifest.OnnxSha256}, data {model.Manifest.TrainingDataDigest})"));
        return 0;
    }

    private static int Evaluate(Dictionary<string, string> o)
    {
        var package = Required(o, "package");
        var keyPath = Required(o, "trusted-key");
        using var models = new Edge.Models.ModelManager(
            new Edge.Models.ModelPackageLoader([File.ReadAllText(keyPath)]), new Edge.Inference.InferenceOptions { Deadline = TimeSpan.FromSeconds(1) },
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var installed = models.TryInstall(package);
        if (!installed.Installed)
        {
            Console.Error.WriteLine($"wh-model: {package} refused ({installed.Refusal}): {installed.Detail}");
            return 1;
        }

        var active = models.AcquireForTick()!;
        var episodes = Int(o, "episodes", 200);
        var seed = Int(o, "seed", 77);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rule policy alone: steps completed {ClosedLoopEvaluation.RuleStepCompletion(PolicyModelBuilder.DefaultLimits(), episodes, seed):P1} (the baseline)"));
        Console.WriteLine($"{installed.Version} alone: {ClosedLoopEvaluation.Evaluate(active.Model, PolicyModelBuilder.DefaultLimits(), episodes, seed)}");
        Console.WriteLine($"{installed.Version}: {ClosedLoopEvaluation.EvaluateAssured(active.Model, active.Manifest, PolicyModelBuilder.DefaultLimits(), episodes, seed)}");
        return 0;
    }

    private static Dictionary<string, string> Options(string[] args)
    {
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"argument {i}: expected '--name value', got '{args[i]}'");
            }

            o[args[i][2..]] = args[i + 1];
        }

        return o;
    }

    // The creation time is the only input of the manifest that is not a seed: fixing it (--created) makes manifest.pb
    // byte-identical between runs on one platform; without it the manifest records the time of the run.
    private static DateTimeOffset Created(Dictionary<string, string> o) =>
        !o.TryGetValue("created", out var v) ? TimeProvider.System.GetUtcNow()
        : DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t
        : throw new ArgumentException($"--created: '{v}' is not a date and time (e.g. 2026-12-01T00:00:00Z)");

    private static string Required(Dictionary<string, string> o, string name) =>
        o.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new ArgumentException($"--{name} is required");

    private static int Int(Dictionary<string, string> o, string name, int fallback) =>
        !o.TryGetValue(name, out var v) ? fallback
        : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
        : throw new ArgumentException($"--{name}: '{v}' is not a positive integer");

    private static int Usage(string error)
    {
        Console.Error.WriteLine($"wh-model: {error}");
        Console.Error.WriteLine("usage: wh-model keygen --private KEY.pem --public KEY.pub.pem");
        Console.Error.WriteLine("       wh-model train-model --out DIR --key KEY.pem [--version V] [--samples N] [--epochs E] [--seed S] [--data-seed S] [--dagger-rounds R] [--dagger-episodes E] [--dagger-seed S] [--created ISO-8601]");
        Console.Error.WriteLine("       wh-model evaluate --package DIR --trusted-key KEY.pub.pem [--episodes N] [--seed S]");
        Console.Error.WriteLine("       " + Cloud.CloudModelCommand.Usage);
        return 2;
    }
}
