using System.ComponentModel.DataAnnotations;
using System.Globalization;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Edge.Audit;
using WarehouseHybrid.Edge.Decision;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.Edge.Models;

namespace WarehouseHybrid.Edge.Runtime;

/// <summary>
/// Everything one robot's edge runtime needs to know, bound from the "Edge" configuration section
/// (appsettings.json, environment variables <c>Edge__RobotId</c>, command line <c>--Edge:RobotId</c>).
/// Validated at start-up (<see cref="EdgeOptionsValidator"/>); <see cref="EdgeRuntime"/> validates again.
/// </summary>
public sealed class EdgeOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Edge";

    /// <summary>This robot's id (1-64 of [A-Za-z0-9_-]).</summary>
    [Required]
    public string RobotId { get; set; } = string.Empty;

    /// <summary>The site (warehouse) id (1-64 of [A-Za-z0-9_-]).</summary>
    [Required]
    public string SiteId { get; set; } = string.Empty;

    /// <summary>MQTT broker host.</summary>
    [Required]
    public string MqttHost { get; set; } = "127.0.0.1";

    /// <summary>MQTT broker port.</summary>
    [Range(1, 65535)]
    public int MqttPort { get; set; } = 1883;

    /// <summary>Whether to connect to the broker at all (off for a robot driven only by the board, e.g. in bench tests).</summary>
    public bool CloudLinkEnabled { get; set; } = true;

    /// <summary>Serial device the daemon opens (the in-process demo passes a stream instead).</summary>
    public string SerialDevicePath { get; set; } = "/dev/ttyTHS1";

    /// <summary>Control loop rate, 50-100 Hz.</summary>
    [Range(50, 100)]
    public int ControlRateHz { get; set; } = 50;

    /// <summary>Map width in cells (turns cell ids into coordinates).</summary>
    [Range(1, 1_000_000)]
    public int MapWidth { get; set; } = 1;

    /// <summary>Map height in cells.</summary>
    [Range(1, 1_000_000)]
    public int MapHeight { get; set; } = 1;

    /// <summary>Cell edge length in metres.</summary>
    [Range(0.1, 100.0)]
    public double CellSizeMetres { get; set; } = 1.0;

    /// <summary>Start cell when known at boot; otherwise the first plan segment's start pose localises the robot.</summary>
    public int? StartCell { get; set; }

    /// <summary>Start heading when known at boot (the IMU heading is used for the continuous angle).</summary>
    public Heading? StartHeading { get; set; }

    /// <summary>Top forward speed, m/s.</summary>
    [Range(0.01, 5.0)]
    public double MaxLinearMps { get; set; } = 1.0;

    /// <summary>Top yaw rate, rad/s.</summary>
    [Range(0.01, 10.0)]
    public double MaxAngularRadps { get; set; } = 2.0;

    /// <summary>Planned linear acceleration (and deceleration) of the speed profile, m/s^2; at most <see cref="BrakeDecel"/>.</summary>
    [Range(0.01, 10.0)]
    public double LinearAccel { get; set; } = 1.0;

    /// <summary>Planned angular acceleration, rad/s^2.</summary>
    [Range(0.01, 50.0)]
    public double AngularAccel { get; set; } = 4.0;

    /// <summary>Deceleration the brakes guarantee, m/s^2 (the shield's stopping-distance model).</summary>
    [Range(0.01, 20.0)]
    public double BrakeDecel { get; set; } = 1.5;

    /// <summary>
    /// Radius of the robot's body around the range sensor, metres. The range sensor sits at the body's centre, so an echo
    /// at this range already touches the bumper; <see cref="SafetyMarginMetres"/> and <see cref="RobotHalfWidthMetres"/>
    /// are checked against it at start.
    /// </summary>
    [Range(0.05, 2.0)]
    public double BodyRadiusMetres { get; set; } = 0.3;

    /// <summary>
    /// Distance kept free beyond the braking distance, metres, measured from the range sensor (the body's centre), so it
    /// includes <see cref="BodyRadiusMetres"/>: the default is the 0.3 m body plus 0.15 m clearance. At least
    /// <see cref="MinimumSafetyMarginMetres"/>.
    /// </summary>
    [Range(0.0, 5.0)]
    public double SafetyMarginMetres { get; set; } = 0.45;

    /// <summary>
    /// The smallest safe <see cref="SafetyMarginMetres"/>: the body radius plus the distance covered at top speed in
    /// <see cref="BrakeLatencyPeriods"/> control periods (a brake takes effect up to that late after the echo arrives).
    /// </summary>
    public double MinimumSafetyMarginMetres => BodyRadiusMetres + (MaxLinearMps * BrakeLatencyPeriods / ControlRateHz);

    /// <summary>Control periods between a dangerous echo and the brake command (the latency target is under 2 ticks).</summary>
    public const int BrakeLatencyPeriods = 2;

    /// <summary>Half the robot's width plus clearance: beams hitting closer to the path than this count as in the way. At least <see cref="BodyRadiusMetres"/>.</summary>
    [Range(0.05, 2.0)]
    public double RobotHalfWidthMetres { get; set; } = 0.35;

    /// <summary>Distance ahead at which the rule policy starts slowing for obstacles, metres.</summary>
    [Range(0.1, 20.0)]
    public double ObstacleSlowdownMetres { get; set; } = 1.5;

    /// <summary>How close to the target cell centre a step counts as reached, metres.</summary>
    [Range(0.001, 1.0)]
    public double PositionTolerance { get; set; } = 0.05;

    /// <summary>How close to the target heading a step counts as reached, radians.</summary>
    [Range(0.001, 1.0)]
    public double AngleTolerance { get; set; } = 0.05;

    /// <summary>Below this measured speed (m/s) the robot counts as at rest.</summary>
    [Range(0.0001, 1.0)]
    public double RestLinearMps { get; set; } = 0.03;

    /// <summary>Below this measured yaw rate (rad/s) the robot counts as at rest.</summary>
    [Range(0.0001, 1.0)]
    public double RestAngularRadps { get; set; } = 0.08;

    /// <summary>Sensor frames older than this stop the robot.</summary>
    public TimeSpan SensorStaleAfter { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Periodic telemetry rate, Hz (steps completed are published at once as well).</summary>
    [Range(0.1, 100.0)]
    public double TelemetryRateHz { get; set; } = 5.0;

    /// <summary>Board-side watchdog: the board stops if no newer command arrives within this many ms.</summary>
    [Range(20, 5000)]
    public int BoardCommandTimeoutMs { get; set; } = 200;

    /// <summary>Longest wait for threads and the broker at shutdown.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>First reconnect delay (exponential backoff with jitter after that).</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest reconnect delay.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Directory of the signed learned-policy package installed at start (docs/models.md); null or empty: no
    /// model, the rule policy drives alone. A package that fails verification or its self-test is logged with the
    /// reason and the rule policy drives; it never fails the start.
    /// </summary>
    public string? ModelPackagePath { get; set; }

    /// <summary>
    /// Public keys (P-256) a model package's signature must verify against: each entry is either the PEM text
    /// ("-----BEGIN PUBLIC KEY-----...") or the path of a PEM file.
    /// </summary>
    public IList<string> TrustedModelKeys { get; set; } = [];

    /// <summary>
    /// ONNX Runtime execution providers to try in order ("TensorRT", "CUDA", "CPU", case-insensitive), each
    /// self-tested at start; CPU is always the final fallback. Null or empty means ["CPU"].
    /// (Null by default because the configuration binder appends to a non-empty default list.)
    /// </summary>
    public IList<string>? ExecutionProviders { get; set; }

    /// <summary>Per-tick inference deadline: a later result is discarded and the rule policy acts.</summary>
    public TimeSpan InferenceDeadline { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Runtime-assurance thresholds around the learned policy (confidence bands, drift, recovery, escalation SLO).</summary>
    public RuntimeAssuranceOptions RuntimeAssurance { get; set; } = new();

    /// <summary>The MQTT link: state directory (outbox, bdSeq), mutual TLS, fsync policy, Sparkplug (section <c>Edge:Link</c>).</summary>
    public Link.CloudLinkOptions Link { get; set; } = new();
    // ---- Audit, site staleness and run-time model rollout (docs/adr/0009-edge-audit-metrics.md) ----

    /// <summary>The hash-chained audit log (directory, rotation, disk bound, decision sampling).</summary>
    public AuditOptions Audit { get; set; } = new();

    /// <summary>How long a lost site sensor connection may stay lost before its facts count as stale (missing since start: stale at once).</summary>
    public TimeSpan SiteStaleAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Speed cap while the site sensors are configured but stale or missing, m/s (an engaged site e-stop keeps braking).</summary>
    public double SiteStaleSpeedLimitMps { get; set; } = Control.SafetyShield.DefaultSiteStaleSpeedLimitMps;

    /// <summary>Probation and self-test rules for models installed at run time.</summary>
    public ModelRolloutOptions ModelRollout { get; set; } = new();

    /// <summary>
    /// The model store with its drop directory (<c>incoming/</c>); empty: <c>$STATE_DIRECTORY/models</c> under systemd, else
    /// no run-time rollout. Used only when trusted model keys are configured.
    /// </summary>
    public string ModelStoreDirectory { get; set; } = string.Empty;

    /// <summary>How often the drop directory is scanned.</summary>
    public TimeSpan ModelStorePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The model store directory after applying the systemd default; null when there is none.</summary>
    public string? ResolveModelStore(Func<string, string?>? getEnv = null) => Hosting.StateDirectory.Resolve(ModelStoreDirectory, "models", getEnv);

    /// <summary>The configured execution providers parsed, in order (["CPU"] when none are configured).</summary>
    /// <exception cref="ArgumentException">A name is not a known provider (see <see cref="Validate"/>).</exception>
    public IReadOnlyList<ExecutionProviderKind> ParsedExecutionProviders()
    {
        if (ExecutionProviders is not { Count: > 0 } names)
        {
            return [ExecutionProviderKind.Cpu];
        }

        var kinds = new List<ExecutionProviderKind>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            kinds.Add(ParseProvider(names[i])
                ?? throw new ArgumentException($"Edge:ExecutionProviders:{i}: '{names[i]}' is not one of TensorRT, CUDA, CPU", nameof(ExecutionProviders)));
        }

        return kinds;
    }

    /// <summary>The trusted keys as PEM text, reading the entries that are file paths.</summary>
    /// <exception cref="ArgumentException">A key file cannot be read (names the entry and the path).</exception>
    public IReadOnlyList<string> ResolveTrustedModelKeys()
    {
        var keys = new List<string>(TrustedModelKeys.Count);
        for (var i = 0; i < TrustedModelKeys.Count; i++)
        {
            var entry = TrustedModelKeys[i];
            if (IsPem(entry))
            {
                keys.Add(entry);
                continue;
            }

            try
            {
                keys.Add(File.ReadAllText(entry));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new ArgumentException($"Edge:TrustedModelKeys:{i}: cannot read key file '{entry}': {ex.Message}", nameof(TrustedModelKeys), ex);
            }
        }

        return keys;
    }

    /// <summary>The control period.</summary>
    public TimeSpan ControlPeriod => TimeSpan.FromSeconds(1.0 / ControlRateHz);

    /// <summary>The geometry of the grid.</summary>
    public GridGeometry Geometry => new(CellSizeMetres);

    /// <summary>A copy (the runtime keeps its own so later edits by the caller do not leak in).</summary>
    public EdgeOptions Clone()
    {
        var copy = (EdgeOptions)MemberwiseClone();
        copy.TrustedModelKeys = [.. TrustedModelKeys];
        copy.ExecutionProviders = ExecutionProviders is null ? null : [.. ExecutionProviders];
        copy.Link = (Link ?? new Link.CloudLinkOptions()).Clone();
        copy.Audit = Audit?.Clone() ?? new AuditOptions();
        return copy;
    }

    /// <summary>
    /// Every problem with these options, each naming the option and the bad value; empty when valid.
    /// Covers the data-annotation ranges and the rules between options.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
        {
            foreach (var r in results)
            {
                errors.Add($"Edge:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}");
            }
        }

        if (!FleetTopics.IsValidId(RobotId))
        {
            errors.Add($"Edge:RobotId: '{RobotId}' must be 1-64 of [A-Za-z0-9_-]");
        }

        if (!FleetTopics.IsValidId(SiteId))
        {
            errors.Add($"Edge:SiteId: '{SiteId}' must be 1-64 of [A-Za-z0-9_-]");
        }

        if ((long)MapWidth * MapHeight > int.MaxValue)
        {
            errors.Add($"Edge:MapWidth/MapHeight: {MapWidth}x{MapHeight} cells do not fit a cell id");
        }

        if (StartCell is { } cell && (cell < 0 || cell >= (long)MapWidth * MapHeight))
        {
            errors.Add($"Edge:StartCell: {cell} is outside the {MapWidth}x{MapHeight} map");
        }

        if (StartCell.HasValue != StartHeading.HasValue)
        {
            errors.Add("Edge:StartCell/StartHeading: give both or neither");
        }

        if (StartHeading is { } h && (byte)h > 3)
        {
            errors.Add($"Edge:StartHeading: {(byte)h} is not a heading 0..3");
        }

        ValidateClearance(errors);
        if (LinearAccel > BrakeDecel)
        {
            errors.Add($"Edge:LinearAccel: {LinearAccel} m/s^2 must not exceed BrakeDecel {BrakeDecel} m/s^2 (the profile must stop within the shield's envelope)");
        }

        if (SensorStaleAfter <= TimeSpan.Zero || SensorStaleAfter > TimeSpan.FromSeconds(10))
        {
            errors.Add($"Edge:SensorStaleAfter: {SensorStaleAfter} must be in (0, 10 s]");
        }

        if (ShutdownTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Edge:ShutdownTimeout: {ShutdownTimeout} must be positive");
        }

        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
        {
            errors.Add($"Edge:ReconnectDelay/MaxReconnectDelay: {ReconnectDelay}/{MaxReconnectDelay} must be positive and ordered");
        }

        ValidateModel(errors);
        if (CloudLinkEnabled)
        {
            errors.AddRange((Link ?? new Link.CloudLinkOptions()).Validate(TimeProvider.System));
        }

        ValidateAuditAndRollout(errors);
        return errors;
    }

    private void ValidateAuditAndRollout(List<string> errors)
    {
        if (Audit is null)
        {
            errors.Add("Edge:Audit: must not be null");
        }
        else
        {
            errors.AddRange(Audit.Validate());
        }

        if (SiteStaleAfter <= TimeSpan.Zero || SiteStaleAfter > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Edge:SiteStaleAfter: {SiteStaleAfter} must be in (0, 10 min]");
        }

        if (!(SiteStaleSpeedLimitMps >= 0 && SiteStaleSpeedLimitMps <= MaxLinearMps))
        {
            errors.Add($"Edge:SiteStaleSpeedLimitMps: {SiteStaleSpeedLimitMps} must be in [0, MaxLinearMps {MaxLinearMps}]");
        }

        if (ModelRollout is null)
        {
            errors.Add("Edge:ModelRollout: must not be null");
        }
        else
        {
            errors.AddRange(ModelRollout.Validate());
        }

        if (!string.IsNullOrWhiteSpace(ModelStoreDirectory) && (ModelStoreDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || !Path.IsPathFullyQualified(ModelStoreDirectory)))
        {
            errors.Add($"Edge:ModelStoreDirectory: '{ModelStoreDirectory}' must be an absolute path");
        }

        if (ModelStorePollInterval < TimeSpan.FromMilliseconds(10) || ModelStorePollInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Edge:ModelStorePollInterval: {ModelStorePollInterval} must be in [10 ms, 10 min]");
        }
    }

    private void ValidateClearance(List<string> errors)
    {
        // The shield measures free distance from the range sensor at the body's centre: a margin below the body radius
        // (the old 0.25 m default against a 0.3 m body) lets the bumper touch what the shield stops for.
        if (SafetyMarginMetres < MinimumSafetyMarginMetres)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"Edge:SafetyMarginMetres: {SafetyMarginMetres} m is below the safe minimum {MinimumSafetyMarginMetres:0.###} m (it is measured from the range sensor at the centre: Edge:BodyRadiusMetres {BodyRadiusMetres} m plus {BrakeLatencyPeriods} control periods at Edge:MaxLinearMps {MaxLinearMps} m/s)"));
        }

        if (RobotHalfWidthMetres < BodyRadiusMetres)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"Edge:RobotHalfWidthMetres: {RobotHalfWidthMetres} m is narrower than the body (Edge:BodyRadiusMetres {BodyRadiusMetres} m): obstacles that would hit its side would not count as in the way"));
        }
    }

    private static bool IsPem(string entry) => entry.TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal);

    private static ExecutionProviderKind? ParseProvider(string? name) => name?.Trim().ToUpperInvariant() switch
    {
        "CPU" => ExecutionProviderKind.Cpu,
        "CUDA" => ExecutionProviderKind.Cuda,
        "TENSORRT" => ExecutionProviderKind.TensorRT,
        _ => null,
    };

    private void ValidateModel(List<string> errors)
    {
        if (ModelPackagePath is { Length: > 0 } path && path.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            errors.Add($"Edge:ModelPackagePath: '{path}' is not a valid path");
        }

        if (TrustedModelKeys is null)
        {
            errors.Add("Edge:TrustedModelKeys: must be a list (empty for none)");
        }
        else
        {
            for (var i = 0; i < TrustedModelKeys.Count; i++)
            {
                var entry = TrustedModelKeys[i];
                if (string.IsNullOrWhiteSpace(entry))
                {
                    errors.Add($"Edge:TrustedModelKeys:{i}: empty; give PEM text or the path of a PEM file");
                }
                else if (!IsPem(entry) && !File.Exists(entry))
                {
                    errors.Add($"Edge:TrustedModelKeys:{i}: key file '{entry}' does not exist");
                }
            }
        }

        if (ExecutionProviders is { } names)
        {
            for (var i = 0; i < names.Count; i++)
            {
                if (ParseProvider(names[i]) is null)
                {
                    errors.Add($"Edge:ExecutionProviders:{i}: '{names[i]}' is not one of TensorRT, CUDA, CPU");
                }
            }
        }

        if (InferenceDeadline <= TimeSpan.Zero || InferenceDeadline > TimeSpan.FromSeconds(1))
        {
            errors.Add($"Edge:InferenceDeadline: {InferenceDeadline} must be in (0, 1 s]");
        }

        if (RuntimeAssurance is null)
        {
            errors.Add("Edge:RuntimeAssurance: must not be null");
        }
        else
        {
            foreach (var e in RuntimeAssurance.Validate())
            {
                errors.Add("Edge:RuntimeAssurance:" + (e.StartsWith("LearnedPolicy:", StringComparison.Ordinal) ? e["LearnedPolicy:".Length..] : e));
            }
        }
    }
}
