namespace WarehouseHybrid.Cloud.Escalation;

/// <summary>The cloud escalation model (configuration section <c>Cloud:Escalation</c>).</summary>
public sealed class EscalationOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cloud:Escalation";

    /// <summary>The default model file, beside the silo's assembly (trained by <c>wh-model train-cloud-model</c>).</summary>
    public const string DefaultModelFile = "Escalation/Model/cloud-escalation.onnx";

    /// <summary>Whether the silo answers escalations with its model (off: no opinion, the edge's fallback decides).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The ONNX model; relative paths are taken from the silo's base directory.</summary>
    public string ModelPath { get; set; } = DefaultModelFile;

    /// <summary>An answer that takes longer than this is not sent (the edge has fallen back by then).</summary>
    public TimeSpan Slo { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The robots' top forward speed: the model's action is a fraction of it.</summary>
    public double MaxLinearMps { get; set; } = 1.0;

    /// <summary>Speed limit advised when the model sees an obstacle ahead.</summary>
    public double ObstacleSpeedMps { get; set; } = 0.2;

    /// <summary>Below this confidence the advice is to hold (speed limit 0): the cloud is not sure either.</summary>
    public double MinConfidence { get; set; } = 0.6;

    /// <summary>Intra-op threads of the inference session (1: answers are single rows; the silo's threads are the parallelism).</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>The model path made absolute.</summary>
    public string ResolvedModelPath => Path.IsPathRooted(ModelPath) ? ModelPath : Path.Combine(AppContext.BaseDirectory, ModelPath);

    /// <summary>Null when valid, else what is wrong (naming the setting).</summary>
    public string? Check()
    {
        if (!Enabled)
        {
            return null;
        }

        if (!File.Exists(ResolvedModelPath))
        {
            return $"Escalation.ModelPath '{ResolvedModelPath}' does not exist (train it with wh-model train-cloud-model, or set Cloud:Escalation:Enabled=false)";
        }

        if (Slo <= TimeSpan.Zero || Slo > TimeSpan.FromSeconds(5))
        {
            return $"Escalation.Slo must be more than 0 and at most 5 s, got {Slo}";
        }

        if (!(MaxLinearMps > 0) || double.IsInfinity(MaxLinearMps) || ObstacleSpeedMps < 0 || !(ObstacleSpeedMps <= MaxLinearMps))
        {
            return $"Escalation: MaxLinearMps ({MaxLinearMps}) must be positive and ObstacleSpeedMps ({ObstacleSpeedMps}) within 0..MaxLinearMps";
        }

        if (double.IsNaN(MinConfidence) || MinConfidence is < 0 or > 1)
        {
            return $"Escalation.MinConfidence must be 0..1, got {MinConfidence}";
        }

        return IntraOpThreads is < 1 or > 64 ? $"Escalation.IntraOpThreads must be 1-64, got {IntraOpThreads}" : null;
    }
}
