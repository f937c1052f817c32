namespace WarehouseHybrid.Tests.Common;

/// <summary>Finds the repository root and the team kit's benchmark data (../shared/data beside the repo).</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The folder holding WarehouseHybrid.sln.</summary>
    public static string Root => RootLazy.Value;

    /// <summary>The team kit's data folder (../shared/data beside the repository).</summary>
    public static string KitData => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>A file under the kit's data folder.</summary>
    public static string Data(string relative) => Path.Combine(KitData, relative);

    private static string FindRoot()
    {
        var fromBuild = typeof(RepoPaths).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepoRoot")?.Value;
        if (fromBuild is not null && File.Exists(Path.Combine(fromBuild, "WarehouseHybrid.sln")))
        {
            return Path.GetFullPath(fromBuild);
        }

        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "WarehouseHybrid.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("WarehouseHybrid.sln not found above " + AppContext.BaseDirectory);
    }
}
