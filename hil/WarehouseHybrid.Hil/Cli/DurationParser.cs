using System.Globalization;

namespace WarehouseHybrid.Hil.Cli;

/// <summary>Parses durations given on the command line: "30", "30s", "1500ms", "2m", "1h" or "hh:mm:ss".</summary>
public static class DurationParser
{
    /// <summary>Parses a duration or returns an error message naming the bad text.</summary>
    public static bool TryParse(string text, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        var t = text.Trim();
        double scale;
        string number;
        if (t.EndsWith("ms", StringComparison.OrdinalIgnoreCase)) { scale = 0.001; number = t[..^2]; }
        else if (t.EndsWith('s') || t.EndsWith('S')) { scale = 1; number = t[..^1]; }
        else if (t.EndsWith('m') || t.EndsWith('M')) { scale = 60; number = t[..^1]; }
        else if (t.EndsWith('h') || t.EndsWith('H')) { scale = 3600; number = t[..^1]; }
        else if (t.Contains(':', StringComparison.Ordinal))
        {
            if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out value) && value > TimeSpan.Zero)
            {
                return true;
            }

            error = $"'{text}' is not a duration (try 30s, 2m or 00:01:30)";
            return false;
        }
        else { scale = 1; number = t; }

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0 || double.IsInfinity(n) || n * scale > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            error = $"'{text}' is not a positive duration (try 30s, 1500ms, 2m or 00:01:30)";
            return false;
        }

        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }
}
