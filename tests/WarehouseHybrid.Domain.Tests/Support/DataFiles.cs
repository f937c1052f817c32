using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Domain.Tests.Support;

/// <summary>Enumerates the real benchmark files in ../shared/data.</summary>
internal static class DataFiles
{
    public static IEnumerable<string> Under(string folder, string pattern) =>
        Directory.EnumerateFiles(RepoPaths.Data(folder), pattern, SearchOption.AllDirectories)
            .OrderBy(p => p, StringComparer.Ordinal);

    /// <summary>Path relative to the data folder with '/' separators (for theory display names).</summary>
    public static string Relative(string fullPath) =>
        Path.GetRelativePath(RepoPaths.KitData, fullPath).Replace('\\', '/');

    public static string Full(string relative) => RepoPaths.Data(relative);
}
