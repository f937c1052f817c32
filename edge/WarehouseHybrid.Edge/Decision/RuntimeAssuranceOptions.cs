namespace WarehouseHybrid.Edge.Decision;

/// <summary>Thresholds of the runtime-assurance decision module (section "LearnedPolicy" of the edge config).</summary>
public sealed class RuntimeAssuranceOptions
{
    /// <summary>At or above this confidence the learned proposal is accepted.</summary>
    public double AcceptConfidence { get; init; } = 0.85;

    /// <summary>Below this confidence the rule policy acts at once; between this and <see cref="AcceptConfidence"/> is the uncertain band that escalates.</summary>
    public double EscalateConfidence { get; init; } = 0.6;

    /// <summary>Speed factor applied to the rule proposal while an escalation is pending (0 holds).</summary>
    public double UncertainSpeedFactor { get; init; } = 0.3;

    /// <summary>How long the cloud has to answer an escalation before the deterministic fallback decides.</summary>
    public TimeSpan EscalationSlo { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>How long a cloud answer stays valid for the same uncertain episode.</summary>
    public TimeSpan AdviceValidFor { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>After a timeout, how long before the same episode escalates again.</summary>
    public TimeSpan EscalationCooldown { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Ticks in the drift monitor's sliding window.</summary>
    public int DriftWindow { get; init; } = 200;

    /// <summary>A feature whose window mean is more than this many training standard deviations from the training mean is drifting.</summary>
    public double DriftZThreshold { get; init; } = 3.0;

    /// <summary>Consecutive acceptable ticks needed before the learned policy drives again after a fallback (no flapping).</summary>
    public int RecoveryTicks { get; init; } = 10;

    /// <summary>Ticks in the PSI window (population stability index per feature against the manifest's training histograms); 0: no PSI.</summary>
    public int PsiWindow { get; init; } = 3000;

    /// <summary>A feature's PSI above this raises a psi-alert event (cleared under 80 % of it); 0.25 is the usual "significant shift".</summary>
    public double PsiAlertThreshold { get; init; } = 0.25;

    /// <summary>Errors, each naming the option and the bad value.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(AcceptConfidence > 0 && AcceptConfidence <= 1))
        {
            errors.Add($"LearnedPolicy:AcceptConfidence: {AcceptConfidence} must be in (0, 1]");
        }

        if (!(EscalateConfidence >= 0 && EscalateConfidence <= AcceptConfidence))
        {
            errors.Add($"LearnedPolicy:EscalateConfidence: {EscalateConfidence} must be in [0, AcceptConfidence {AcceptConfidence}]");
        }

        if (!(UncertainSpeedFactor >= 0 && UncertainSpeedFactor <= 1))
        {
            errors.Add($"LearnedPolicy:UncertainSpeedFactor: {UncertainSpeedFactor} must be in [0, 1]");
        }

        if (EscalationSlo <= TimeSpan.Zero)
        {
            errors.Add($"LearnedPolicy:EscalationSlo: {EscalationSlo} must be positive");
        }

        if (AdviceValidFor <= TimeSpan.Zero)
        {
            errors.Add($"LearnedPolicy:AdviceValidFor: {AdviceValidFor} must be positive");
        }

        if (EscalationCooldown < TimeSpan.Zero)
        {
            errors.Add($"LearnedPolicy:EscalationCooldown: {EscalationCooldown} must not be negative");
        }

        if (DriftWindow < 2 || DriftWindow > 100_000)
        {
            errors.Add($"LearnedPolicy:DriftWindow: {DriftWindow} must be in [2, 100000]");
        }

        if (!(DriftZThreshold > 0))
        {
            errors.Add($"LearnedPolicy:DriftZThreshold: {DriftZThreshold} must be positive");
        }

        if (RecoveryTicks < 0)
        {
            errors.Add($"LearnedPolicy:RecoveryTicks: {RecoveryTicks} must not be negative");
        }

        if (PsiWindow != 0 && (PsiWindow < 10 || PsiWindow > 1_000_000))
        {
            errors.Add($"LearnedPolicy:PsiWindow: {PsiWindow} must be 0 (off) or in [10, 1000000]");
        }

        if (!(PsiAlertThreshold > 0))
        {
            errors.Add($"LearnedPolicy:PsiAlertThreshold: {PsiAlertThreshold} must be positive");
        }

        return errors;
    }
}
