using System.Text.Json;

namespace WarehouseHybrid.Edge.Hosting;

/// <summary>
/// <c>WarehouseHybrid.Edge health [file]</c>: prints the daemon's health file and exits 0 when it is fresh and
/// healthy, 1 when degraded, stalled or stale, 2 when it cannot be read (for monitoring scripts and ExecStartPost).
/// </summary>
public static class HealthCommand
{
    /// <summary>A health file older than this counts as stale (the daemon writes it every check interval).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    /// <summary>Runs the command; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TimeProvider time, Func<string, string?>? getEnv = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(time);
        var path = args.Count > 0 ? args[0] : new DaemonOptions().ResolveHealthFile(getEnv) ?? "/var/lib/warehouse-edge/health.json";
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"health: cannot read {path}: {ex.Message}");
            return 2;
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            var at = root.GetProperty("time").GetDateTimeOffset();
            var healthy = root.GetProperty("healthy").GetBoolean();
            var status = root.GetProperty("status").GetString();
            var age = time.GetUtcNow() - at;
            output.WriteLine($"{(healthy ? "healthy" : "unhealthy")}: {status} (written {age.TotalSeconds:F1} s ago, {path})");
            return healthy && age <= MaxAge ? 0 : 1;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            output.WriteLine($"health: {path} is not a health file: {ex.Message}");
            return 2;
        }
    }
}
