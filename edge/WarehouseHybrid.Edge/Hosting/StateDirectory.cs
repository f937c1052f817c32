namespace WarehouseHybrid.Edge.Hosting;

/// <summary>The systemd state directory (<c>StateDirectory=</c> in the unit, passed as <c>$STATE_DIRECTORY</c>): where the daemon's files live by default.</summary>
public static class StateDirectory
{
    /// <summary>
    /// <paramref name="configured"/> when set; otherwise <paramref name="child"/> under <c>$STATE_DIRECTORY</c> (the first
    /// entry: systemd may pass several, colon-separated); null when neither exists.
    /// </summary>
    public static string? Resolve(string? configured, string child, Func<string, string?>? getEnv = null)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var state = (getEnv ?? Environment.GetEnvironmentVariable)("STATE_DIRECTORY");
        return string.IsNullOrWhiteSpace(state) ? null : Path.Combine(state.Split(':')[0], child);
    }
}
