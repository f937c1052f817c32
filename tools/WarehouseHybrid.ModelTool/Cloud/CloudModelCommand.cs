using System.Globalization;

namespace WarehouseHybrid.ModelTool.Cloud;

/// <summary>
/// <c>wh-model train-cloud-model --out FILE.onnx [--version V] [--members K] [--hidden H] [--samples N] [--epochs E]
/// [--hard-share F] [--seed S]</c>: trains the cloud escalation model (docs/models.md, "The cloud escalation model")
/// and writes its ONNX file. The shipped model is this command's output with the defaults.
/// </summary>
public static class CloudModelCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "wh-model train-cloud-model --out FILE.onnx [--version V] [--members K] [--hidden H] [--samples N] [--epochs E] [--hard-share F] [--seed S]";

    /// <summary>Runs the command with parsed <c>--name value</c> options; 0 on success.</summary>
    /// <exception cref="ArgumentException">An option is missing or malformed (named).</exception>
    public static int Run(IReadOnlyDictionary<string, string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var known = new[] { "out", "version", "members", "hidden", "samples", "epochs", "hard-share", "seed" };
        if (options.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            throw new ArgumentException($"--{unknown} is not an option of train-cloud-model ({Usage})");
        }

        var output = options.TryGetValue("out", out var o) && o.Length > 0 ? o : throw new ArgumentException("--out is required");
        var defaults = new CloudModelSpec();
        var epochs = Int(options, "epochs", 15);
        var spec = defaults with
        {
            Version = options.GetValueOrDefault("version", defaults.Version),
            Members = Int(options, "members", defaults.Members),
            Hidden = Int(options, "hidden", defaults.Hidden),
            SamplesPerMember = Int(options, "samples", defaults.SamplesPerMember),
            HardShare = Share(options, "hard-share", defaults.HardShare),
            Seed = Int(options, "seed", defaults.Seed),
            Trainer = new Training.TrainerSettings(Epochs: epochs),
        };
        var model = CloudModelBuilder.Build(spec, Console.WriteLine);
        var directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllBytes(output, model.Onnx);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cloud model {spec.Version}: {spec.Members} x MLP 25-{spec.Hidden}-{spec.Hidden}, {model.Parameters} parameters (edge {model.EdgeParameters}), {model.HardRows} hard rows, data {model.TrainingDataDigest}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"holdout class accuracy: ordinary {model.General.ClassAccuracy:P2} (edge {model.EdgeGeneral.ClassAccuracy:P2}), edge-uncertain {model.Hard.ClassAccuracy:P2} (edge {model.EdgeHard.ClassAccuracy:P2}); action MAE ordinary {model.General.ActionMae:F4} (edge {model.EdgeGeneral.ActionMae:F4})"));
        Console.WriteLine($"wrote {output} ({model.Onnx.Length} bytes)");
        return 0;
    }

    private static int Int(IReadOnlyDictionary<string, string> o, string name, int fallback) =>
        !o.TryGetValue(name, out var v) ? fallback
        : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
        : throw new ArgumentException($"--{name}: '{v}' is not a positive integer");

    private static double Share(IReadOnlyDictionary<string, string> o, string name, double fallback) =>
        !o.TryGetValue(name, out var v) ? fallback
        : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x is >= 0 and <= 1 ? x
        : throw new ArgumentException($"--{name}: '{v}' is not a number in 0..1");
}
