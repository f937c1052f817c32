using System.Globalization;
using System.Reflection;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>
/// Applies <c>Name=Value</c> settings (the bench's <c>--planner-option</c>) to a
/// <see cref="PlannerOptions"/>: any public settable number, flag or enum property, by its name
/// (case-insensitive). Lets a HIL engineer try planner settings without a rebuild.
/// </summary>
public static class PlannerOptionSetter
{
    /// <summary>Applies every setting; returns the first problem (naming the setting), or null.</summary>
    public static string? TryApply(PlannerOptions options, IEnumerable<string> settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var setting in settings)
        {
            var eq = setting.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return $"--planner-option '{setting}': expected Name=Value";
            }

            var name = setting[..eq].Trim();
            var text = setting[(eq + 1)..].Trim();
            var prop = typeof(PlannerOptions).GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (prop is null || !prop.CanWrite)
            {
                return $"--planner-option '{setting}': PlannerOptions has no settable property '{name}'";
            }

            var type = Nullable.GetUnderlyingType(prop.PropertyType) ?? prop.PropertyType;
            object? value;
            try
            {
                value = type.IsEnum
                    ? Enum.Parse(type, text, ignoreCase: true)
                    : type == typeof(bool) || type == typeof(int) || type == typeof(long) || type == typeof(double)
                        ? Convert.ChangeType(text, type, CultureInfo.InvariantCulture)
                        : null;
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
            {
                return $"--planner-option '{setting}': '{text}' is not a valid {type.Name}";
            }

            if (value is null)
            {
                return $"--planner-option '{setting}': property '{prop.Name}' of type {type.Name} cannot be set from the command line";
            }

            prop.SetValue(options, value);
        }

        return null;
    }
}
