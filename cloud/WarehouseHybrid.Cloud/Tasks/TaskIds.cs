using System.Globalization;
using WarehouseHybrid.Contracts.Topics;

namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>
/// Cluster-wide task ids: <c>{site}.{number}</c>, where the number is the site-local id the optimizer and the
/// robots' <c>TaskAssignment.task_id</c> use. Site ids never contain a dot, so the id names its site.
/// </summary>
public static class TaskIds
{
    /// <summary>The id of task <paramref name="number"/> of <paramref name="site"/>.</summary>
    public static string Format(string site, int number) => string.Create(CultureInfo.InvariantCulture, $"{site}.{number}");

    /// <summary>Splits an id; false when it is not <c>{valid site id}.{non-negative number}</c>.</summary>
    public static bool TryParse(string? id, out string site, out int number)
    {
        site = string.Empty;
        number = -1;
        if (string.IsNullOrEmpty(id))
        {
            return false;
        }

        var dot = id.LastIndexOf('.');
        if (dot <= 0 || dot == id.Length - 1
            || !int.TryParse(id.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out number)
            || !FleetTopics.IsValidId(id[..dot]))
        {
            number = -1;
            return false;
        }

        site = id[..dot];
        return true;
    }
}
